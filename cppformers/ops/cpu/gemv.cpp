// Highway kernels; this file is compiled once per SIMD target (foreach_target.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cppformers/ops/cpu/gemv.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/cache_control.h>
#include <hwy/highway.h>
#include <omp.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "cppformers/core/dtype.hpp"

#include "cppformers/ops/cpu/convert.hpp"
#include "cppformers/ops/cpu/gemv.hpp"
#include "cppformers/ops/cpu/vec.hpp"

// Defined once, although foreach_target compiles this file once per SIMD target: shared by the
// Highway kernels and the AVX512-BF16 one below.
#ifndef CPPFORMERS_OPS_CPU_GEMV_SHARED
#define CPPFORMERS_OPS_CPU_GEMV_SHARED
namespace cppformers::cpu::gemv_shared {
// Elements before the first 64-byte boundary of W's rows when every row has the same alignment
// (a row stride that is a multiple of 64 bytes), else 0. Vector loads that straddle two cache
// lines cut the rate from DRAM by about a third, and a checkpoint's tensors are aligned to their
// element size only (safetensors), so the vector loops start at that boundary.
template <class T>
int64_t AlignedHead(const T* w, int64_t ldw, int64_t len) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(w);
  if ((ldw * int64_t(sizeof(T))) % 64 != 0 || a % sizeof(T) != 0) return 0;
  return std::min<int64_t>(len, int64_t((64 - a % 64) % 64 / sizeof(T)));
}

// [K, N] weights (N contiguous): each thread owns a contiguous slice of W's rows, so it streams
// its part of memory front to back (column tiles would jump a whole row between short pieces,
// which the prefetchers follow poorly), and sums into its own f32 partial result [MR, N]:
// slice(k0, k1, part) for each slice, then the partials are added into y's MR rows.
template <class Slice>
void SlicesOfK(int MR, int64_t N, int64_t K, float* y, int64_t ldy, Slice&& slice) {
  static thread_local std::vector<float> buf;  // the partials, reused across calls
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), K / 16));
  if (int64_t(buf.size()) < parts * MR * N) buf.resize(size_t(parts * MR * N));
  float* const part = buf.data();
#pragma omp parallel for num_threads(int(parts)) schedule(static)
  for (int64_t p = 0; p < parts; ++p) slice(K * p / parts, K * (p + 1) / parts, part + p * MR * N);
  for (int m = 0; m < MR; ++m) {
    float* ym = y + m * ldy;
    std::copy(part + m * N, part + (m + 1) * N, ym);
    for (int64_t p = 1; p < parts; ++p) {
      const float* pp = part + (p * MR + m) * N;
      for (int64_t n = 0; n < N; ++n) ym[n] += pp[n];
    }
  }
}
}  // namespace cppformers::cpu::gemv_shared
#endif

HWY_BEFORE_NAMESPACE();
namespace cppformers::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using gemv_shared::AlignedHead;

// One vector of W's row `w` at column k, widened to f32.
template <class D>
HWY_INLINE hn::Vec<D> LoadW(D d, const float* w, int64_t k) { return hn::LoadU(d, w + k); }
template <class D>
HWY_INLINE hn::Vec<D> LoadW(D d, const hwy::bfloat16_t* w, int64_t k) {
  const hn::Rebind<hwy::bfloat16_t, D> dw;
  return hn::PromoteTo(d, hn::LoadU(dw, w + k));
}
template <class D>
HWY_INLINE hn::Vec<D> LoadW(D d, const hwy::float16_t* w, int64_t k) {
  const hn::Rebind<hwy::float16_t, D> dw;
  return hn::PromoteTo(d, hn::LoadU(dw, w + k));
}
HWY_INLINE float Scalar(float v) { return v; }
HWY_INLINE float Scalar(hwy::bfloat16_t v) { return hwy::F32FromBF16(v); }
HWY_INLINE float Scalar(hwy::float16_t v) {
  uint16_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return f16_to_f32(bits);
}

constexpr int64_t kRowsPerBlock = 4;  // rows of W per block: R*MR accumulators stay in registers

