#include "cppformers/ops/reduce.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

TEST(Reduce, SumOverDimsMatchesLoops) {
  Tensor x = rnd({2, 3, 4}, 1, -1, 1, false);
  auto v = dvals(x);
  auto at3 = [&](int i, int j, int k) { return v[(i * 3 + j) * 4 + k]; };
  // dim 1
  Tensor s1 = ops::sum(x, {1});
  ASSERT_EQ(s1.shape(), (Shape{2, 4}));
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k)
      EXPECT_NEAR(at(s1, i * 4 + k), at3(i, 0, k) + at3(i, 1, k) + at3(i, 2, k), 1e-6);
  EXPECT_EQ(ops::sum(x, {1}, true).shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(dvals(ops::sum(x, {-2}, true)), dvals(ops::sum(x, {1}, true)));
  // dims {0, 2}, both orders and negatives
  Tensor s02 = ops::sum(x, {2, 0});
  ASSERT_EQ(s02.shape(), (Shape{3}));
  for (int j = 0; j < 3; ++j) {
    double want = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) want += at3(i, j, k);
    EXPECT_NEAR(at(s02, j), want, 1e-5);
  }
  EXPECT_EQ(ops::sum(x, {0, -1}, true).shape(), (Shape{1, 3, 1}));
  // everything
  double total = 0;
  for (double d : v) total += d;
  Tensor all = ops::sum(x);
  EXPECT_EQ(all.dim(), 0);
  EXPECT_NEAR(all.item(), total, 1e-5);
  EXPECT_EQ(ops::sum(x, {}, true).shape(), (Shape{1, 1, 1}));
  // a 0-d tensor, a non-contiguous input, an empty dim
  EXPECT_EQ(ops::sum(Tensor::scalar(2.5)).item(), 2.5);
  Tensor xt = x.transpose(0, 2);  // [4, 3, 2]
  EXPECT_NEAR(at(ops::sum(xt, {2}), 1 * 3 + 2), at3(0, 2, 1) + at3(1, 2, 1), 1e-6);
  EXPECT_EQ(vals(ops::sum(Tensor::zeros({3, 0}), {1})), std::vector<float>(3, 0.0f));
  EXPECT_THROW(ops::sum(x, {3}), ValueError);
  EXPECT_THROW(ops::sum(x, {-4}), ValueError);
}

TEST(Reduce, IntegerSumStaysInt64AndMeanIsFloat) {
  Tensor i = Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor s = ops::sum(i, {1});
  EXPECT_EQ(s.dtype(), kI64);
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{6, 15}));
  Tensor big = Tensor::full({3}, double(int64_t(1) << 60), kI64);
  EXPECT_EQ(ops::sum(big).to_vector<int64_t>()[0], int64_t(3) << 60);
  Tensor m = ops::mean(i, {0});
  EXPECT_EQ(m.dtype(), kF32);
  EXPECT_EQ(vals(m), (std::vector<float>{2.5f, 3.5f, 4.5f}));
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_FLOAT_EQ(float(ops::mean(x).item()), 3.5f);
  EXPECT_EQ(vals(ops::mean(x, {-1}, true)), (std::vector<float>{2, 5}));
  EXPECT_EQ(ops::mean(x, {-1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(vals(ops::mean(x, {0, 1})), (std::vector<float>{3.5f}));
}

TEST(Reduce, SumAccumulatesAccurately) {
  // 1e6 copies of 0.1 summed naively in float would drift by ~1e-2 relative
  Tensor x = Tensor::full({1000000}, 0.1);
  EXPECT_NEAR(ops::sum(x).item(), 100000.0, 1.0);
}

TEST(Reduce, AmaxArgmax) {
  Tensor x = Tensor::from_vector<float>({1, 5, 5, -2, 0, 3, 7, 7, 1}, {3, 3});
  EXPECT_EQ(vals(ops::amax(x, 1)), (std::vector<float>{5, 3, 7}));
  EXPECT_EQ(vals(ops::amax(x, 0)), (std::vector<float>{7, 7, 5}));
  EXPECT_EQ(ops::amax(x, -1, true).shape(), (Shape{3, 1}));
  Tensor am = ops::argmax(x, 1);
  EXPECT_EQ(am.dtype(), kI64);
  EXPECT_EQ(am.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0}));  // ties: the first
  EXPECT_EQ(ops::argmax(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{2, 2, 0}));
  EXPECT_EQ(ops::argmax(x, 0, true).shape(), (Shape{1, 3}));
  Tensor n = Tensor::from_vector<float>({1, NAN, 3}, {3});
  EXPECT_EQ(ops::argmax(n, 0).to_vector<int64_t>()[0], 1);  // nan wins, as in torch
  Tensor ints = Tensor::from_vector<int64_t>({3, 9, 2}, {3});
  EXPECT_EQ(ops::argmax(ints, 0).item(), 1);
  // random data against a loop, non-last dim
  Tensor r = rnd({4, 6, 5}, 3, -1, 1, false);
  auto v = vals(r);
  auto a1 = ops::argmax(r, 1).to_vector<int64_t>();
  auto m1 = vals(ops::amax(r, 1));
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 5; ++k) {
      int best = 0;
      for (int j = 1; j < 6; ++j)
        if (v[(i * 6 + j) * 5 + k] > v[(i * 6 + best) * 5 + k]) best = j;
      EXPECT_EQ(a1[i * 5 + k], best);
      EXPECT_EQ(m1[i * 5 + k], v[(i * 6 + best) * 5 + k]);
    }
  EXPECT_THROW(ops::amax(Tensor::zeros({2, 0}), 1), ValueError);
}

