// Highway kernels; this file is compiled once per SIMD target (foreach_target.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cppformers/ops/cpu/gemv.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <cstring>
#include <stdexcept>

#include "cppformers/core/dtype.hpp"

#include "cppformers/ops/cpu/gemv.hpp"
#include "cppformers/ops/cpu/vec.hpp"

HWY_BEFORE_NAMESPACE();
namespace cppformers::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

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

// y[m, n0 + r] = x[m, :] . W[n0 + r, :] for m < MR, r < R (R <= kRowsPerBlock).
template <int MR, class T>
HWY_INLINE void Block(int64_t R, int64_t K, const float* HWY_RESTRICT x, int64_t ldx,
                      const T* HWY_RESTRICT w, int64_t ldw, float* HWY_RESTRICT y, int64_t ldy) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  using V = hn::Vec<decltype(d)>;
  V acc[MR][kRowsPerBlock];
  for (int m = 0; m < MR; ++m)
    for (int64_t r = 0; r < kRowsPerBlock; ++r) acc[m][r] = hn::Zero(d);
  const T* rows[kRowsPerBlock];
  for (int64_t r = 0; r < kRowsPerBlock; ++r) rows[r] = w + (r < R ? r : 0) * ldw;
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    V xv[MR];
    for (int m = 0; m < MR; ++m) xv[m] = hn::LoadU(d, x + m * ldx + k);
    for (int64_t r = 0; r < kRowsPerBlock; ++r) {
      const V wv = LoadW(d, rows[r], k);
      for (int m = 0; m < MR; ++m) acc[m][r] = hn::MulAdd(xv[m], wv, acc[m][r]);
    }
  }
  for (int m = 0; m < MR; ++m) {
    for (int64_t r = 0; r < R; ++r) {
      float s = hn::GetLane(hn::SumOfLanes(d, acc[m][r]));
      for (int64_t kk = k; kk < K; ++kk) s += x[m * ldx + kk] * Scalar(rows[r][kk]);
      y[m * ldy + r] = s;
    }
  }
}

template <int MR, class T>
void Rows(int64_t N, int64_t K, const float* x, int64_t ldx, const T* w, int64_t ldw, float* y, int64_t ldy) {
  const int64_t blocks = (N + kRowsPerBlock - 1) / kRowsPerBlock;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t n0 = b * kRowsPerBlock;
    const int64_t R = N - n0 < kRowsPerBlock ? N - n0 : kRowsPerBlock;
    Block<MR>(R, K, x, ldx, w + n0 * ldw, ldw, y + n0, ldy);
  }
}

// W stored [K, N] (N contiguous, Conv1D's layout): y[m, n] = sum_k x[m, k] W[k, n]. Threads take
// column tiles of CV vectors; for each k one contiguous piece of W's row k is read per tile.
template <int MR, int CV, class T>
HWY_INLINE void TileKN(int64_t n0, int64_t K, const float* HWY_RESTRICT x, int64_t ldx,
                       const T* HWY_RESTRICT w, int64_t ldw, float* HWY_RESTRICT y, int64_t ldy) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  using V = hn::Vec<decltype(d)>;
  V acc[MR][CV];
  for (int m = 0; m < MR; ++m)
    for (int c = 0; c < CV; ++c) acc[m][c] = hn::Zero(d);
  for (int64_t k = 0; k < K; ++k) {
    const T* row = w + k * ldw + n0;
    V wv[CV];
    for (int c = 0; c < CV; ++c) wv[c] = LoadW(d, row, c * L);
    for (int m = 0; m < MR; ++m) {
      const V xv = hn::Set(d, x[m * ldx + k]);
      for (int c = 0; c < CV; ++c) acc[m][c] = hn::MulAdd(xv, wv[c], acc[m][c]);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int c = 0; c < CV; ++c) hn::StoreU(acc[m][c], d, y + m * ldy + n0 + c * L);
}

template <int MR, class T>
void RowsKN(int64_t N, int64_t K, const float* x, int64_t ldx, const T* w, int64_t ldw, float* y, int64_t ldy) {
  constexpr int CV = MR == 1 ? 8 : MR == 2 ? 4 : 2;
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  const int64_t tiles = N / (CV * L), singles = (N - tiles * CV * L) / L;
  const int64_t vec_end = (tiles * CV + singles) * L;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < tiles + singles; ++t) {
    if (t < tiles) TileKN<MR, CV>(t * CV * L, K, x, ldx, w, ldw, y, ldy);
    else TileKN<MR, 1>(tiles * CV * L + (t - tiles) * L, K, x, ldx, w, ldw, y, ldy);
  }
  for (int m = 0; m < MR; ++m)
    for (int64_t n = vec_end; n < N; ++n) {
      float s = 0;
      for (int64_t k = 0; k < K; ++k) s += x[m * ldx + k] * Scalar(w[k * ldw + n]);
      y[m * ldy + n] = s;
    }
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

void gemv(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const void* W, WeightType wt,
          int64_t w_stride_n, int64_t w_stride_k, float* y, int64_t ldy, const Epilogue& ep) {
  if (M < 1 || M > kGemvMaxRows) throw std::invalid_argument("cpu::gemv: M must be in [1, 4]");
  if (N <= 0) return;
  // One column (K == 1): the [N, K] kernel reads it through any row stride.
  const bool kn = K > 1 && w_stride_k != 1;
  if (kn && w_stride_n != 1 && N != 1) throw std::invalid_argument("cpu::gemv: W needs a unit stride");
  HWY_DYNAMIC_DISPATCH(GemvImpl)(M, N, K, x, ldx, W, wt, kn ? w_stride_k : w_stride_n, kn, y, ldy);
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