// y[m, n0 + r] = x[m, :] . W[n0 + r, :] for m < MR, r < R (R <= kRowsPerBlock): vectors over
// [k0, k1), scalars over the head [0, k0) and the tail [k1, K). The block's rows are read side
// by side, four short streams the hardware prefetcher does not pick up, so the same columns of
// the next block (the memory right after this one when W is contiguous) are prefetched by hand;
// this doubles the rate from DRAM at GPT-2's K = 768.
template <int MR, class T>
HWY_INLINE void Block(int64_t R, int64_t K, int64_t k0, int64_t k1, const float* HWY_RESTRICT x, int64_t ldx,
                      const T* HWY_RESTRICT w, int64_t ldw, float* HWY_RESTRICT y, int64_t ldy) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  using V = hn::Vec<decltype(d)>;
  V acc[MR][kRowsPerBlock];
  for (int m = 0; m < MR; ++m)
    for (int64_t r = 0; r < kRowsPerBlock; ++r) acc[m][r] = hn::Zero(d);
  const T* rows[kRowsPerBlock];
  for (int64_t r = 0; r < kRowsPerBlock; ++r) rows[r] = w + (r < R ? r : 0) * ldw;
  for (int64_t k = k0; k < k1; k += L) {
    V xv[MR];
    for (int m = 0; m < MR; ++m) xv[m] = hn::LoadU(d, x + m * ldx + k);
    for (int64_t r = 0; r < kRowsPerBlock; ++r) {
      hwy::Prefetch(rows[r] + kRowsPerBlock * ldw + k);
      const V wv = LoadW(d, rows[r], k);
      for (int m = 0; m < MR; ++m) acc[m][r] = hn::MulAdd(xv[m], wv, acc[m][r]);
    }
  }
  for (int m = 0; m < MR; ++m) {
    for (int64_t r = 0; r < R; ++r) {
      float s = hn::GetLane(hn::SumOfLanes(d, acc[m][r]));
      for (int64_t kk = 0; kk < k0; ++kk) s += x[m * ldx + kk] * Scalar(rows[r][kk]);
      for (int64_t kk = k1; kk < K; ++kk) s += x[m * ldx + kk] * Scalar(rows[r][kk]);
      y[m * ldy + r] = s;
    }
  }
}

template <int MR, class T>
void Rows(int64_t N, int64_t K, const float* x, int64_t ldx, const T* w, int64_t ldw, float* y, int64_t ldy) {
  const int64_t L = int64_t(hn::Lanes(hn::ScalableTag<float>()));
  const int64_t k0 = AlignedHead(w, ldw, K), k1 = k0 + (K - k0) / L * L;
  const int64_t blocks = (N + kRowsPerBlock - 1) / kRowsPerBlock;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t n0 = b * kRowsPerBlock;
    const int64_t R = N - n0 < kRowsPerBlock ? N - n0 : kRowsPerBlock;
    Block<MR>(R, K, k0, k1, x, ldx, w + n0 * ldw, ldw, y + n0, ldy);
  }
}