TEST(Reduce, Cumsum) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(vals(ops::cumsum(x, 1)), (std::vector<float>{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(vals(ops::cumsum(x, 0)), (std::vector<float>{1, 2, 3, 5, 7, 9}));
  EXPECT_EQ(vals(ops::cumsum(x, -1)), vals(ops::cumsum(x, 1)));
  Tensor i = Tensor::from_vector<int64_t>({1, 1, 0, 1}, {4});  // e.g. position ids from a mask
  Tensor ci = ops::cumsum(i, 0);
  EXPECT_EQ(ci.dtype(), kI64);
  EXPECT_EQ(ci.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 2, 3}));
  EXPECT_EQ(ops::cumsum(x.transpose(0, 1), 1).to_vector<float>(), (std::vector<float>{1, 5, 2, 7, 3, 9}));
}

TEST(Reduce, SumTo) {
  Tensor g = rnd({2, 3, 4}, 5, -1, 1, false);
  EXPECT_EQ(ops::sum_to(g, {3, 1}).shape(), (Shape{3, 1}));
  EXPECT_EQ(dvals(ops::sum_to(g, {3, 1})), dvals(ops::sum(g, {0, 2}, true).reshape({3, 1})));
  EXPECT_EQ(ops::sum_to(g, {}).shape(), (Shape{}));
  EXPECT_NEAR(ops::sum_to(g, {}).item(), ops::sum(g).item(), 1e-6);
  EXPECT_TRUE(ops::sum_to(g, {2, 3, 4}).same(g));
}

TEST(ReduceGrad, SumMean) {
  Tensor x = rnd({2, 3, 4}, 10);
  for (bool keep : {false, true}) {
    for (std::vector<int64_t> dims : std::vector<std::vector<int64_t>>{{}, {0}, {1}, {-1}, {0, 2}, {2, 1, 0}}) {
      EXPECT_GRAD([dims, keep](const V& in) { return ops::sum(in[0], dims, keep); }, {x});
      EXPECT_GRAD([dims, keep](const V& in) { return ops::mean(in[0], dims, keep); }, {x});
    }
  }
  Tensor s = rnd({}, 11);
  EXPECT_GRAD([](const V& in) { return ops::sum(in[0]) * in[0]; }, {s});
  EXPECT_GRAD([](const V& in) { return ops::sum(in[0].transpose(0, 2), {1}); }, {x});
}

TEST(ReduceGrad, AmaxCumsum) {
  Tensor x = distinct({3, 4, 5}, 20);  // no ties, nor near ties
  for (int64_t dim : {0, 1, -1})
    for (bool keep : {false, true})
      EXPECT_GRAD([dim, keep](const V& in) { return ops::amax(in[0], dim, keep); }, {x});
  for (int64_t dim : {0, 1, 2, -1})
    EXPECT_GRAD([dim](const V& in) { return ops::cumsum(in[0], dim); }, {x});
  Tensor v = distinct({6}, 21);
  EXPECT_GRAD([](const V& in) { return ops::amax(in[0], 0); }, {v});
  EXPECT_GRAD([](const V& in) { return ops::cumsum(in[0], 0); }, {v});
}

}  // namespace
}  // namespace cppformers
