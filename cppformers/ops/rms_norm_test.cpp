#include "cppformers/ops/rms_norm.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

TEST(RmsNorm, MatchesNaiveDoubleWithAndWithoutOffset) {
  for (int64_t n : {1, 8, 33, 512}) {
    Tensor x = rnd({2, 3, n}, 10 + n, -3, 3, false), w = rnd({n}, 20 + n, 0.5, 1.5, false);
    auto vx = dvals(x), vw = dvals(w);
    for (double offset : {0.0, 1.0}) {
      auto got = dvals(ops::rms_norm(x, w, 1e-6, offset));
      double max_err = 0;
      for (size_t r = 0; r * n < vx.size(); ++r) {
        double ss = 0;
        for (int64_t i = 0; i < n; ++i) ss += vx[r * n + i] * vx[r * n + i];
        const double rs = 1 / std::sqrt(ss / double(n) + 1e-6);
        for (int64_t i = 0; i < n; ++i)
          max_err = std::max(max_err, std::abs(got[r * n + i] - vx[r * n + i] * rs * (vw[i] + offset)));
      }
      EXPECT_LT(max_err, 2e-6) << "n " << n << " offset " << offset;
    }
  }
  // no weight; a non-contiguous input
  Tensor xt = rnd({5, 4}, 3, -1, 1, false).transpose(0, 1);
  auto got = dvals(ops::rms_norm(xt, Tensor(), 1e-6));
  auto vx = dvals(xt);
  for (int r = 0; r < 4; ++r) {
    double ss = 0;
    for (int i = 0; i < 5; ++i) ss += vx[r * 5 + i] * vx[r * 5 + i];
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(got[r * 5 + i], vx[r * 5 + i] / std::sqrt(ss / 5 + 1e-6), 1e-6);
  }
  EXPECT_THROW(ops::rms_norm(xt, Tensor::ones({4}), 1e-6), ValueError);
  EXPECT_THROW(ops::rms_norm(Tensor::scalar(1), Tensor(), 1e-6), ValueError);
}

TEST(RmsNormGrad, InputAndWeight) {
  Tensor x = rnd({2, 3, 6}, 40, -2, 2), w = rnd({6}, 41, 0.5, 1.5);
  EXPECT_GRAD([](const V& in) { return ops::rms_norm(in[0], in[1], 1e-6); }, {x, w});
  EXPECT_GRAD([](const V& in) { return ops::rms_norm(in[0], in[1], 1e-6, 1.0); }, {x, w});
  EXPECT_GRAD([](const V& in) { return ops::rms_norm(in[0], Tensor(), 1e-5); }, {x});
  Tensor xt = rnd({6, 4}, 44, -2, 2);
  EXPECT_GRAD([](const V& in) { return ops::rms_norm(in[0].transpose(0, 1), in[1], 1e-6); }, {xt, w});
}

}  // namespace
}  // namespace cppformers
