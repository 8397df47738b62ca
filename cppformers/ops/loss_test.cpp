#include "cppformers/ops/loss.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

double naive_ce(const std::vector<double>& x, int64_t C, const std::vector<int64_t>& t, int64_t ignore) {
  double total = 0;
  int64_t count = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == ignore) continue;
    double m = -INFINITY, z = 0;
    for (int64_t c = 0; c < C; ++c) m = std::max(m, x[i * C + c]);
    for (int64_t c = 0; c < C; ++c) z += std::exp(x[i * C + c] - m);
    total += -(x[i * C + t[i]] - m - std::log(z));
    ++count;
  }
  return count ? total / double(count) : NAN;
}

TEST(CrossEntropy, MatchesNaive) {
  Tensor x = rnd({6, 5}, 1, -4, 4, false);
  std::vector<int64_t> t{0, 4, 2, 2, 1, 3};
  Tensor target = Tensor::from_vector<int64_t>(t, {6});
  Tensor loss = ops::cross_entropy(x, target);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_EQ(loss.dtype(), kF32);
  EXPECT_NEAR(loss.item(), naive_ce(dvals(x), 5, t, -100), 1e-5);
  // ignore_index (the default -100, and a custom one)
  std::vector<int64_t> ti{0, -100, 2, -100, 1, 3};
  EXPECT_NEAR(ops::cross_entropy(x, Tensor::from_vector<int64_t>(ti, {6})).item(), naive_ce(dvals(x), 5, ti, -100), 1e-5);
  std::vector<int64_t> tj{0, 4, 2, 4, 1, 3};
  EXPECT_NEAR(ops::cross_entropy(x, Tensor::from_vector<int64_t>(tj, {6}), 4).item(), naive_ce(dvals(x), 5, tj, 4), 1e-5);
  // known value: uniform logits give log(C)
  EXPECT_NEAR(ops::cross_entropy(Tensor::zeros({2, 7}), Tensor::from_vector<int64_t>({3, 6}, {2})).item(), std::log(7.0), 1e-6);
  // large logits stay finite
  Tensor big = Tensor::from_vector<float>({1000, 1000, -1000, 0}, {2, 2});
  EXPECT_NEAR(ops::cross_entropy(big, Tensor::from_vector<int64_t>({0, 1}, {2})).item(), std::log(2.0) / 2, 1e-5);
  // every row ignored: nan, as torch
  Tensor none = ops::cross_entropy(x, Tensor::full({6}, -100, kI64));
  EXPECT_TRUE(std::isnan(none.item()));
}

TEST(CrossEntropy, Errors) {
  Tensor x = Tensor::zeros({3, 4});
  EXPECT_THROW(ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, 4, 1}, {3})), ValueError);
  EXPECT_THROW(ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, -1, 1}, {3})), ValueError);
  EXPECT_THROW(ops::cross_entropy(x, Tensor::from_vector<int64_t>({0, 1}, {2})), ValueError);
  EXPECT_THROW(ops::cross_entropy(Tensor::zeros({3}), Tensor::from_vector<int64_t>({0}, {1})), ValueError);
}

TEST(CrossEntropyGrad, WithAndWithoutIgnoredRows) {
  Tensor x = rnd({5, 4}, 10, -2, 2);
  Tensor t = Tensor::from_vector<int64_t>({1, 3, 0, 0, 2}, {5});
  EXPECT_GRAD([t](const V& in) { return ops::cross_entropy(in[0], t); }, {x});
  Tensor ti = Tensor::from_vector<int64_t>({1, -100, 0, -100, 2}, {5});
  EXPECT_GRAD([ti](const V& in) { return ops::cross_entropy(in[0], ti); }, {x});
  // ignored rows get exactly zero gradient; the loss is used downstream (scaled)
  x.set_grad(Tensor());
  (ops::cross_entropy(x, ti) * 3.0).backward();
  auto g = vals(x.grad());
  for (int c = 0; c < 4; ++c) {
    EXPECT_EQ(g[1 * 4 + c], 0.0f);
    EXPECT_EQ(g[3 * 4 + c], 0.0f);
  }
  // through a non-contiguous view of the logits
  Tensor xt = rnd({4, 5}, 11, -2, 2);
  EXPECT_GRAD([t](const V& in) { return ops::cross_entropy(in[0].transpose(0, 1), t); }, {xt});
}

TEST(MseLoss, ValuesAndGrad) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<float>({0, 2, 5, 3}, {2, 2});
  EXPECT_FLOAT_EQ(float(ops::mse_loss(a, b).item()), (1 + 0 + 4 + 1) / 4.0f);
  EXPECT_THROW(ops::mse_loss(a, Tensor::zeros({3})), ValueError);
  Tensor x = rnd({3, 4}, 20), y = rnd({3, 4}, 21);
  EXPECT_GRAD([](const V& in) { return ops::mse_loss(in[0], in[1]); }, {x, y});
}

TEST(BceWithLogits, ValuesAndGrad) {
  Tensor x = rnd({8}, 30, -6, 6, false), y = rnd({8}, 31, 0, 1, false);
  auto vx = dvals(x), vy = dvals(y);
  double want = 0;
  for (int i = 0; i < 8; ++i) {
    const double s = 1 / (1 + std::exp(-vx[i]));
    want += -(vy[i] * std::log(s) + (1 - vy[i]) * std::log(1 - s));
  }
  EXPECT_NEAR(ops::binary_cross_entropy_with_logits(x, y).item(), want / 8, 1e-5);
  // extreme logits stay finite and exact
  Tensor xe = Tensor::from_vector<float>({100, -100}, {2}), ye = Tensor::from_vector<float>({0, 1}, {2});
  EXPECT_NEAR(ops::binary_cross_entropy_with_logits(xe, ye).item(), 100.0, 1e-3);
  Tensor xg = rnd({3, 4}, 32, -3, 3, true, 0.05), yg = rnd({3, 4}, 33, 0, 1);
  EXPECT_GRAD([](const V& in) { return ops::binary_cross_entropy_with_logits(in[0], in[1]); }, {xg, yg});
  // integer (0/1) targets
  Tensor yi = Tensor::from_vector<int64_t>({0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0}, {3, 4});
  EXPECT_GRAD([yi](const V& in) { return ops::binary_cross_entropy_with_logits(in[0], yi); }, {xg});
}

}  // namespace
}  // namespace cppformers
