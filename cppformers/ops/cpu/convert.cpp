// Highway kernels; this file is compiled once per SIMD target (foreach_target.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cppformers/ops/cpu/convert.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <omp.h>

#include <algorithm>

#include "cppformers/core/dtype.hpp"
#include "cppformers/ops/cpu/convert.hpp"

HWY_BEFORE_NAMESPACE();
namespace cppformers::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Rounding done on the bits, as the scalar version: u + 0x7fff + ((u >> 16) & 1), high half;
// a NaN keeps its high half with the quiet bit set.
void F32ToBf16Impl(const float* HWY_RESTRICT x, uint16_t* HWY_RESTRICT y, int64_t n) {
  const hn::ScalableTag<uint32_t> du;
  const hn::RebindToSigned<decltype(du)> di;
  const hn::Rebind<uint16_t, decltype(du)> dh;
  const int64_t L = int64_t(hn::Lanes(du));
  const auto abs_mask = hn::Set(du, 0x7fffffffu), inf = hn::Set(du, 0x7f800000u);
  const auto bias = hn::Set(du, 0x7fffu), one = hn::Set(du, 1u), quiet = hn::Set(du, 0x40u);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    const auto u = hn::LoadU(du, reinterpret_cast<const uint32_t*>(x + i));
    const auto rounded = hn::ShiftRight<16>(hn::Add(u, hn::Add(bias, hn::And(hn::ShiftRight<16>(u), one))));
    const auto nan = hn::Gt(hn::And(u, abs_mask), inf);
    const auto r = hn::IfThenElse(nan, hn::Or(hn::ShiftRight<16>(u), quiet), rounded);
    hn::StoreU(hn::DemoteTo(dh, hn::BitCast(di, r)), dh, y + i);  // r < 2^16: no saturation
  }
  for (; i < n; ++i) y[i] = cppformers::f32_to_bf16(x[i]);
}

}  // namespace HWY_NAMESPACE
}  // namespace cppformers::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace cppformers::cpu {
HWY_EXPORT(F32ToBf16Impl);

void f32_to_bf16(const float* x, uint16_t* y, int64_t n) {
  constexpr int64_t kChunk = int64_t(1) << 16;  // below this one thread is faster than a fork
  if (n <= kChunk || omp_in_parallel() || omp_get_max_threads() == 1) {
    HWY_DYNAMIC_DISPATCH(F32ToBf16Impl)(x, y, n);
    return;
  }
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t b = c * kChunk;
    HWY_DYNAMIC_DISPATCH(F32ToBf16Impl)(x + b, y + b, std::min(kChunk, n - b));
  }
}

}  // namespace cppformers::cpu
#endif
