#include "cppformers/ops/rotary.hpp"

#include <gtest/gtest.h>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

// q * cos + rotate_half(q) * sin on the first R dims, composed from ops as transformers writes it.
Tensor reference(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  const int64_t R = cos.size(-1), D = x.size(-1), h = R / 2;
  Tensor xr = x.narrow(-1, 0, R);
  Tensor rot = ops::cat({ops::neg(xr.narrow(-1, h, h)), xr.narrow(-1, 0, h)}, -1);
  Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);
  Tensor y = ops::add(ops::mul(xr, c), ops::mul(rot, s));
  return R == D ? y : ops::cat({y, x.narrow(-1, R, D - R)}, -1);
}

TEST(Rotary, MatchesRotateHalfFormula) {
  for (int64_t R : {8, 4}) {  // full and partial rotary
    Tensor x = rnd({2, 3, 5, 8}, 1, -1, 1, false);
    Tensor cos = rnd({2, 5, R}, 2, -1, 1, false), sin = rnd({2, 5, R}, 3, -1, 1, false);
    auto got = vals(ops::apply_rotary(x, cos, sin)), want = vals(reference(x, cos, sin));
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << "R " << R << " at " << i;
  }
  // strided input (a head view of [B, S, H*D]) and a broadcast batch of cos/sin
  Tensor flat = rnd({2, 5, 3 * 8}, 4, -1, 1, false);
  Tensor x = flat.view({2, 5, 3, 8}).transpose(1, 2);
  Tensor cos = rnd({1, 5, 8}, 5, -1, 1, false), sin = rnd({1, 5, 8}, 6, -1, 1, false);
  auto got = vals(ops::apply_rotary(x, cos, sin)), want = vals(reference(x.contiguous(), cos, sin));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6);
  EXPECT_THROW(ops::apply_rotary(x, rnd({1, 4, 8}, 7, -1, 1, false), rnd({1, 4, 8}, 8, -1, 1, false)), ValueError);
  EXPECT_THROW(ops::apply_rotary(x, rnd({1, 5, 3}, 7, -1, 1, false), rnd({1, 5, 3}, 8, -1, 1, false)), ValueError);
}

TEST(RotaryGrad, WithRespectToInput) {
  Tensor x = rnd({2, 2, 3, 6}, 11);
  Tensor cos = rnd({2, 3, 6}, 12, -1, 1, false), sin = rnd({2, 3, 6}, 13, -1, 1, false);
  EXPECT_GRAD([&](const V& in) { return ops::apply_rotary(in[0], cos, sin); }, {x});
  Tensor c4 = rnd({1, 3, 4}, 14, -1, 1, false), s4 = rnd({1, 3, 4}, 15, -1, 1, false);
  EXPECT_GRAD([&](const V& in) { return ops::apply_rotary(in[0].transpose(1, 2), c4, s4); }, {rnd({2, 3, 2, 6}, 16)});
}

}  // namespace
}  // namespace cppformers