// W stored [K, N] (N contiguous, Conv1D's layout): y[m, n] = sum_k x[m, k] W[k, n], by slices of
// K (gemv_shared::SlicesOfK).
//
// part[m, n] = sum_{k0 <= k < k1} x[m, k] W[k, n]; rows are taken four at a time, with the four
// rows after them prefetched.
template <int MR, class T>
HWY_INLINE void SliceKN(int64_t k0, int64_t k1, int64_t N, const float* HWY_RESTRICT x, int64_t ldx,
                        const T* HWY_RESTRICT w, int64_t ldw, float* HWY_RESTRICT part) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  using V = hn::Vec<decltype(d)>;
  const int64_t n0 = AlignedHead(w, ldw, N), nv = n0 + (N - n0) / L * L;  // vectors over [n0, nv)
  auto scalar = [N, n0, nv](auto&& f) {
    for (int64_t n = 0; n < n0; ++n) f(n);
    for (int64_t n = nv; n < N; ++n) f(n);
  };
  std::fill(part, part + MR * N, 0.0f);
  int64_t k = k0;
  for (; k + 4 <= k1; k += 4) {
    const T* r0 = w + k * ldw;
    const T* r1 = r0 + ldw;
    const T* r2 = r1 + ldw;
    const T* r3 = r2 + ldw;
    V xv[MR][4];
    for (int m = 0; m < MR; ++m)
      for (int j = 0; j < 4; ++j) xv[m][j] = hn::Set(d, x[m * ldx + k + j]);
    for (int64_t n = n0; n < nv; n += L) {
      hwy::Prefetch(r0 + 4 * ldw + n);
      hwy::Prefetch(r1 + 4 * ldw + n);
      hwy::Prefetch(r2 + 4 * ldw + n);
      hwy::Prefetch(r3 + 4 * ldw + n);
      const V w0 = LoadW(d, r0, n), w1 = LoadW(d, r1, n), w2 = LoadW(d, r2, n), w3 = LoadW(d, r3, n);
      for (int m = 0; m < MR; ++m) {
        float* pm = part + m * N + n;
        const V a = hn::MulAdd(xv[m][2], w2, hn::Mul(xv[m][0], w0));
        const V b = hn::MulAdd(xv[m][3], w3, hn::Mul(xv[m][1], w1));
        hn::StoreU(hn::Add(hn::LoadU(d, pm), hn::Add(a, b)), d, pm);
      }
    }
    scalar([&](int64_t n) {
      for (int m = 0; m < MR; ++m) {
        const float* xm = x + m * ldx + k;
        part[m * N + n] += (xm[0] * Scalar(r0[n]) + xm[2] * Scalar(r2[n])) + (xm[1] * Scalar(r1[n]) + xm[3] * Scalar(r3[n]));
      }
    });
  }
  for (; k < k1; ++k) {
    const T* r0 = w + k * ldw;
    for (int m = 0; m < MR; ++m) {
      const V xk = hn::Set(d, x[m * ldx + k]);
      float* pm = part + m * N;
      for (int64_t n = n0; n < nv; n += L) hn::StoreU(hn::MulAdd(xk, LoadW(d, r0, n), hn::LoadU(d, pm + n)), d, pm + n);
      scalar([&](int64_t n) { pm[n] += x[m * ldx + k] * Scalar(r0[n]); });
    }
  }
}

template <int MR, class T>
void RowsKN(int64_t N, int64_t K, const float* x, int64_t ldx, const T* w, int64_t ldw, float* y, int64_t ldy) {
  gemv_shared::SlicesOfK(MR, N, K, y, ldy, [&](int64_t k0, int64_t k1, float* part) {
    SliceKN<MR>(k0, k1, N, x, ldx, w, ldw, part);
  });
}

// One instantiation per row count, for W as [N, K] or (kn) as [K, N].
template <class T>
void Dispatch(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const T* w, int64_t ldw, bool kn,
              float* y, int64_t ldy) {
  switch (M) {
    case 1: return kn ? RowsKN<1>(N, K, x, ldx, w, ldw, y, ldy) : Rows<1>(N, K, x, ldx, w, ldw, y, ldy);
    case 2: return kn ? RowsKN<2>(N, K, x, ldx, w, ldw, y, ldy) : Rows<2>(N, K, x, ldx, w, ldw, y, ldy);
    case 3: return kn ? RowsKN<3>(N, K, x, ldx, w, ldw, y, ldy) : Rows<3>(N, K, x, ldx, w, ldw, y, ldy);
    case 4: return kn ? RowsKN<4>(N, K, x, ldx, w, ldw, y, ldy) : Rows<4>(N, K, x, ldx, w, ldw, y, ldy);
  }
}

