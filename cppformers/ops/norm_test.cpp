#include "cppformers/ops/norm.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

std::vector<double> naive_layer_norm(const std::vector<double>& x, int64_t n, const std::vector<double>* w,
                                     const std::vector<double>* b, double eps) {
  std::vector<double> y(x.size());
  for (size_t r = 0; r * n < x.size(); ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += x[r * n + i];
    mean /= double(n);
    for (int64_t i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
    var /= double(n);  // biased, as torch
    for (int64_t i = 0; i < n; ++i) {
      double v = (x[r * n + i] - mean) / std::sqrt(var + eps);
      if (w) v *= (*w)[i];
      if (b) v += (*b)[i];
      y[r * n + i] = v;
    }
  }
  return y;
}

TEST(LayerNorm, MatchesNaiveDouble) {
  for (int64_t n : {1, 7, 16, 33, 768}) {
    Tensor x = rnd({3, 2, n}, 10 + n, -3, 5, false);
    Tensor w = rnd({n}, 20 + n, 0.5, 1.5, false), b = rnd({n}, 30 + n, -1, 1, false);
    auto vx = dvals(x), vw = dvals(w), vb = dvals(b);
    for (int mode = 0; mode < 3; ++mode) {
      Tensor y = mode == 0 ? ops::layer_norm(x, w, b, 1e-5)
                           : mode == 1 ? ops::layer_norm(x, w, Tensor(), 1e-5) : ops::layer_norm(x, Tensor(), Tensor(), 1e-12);
      auto want = naive_layer_norm(vx, n, mode < 2 ? &vw : nullptr, mode == 0 ? &vb : nullptr, mode == 2 ? 1e-12 : 1e-5);
      auto got = dvals(y);
      ASSERT_EQ(y.shape(), x.shape());
      double max_err = 0;
      for (size_t i = 0; i < got.size(); ++i) max_err = std::max(max_err, std::abs(got[i] - want[i]));
      EXPECT_LT(max_err, 5e-6) << "n " << n << " mode " << mode;
    }
  }
}

TEST(LayerNorm, LargeOffsetAndNonContiguous) {
  // a large common offset: a one-pass E[x^2]-E[x]^2 variance would lose all precision here
  std::vector<float> xv = uniform(64, 5, -1, 1);
  for (auto& v : xv) v += 1000.0f;
  Tensor x = Tensor::from_vector<float>(xv, {2, 32});
  std::vector<double> xd(xv.begin(), xv.end());
  auto want = naive_layer_norm(xd, 32, nullptr, nullptr, 1e-5);
  auto got = dvals(ops::layer_norm(x, Tensor(), Tensor(), 1e-5));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 2e-3);
  // a transposed input
  Tensor xt = rnd({6, 4}, 6, -1, 1, false).transpose(0, 1);
  auto want_t = naive_layer_norm(dvals(xt), 6, nullptr, nullptr, 1e-5);
  auto got_t = dvals(ops::layer_norm(xt, Tensor(), Tensor(), 1e-5));
  for (size_t i = 0; i < got_t.size(); ++i) EXPECT_NEAR(got_t[i], want_t[i], 5e-6);
  // a constant row normalises to 0 (then + bias)
  Tensor c = Tensor::full({1, 5}, 3.0);
  Tensor bias = Tensor::full({5}, 0.25);
  EXPECT_EQ(vals(ops::layer_norm(c, Tensor(), bias, 1e-5)), std::vector<float>(5, 0.25f));
  EXPECT_THROW(ops::layer_norm(x, Tensor::ones({31}), Tensor(), 1e-5), ValueError);
  EXPECT_THROW(ops::layer_norm(x, Tensor(), Tensor::ones({2, 16}), 1e-5), ValueError);
  EXPECT_THROW(ops::layer_norm(Tensor::scalar(1), Tensor(), Tensor(), 1e-5), ValueError);
}

TEST(LayerNormGrad, WithAndWithoutAffine) {
  Tensor x = rnd({2, 3, 6}, 40, -2, 2), w = rnd({6}, 41, 0.5, 1.5), b = rnd({6}, 42);
  EXPECT_GRAD([](const V& in) { return ops::layer_norm(in[0], in[1], in[2], 1e-5); }, {x, w, b});
  EXPECT_GRAD([](const V& in) { return ops::layer_norm(in[0], Tensor(), Tensor(), 1e-5); }, {x});
  EXPECT_GRAD([](const V& in) { return ops::layer_norm(in[0], in[1], Tensor(), 1e-5); }, {x, w});
  // 1-d input, and a non-contiguous input
  Tensor x1 = rnd({6}, 43, -2, 2);
  EXPECT_GRAD([](const V& in) { return ops::layer_norm(in[0], in[1], in[2], 1e-5); }, {x1, w, b});
  Tensor xt = rnd({6, 4}, 44, -2, 2);
  EXPECT_GRAD([](const V& in) { return ops::layer_norm(in[0].transpose(0, 1), in[1], in[2], 1e-5); }, {xt, w, b});
  // only the affine parameters require grad
  Tensor xf = rnd({4, 6}, 45, -2, 2, false);
  EXPECT_GRAD([xf](const V& in) { return ops::layer_norm(xf, in[0], in[1], 1e-5); }, {w, b});
}

}  // namespace
}  // namespace cppformers
