#include "cppformers/ops/cpu/convert.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cppformers/core/dtype.hpp"

namespace cppformers {
namespace {

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Every element of the SIMD conversion has the scalar conversion's bits: random values over
// the whole exponent range, exact ties (both parities), specials, every length up to a few
// vectors (tails), and a length that takes the multi-threaded path.
TEST(Convert, F32ToBf16MatchesTheScalarRoundingBitForBit) {
  std::vector<float> v;
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) v.push_back(from_bits(rng()));  // any bit pattern: NaNs, denormals, ...
  for (uint32_t hi : {0x3f80u, 0x3f81u, 0x7f7fu, 0x0000u, 0x8000u, 0x0001u})  // ties round to even
    for (uint32_t lo : {0x8000u, 0x7fffu, 0x8001u, 0x0000u, 0xffffu}) v.push_back(from_bits(hi << 16 | lo));
  for (float f : {0.0f, -0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::signaling_NaN(),
                  std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(), 1.0f / 3})
    v.push_back(f);
  for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(15), size_t(16), size_t(17), size_t(33), v.size()}) {
    std::vector<uint16_t> got(n + 1, 0xabcd);
    cpu::f32_to_bf16(v.data(), got.data(), int64_t(n));
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], f32_to_bf16(v[i])) << "n=" << n << " i=" << i << " bits " << std::hex << got[i];
    EXPECT_EQ(got[n], 0xabcd) << "wrote past the end, n=" << n;
  }
  std::vector<float> big(300001);
  std::uniform_real_distribution<float> u(-1e4f, 1e4f);
  for (auto& f : big) f = u(rng);
  std::vector<uint16_t> got(big.size());
  cpu::f32_to_bf16(big.data(), got.data(), int64_t(big.size()));
  for (size_t i = 0; i < big.size(); ++i) ASSERT_EQ(got[i], f32_to_bf16(big[i])) << i;
}

}  // namespace
}  // namespace cppformers