void GemvImpl(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const void* W, WeightType wt,
              int64_t ldw, bool kn, float* y, int64_t ldy) {
  switch (wt) {
    case WeightType::kF32: return Dispatch(M, N, K, x, ldx, static_cast<const float*>(W), ldw, kn, y, ldy);
    case WeightType::kBF16:
      return Dispatch(M, N, K, x, ldx, static_cast<const hwy::bfloat16_t*>(W), ldw, kn, y, ldy);
    case WeightType::kF16:
      return Dispatch(M, N, K, x, ldx, static_cast<const hwy::float16_t*>(W), ldw, kn, y, ldy);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace cppformers::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace cppformers::cpu {
HWY_EXPORT(GemvImpl);

#if defined(__x86_64__) && defined(__GNUC__)
namespace {

// bf16 weights stored [N, K] on CPUs with AVX512-BF16: y[m, n] = sum_k bf16(x[m, k]) W[n, k] with
// f32 accumulation (VDPBF16PS: 32 products per 64 bytes of W in one instruction), as the GEMM
// runs bf16 weights for more rows (ops/matmul.cpp). Widening W to f32 in registers instead takes
// four instructions per 64 bytes and streamed 41-48 GB/s here where this streams 51-60 (Llama's
// 5632 x 2048 from 2 MiB pages, both cores, alternating). Rows four at a time, as Block above.
template <int MR>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void RowsDotBf16(int64_t N, int64_t K, const uint16_t* xb,
                                                                           const uint16_t* w, int64_t ldw, float* y,
                                                                           int64_t ldy) {
  constexpr int64_t R4 = 4, L = 32;  // rows per block, bf16 lanes per vector
  const int64_t k0 = gemv_shared::AlignedHead(w, ldw, K);
  const int64_t k1 = k0 + (K - k0) / L * L;
  const int64_t blocks = (N + R4 - 1) / R4;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t n0 = b * R4, R = std::min<int64_t>(R4, N - n0);
    const uint16_t* rows[R4];
    for (int64_t r = 0; r < R4; ++r) rows[r] = w + (n0 + (r < R ? r : 0)) * ldw;
    __m512 acc[MR][R4];
    for (int m = 0; m < MR; ++m)
      for (int64_t r = 0; r < R4; ++r) acc[m][r] = _mm512_setzero_ps();
    for (int64_t k = k0; k < k1; k += L) {
      __m512bh xv[MR];
      for (int m = 0; m < MR; ++m) xv[m] = (__m512bh)_mm512_loadu_si512(xb + m * K + k);
      for (int64_t r = 0; r < R4; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(rows[r] + R4 * ldw + k), _MM_HINT_T0);
        const __m512bh wv = (__m512bh)_mm512_loadu_si512(rows[r] + k);
        for (int m = 0; m < MR; ++m) acc[m][r] = _mm512_dpbf16_ps(acc[m][r], xv[m], wv);
      }
    }
    for (int m = 0; m < MR; ++m)
      for (int64_t r = 0; r < R; ++r) {
        float s = _mm512_reduce_add_ps(acc[m][r]);
        for (int64_t kk = 0; kk < k0; ++kk) s += bf16_to_f32(xb[m * K + kk]) * bf16_to_f32(rows[r][kk]);
        for (int64_t kk = k1; kk < K; ++kk) s += bf16_to_f32(xb[m * K + kk]) * bf16_to_f32(rows[r][kk]);
        y[m * ldy + n0 + r] = s;
      }
  }
}

// bf16 weights stored [K, N] (Conv1D's layout) with AVX512-BF16: rows k and k + 1 are interleaved
// in registers (VPERMT2W) into the (k, k + 1) pairs VDPBF16PS multiplies, four rows per pass over
// the thread's partial sums; slices of K per thread as RowsKN. part[m, n] = sum over [k0, k1).
template <int MR>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void SliceKNDotBf16(int64_t k0, int64_t k1, int64_t N,
                                                                              const uint16_t* xb, int64_t K,
                                                                              const uint16_t* w, int64_t ldw,
                                                                              float* part) {
  constexpr int64_t L = 32;
  const int64_t n0 = gemv_shared::AlignedHead(w, ldw, N), nv = n0 + (N - n0) / L * L;
  alignas(64) uint16_t lo[L], hi[L];  // lane 2j: row k's column j; lane 2j + 1: row k + 1's
  for (int j = 0; j < 16; ++j) lo[2 * j] = uint16_t(j), lo[2 * j + 1] = uint16_t(j + L), hi[2 * j] = uint16_t(j + 16),
                               hi[2 * j + 1] = uint16_t(j + 16 + L);
  const __m512i ilo = _mm512_load_si512(lo), ihi = _mm512_load_si512(hi), zero = _mm512_setzero_si512();
  auto pair = [&](int m, int64_t k, bool both) {  // (x[k], x[k + 1] or 0) in every 32-bit lane
    return int(uint32_t(xb[m * K + k]) | (both ? uint32_t(xb[m * K + k + 1]) << 16 : 0u));
  };
  auto scalar = [&](int64_t k, int64_t rows) {  // the columns outside [n0, nv)
    auto column = [&](int64_t n) {
      for (int m = 0; m < MR; ++m) {
        float s = 0;
        for (int64_t r = 0; r < rows; ++r) s += bf16_to_f32(xb[m * K + k + r]) * bf16_to_f32(w[(k + r) * ldw + n]);
        part[m * N + n] += s;
      }
    };
    for (int64_t n = 0; n < n0; ++n) column(n);
    for (int64_t n = nv; n < N; ++n) column(n);
  };
  std::fill(part, part + MR * N, 0.0f);
  int64_t k = k0;
  for (; k + 4 <= k1; k += 4) {
    const uint16_t* r0 = w + k * ldw;
    const uint16_t *r1 = r0 + ldw, *r2 = r1 + ldw, *r3 = r2 + ldw;
    __m512i x01[MR], x23[MR];
    for (int m = 0; m < MR; ++m) x01[m] = _mm512_set1_epi32(pair(m, k, true)), x23[m] = _mm512_set1_epi32(pair(m, k + 2, true));
    for (int64_t n = n0; n < nv; n += L) {
      for (const uint16_t* r : {r0, r1, r2, r3}) _mm_prefetch(reinterpret_cast<const char*>(r + 4 * ldw + n), _MM_HINT_T0);
      const __m512i a = _mm512_loadu_si512(r0 + n), b = _mm512_loadu_si512(r1 + n);
      const __m512i c = _mm512_loadu_si512(r2 + n), d = _mm512_loadu_si512(r3 + n);
      const __m512bh ablo = (__m512bh)_mm512_permutex2var_epi16(a, ilo, b);
      const __m512bh abhi = (__m512bh)_mm512_permutex2var_epi16(a, ihi, b);
      const __m512bh cdlo = (__m512bh)_mm512_permutex2var_epi16(c, ilo, d);
      const __m512bh cdhi = (__m512bh)_mm512_permutex2var_epi16(c, ihi, d);
      for (int m = 0; m < MR; ++m) {
        float* pm = part + m * N + n;
        __m512 s0 = _mm512_loadu_ps(pm), s1 = _mm512_loadu_ps(pm + 16);
        s0 = _mm512_dpbf16_ps(_mm512_dpbf16_ps(s0, (__m512bh)x01[m], ablo), (__m512bh)x23[m], cdlo);
        s1 = _mm512_dpbf16_ps(_mm512_dpbf16_ps(s1, (__m512bh)x01[m], abhi), (__m512bh)x23[m], cdhi);
        _mm512_storeu_ps(pm, s0), _mm512_storeu_ps(pm + 16, s1);
      }
    }
    scalar(k, 4);
  }
  for (; k < k1; ++k) {  // the last rows one by one, paired with zeros
    const uint16_t* r0 = w + k * ldw;
    for (int64_t n = n0; n < nv; n += L) {
      const __m512i a = _mm512_loadu_si512(r0 + n);
      const __m512bh plo = (__m512bh)_mm512_permutex2var_epi16(a, ilo, zero);
      const __m512bh phi = (__m512bh)_mm512_permutex2var_epi16(a, ihi, zero);
      for (int m = 0; m < MR; ++m) {
        float* pm = part + m * N + n;
        const __m512bh xm = (__m512bh)_mm512_set1_epi32(pair(m, k, false));
        _mm512_storeu_ps(pm, _mm512_dpbf16_ps(_mm512_loadu_ps(pm), xm, plo));
        _mm512_storeu_ps(pm + 16, _mm512_dpbf16_ps(_mm512_loadu_ps(pm + 16), xm, phi));
      }
    }
    scalar(k, 1);
  }
}

template <int MR>
void RowsKNDotBf16(int64_t N, int64_t K, const uint16_t* xb, const uint16_t* w, int64_t ldw, float* y, int64_t ldy) {
  gemv_shared::SlicesOfK(MR, N, K, y, ldy, [&](int64_t k0, int64_t k1, float* part) {
    SliceKNDotBf16<MR>(k0, k1, N, xb, K, w, ldw, part);
  });
}

// W [N, K] (kn false) or [K, N] (kn true, ldw the stride of K).
bool DotBf16(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const void* W, bool kn, int64_t ldw,
             float* y, int64_t ldy) {
  if (!gemv_bf16_products()) return false;
  static thread_local std::vector<uint16_t> xb;  // x rounded to bf16, [M, K]
  xb.resize(size_t(M * K));
  for (int64_t m = 0; m < M; ++m) f32_to_bf16(x + m * ldx, xb.data() + m * K, K);
  const auto* w = static_cast<const uint16_t*>(W);
  switch (M) {
    case 1: kn ? RowsKNDotBf16<1>(N, K, xb.data(), w, ldw, y, ldy) : RowsDotBf16<1>(N, K, xb.data(), w, ldw, y, ldy); break;
    case 2: kn ? RowsKNDotBf16<2>(N, K, xb.data(), w, ldw, y, ldy) : RowsDotBf16<2>(N, K, xb.data(), w, ldw, y, ldy); break;
    case 3: kn ? RowsKNDotBf16<3>(N, K, xb.data(), w, ldw, y, ldy) : RowsDotBf16<3>(N, K, xb.data(), w, ldw, y, ldy); break;
    default: kn ? RowsKNDotBf16<4>(N, K, xb.data(), w, ldw, y, ldy) : RowsDotBf16<4>(N, K, xb.data(), w, ldw, y, ldy); break;
  }
  return true;
}

}  // namespace

bool gemv_bf16_products() {
  static const bool yes = native_bf16() && __builtin_cpu_supports("avx512bf16");
  return yes;
}
#else
namespace {
bool DotBf16(int64_t, int64_t, int64_t, const float*, int64_t, const void*, bool, int64_t, float*, int64_t) {
  return false;
}
}  // namespace
bool gemv_bf16_products() { return false; }
#endif

void gemv(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const void* W, WeightType wt,
          int64_t w_stride_n, int64_t w_stride_k, float* y, int64_t ldy, const Epilogue& ep) {
  if (M < 1 || M > kGemvMaxRows) throw std::invalid_argument("cpu::gemv: M must be in [1, 4]");
  if (N <= 0) return;
  // One column (K == 1): the [N, K] kernel reads it through any row stride.
  const bool kn = K > 1 && w_stride_k != 1;
  if (kn && w_stride_n != 1 && N != 1) throw std::invalid_argument("cpu::gemv: W needs a unit stride");
  const int64_t ldw = kn ? w_stride_k : w_stride_n;
  if (!(wt == WeightType::kBF16 && DotBf16(M, N, K, x, ldx, W, kn, ldw, y, ldy)))
    HWY_DYNAMIC_DISPATCH(GemvImpl)(M, N, K, x, ldx, W, wt, ldw, kn, y, ldy);
  for (int64_t m = 0; m < M; ++m) {
    float* row = y + m * ldy;
    if (ep.bias)
      for (int64_t n = 0; n < N; ++n) row[n] += ep.bias[n];
    switch (ep.activation) {
      case Activation::kNone: break;
      case Activation::kGeluErf: unary(Unary::kGeluErf, row, row, N); break;
      case Activation::kGeluTanh: unary(Unary::kGeluTanh, row, row, N); break;
      case Activation::kRelu: unary(Unary::kRelu, row, row, N); break;
      case Activation::kSilu: unary(Unary::kSilu, row, row, N); break;
    }
    if (ep.residual)
      for (int64_t n = 0; n < N; ++n) row[n] += ep.residual[m * N + n];
  }
}
}  // namespace cppformers::cpu
#endif
