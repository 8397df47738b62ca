#include "cppformers/ops/softmax.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

// softmax / log_softmax in double along `dim` of a contiguous [d0, d1, d2] tensor
std::vector<double> naive(const std::vector<double>& x, const Shape& s, int dim, bool log) {
  std::vector<double> y(x.size());
  const Shape st = contiguous_strides(s);
  for (int64_t i = 0; i < shape_numel(s); ++i) {
    // the start of i's row along dim
    const int64_t pos = (i / st[dim]) % s[dim];
    const int64_t base = i - pos * st[dim];
    double m = -INFINITY;
    for (int64_t k = 0; k < s[dim]; ++k) m = std::max(m, x[base + k * st[dim]]);
    double z = 0;
    for (int64_t k = 0; k < s[dim]; ++k) z += std::exp(x[base + k * st[dim]] - m);
    y[i] = log ? x[i] - m - std::log(z) : std::exp(x[i] - m) / z;
  }
  return y;
}

TEST(Softmax, MatchesNaiveAlongEveryDim) {
  const Shape s{3, 17, 5};
  Tensor x = rnd(s, 1, -5, 5, false);
  auto vx = dvals(x);
  for (int dim = 0; dim < 3; ++dim) {
    for (bool log : {false, true}) {
      auto got = dvals(log ? ops::log_softmax(x, dim) : ops::softmax(x, dim));
      auto got_neg = dvals(log ? ops::log_softmax(x, dim - 3) : ops::softmax(x, dim - 3));
      auto want = naive(vx, s, dim, log);
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-6) << "dim " << dim << " log " << log << " at " << i;
        ASSERT_EQ(got[i], got_neg[i]);
      }
    }
  }
}

TEST(Softmax, RowsSumToOneAndLargeValuesAreStable) {
  Tensor x = rnd({4, 33}, 2, -30, 30, false);
  auto p = vals(ops::softmax(x, -1));
  for (int r = 0; r < 4; ++r) {
    double s = 0;
    for (int c = 0; c < 33; ++c) {
      EXPECT_GE(p[r * 33 + c], 0);
      s += p[r * 33 + c];
    }
    EXPECT_NEAR(s, 1.0, 1e-5);
  }
  // values that overflow exp in f32 without the max shift
  Tensor big = Tensor::from_vector<float>({1000, 1001, 1002}, {3});
  auto pb = dvals(ops::softmax(big, 0));
  auto lb = dvals(ops::log_softmax(big, 0));
  const double z = 1 + std::exp(-1.0) + std::exp(-2.0);
  EXPECT_NEAR(pb[2], 1 / z, 1e-6);
  EXPECT_NEAR(lb[0], -2 - std::log(z), 1e-6);  // (x - max) - log(sum): no digits lost to 1000
  // -inf entries (masked positions) get probability 0
  Tensor masked = Tensor::from_vector<float>({0, -INFINITY, 0}, {3});
  EXPECT_EQ(vals(ops::softmax(masked, 0)), (std::vector<float>{0.5f, 0.0f, 0.5f}));
  // log_softmax = log(softmax)
  auto ls = dvals(ops::log_softmax(x, 1)), sm = dvals(ops::softmax(x, 1));
  for (size_t i = 0; i < ls.size(); ++i) {
    if (sm[i] > 1e-30) { EXPECT_NEAR(ls[i], std::log(sm[i]), 1e-4); }
  }
}

TEST(Softmax, NonContiguousInputAndOutputLayout) {
  Tensor x = rnd({5, 4}, 3, -2, 2, false);
  Tensor xt = x.transpose(0, 1);  // [4, 5]
  auto got = dvals(ops::softmax(xt, 1));
  auto want = naive(dvals(xt.contiguous()), {4, 5, 1}, 1, false);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6);
  EXPECT_THROW(ops::softmax(x, 2), ValueError);
}

TEST(SoftmaxGrad, LastAndNonLastDim) {
  Tensor x = rnd({3, 4, 5}, 10, -2, 2);
  for (int dim : {-1, 2, 1, 0}) {
    EXPECT_GRAD([dim](const V& in) { return ops::softmax(in[0], dim); }, {x});
    EXPECT_GRAD([dim](const V& in) { return ops::log_softmax(in[0], dim); }, {x});
  }
  Tensor y = rnd({6}, 11, -2, 2);
  EXPECT_GRAD([](const V& in) { return ops::softmax(in[0], 0); }, {y});
  EXPECT_GRAD([](const V& in) { return ops::log_softmax(in[0] * 2.0, 0); }, {y});
}

}  // namespace
}  // namespace cppformers
