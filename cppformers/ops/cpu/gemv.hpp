#pragma once
// Weight-streaming products for few rows (decoding one token, a handful of beams):
// y[m, :] = epilogue(x[m, :] @ W^T) with W stored [N, K] (torch.nn.Linear's layout) in f32, bf16
// or f16 and read exactly once for all rows. At these shapes the time is the weight bytes over
// the memory bandwidth, so the kernel's job is to stream W at full rate, widening bf16/f16 to
// f32 in registers (f32 accumulation) instead of converting the whole matrix first, or, for
// bf16 weights on CPUs with AVX512-BF16, multiplying as bf16 (gemv_bf16_products()).
// (Threads: OpenMP; over output rows of W for [N, K], over slices of K for [K, N].)
#include <cstdint>

#include "cppformers/ops/cpu/gemm.hpp"

namespace cppformers::cpu {

enum class WeightType { kF32, kBF16, kF16 };

// Rows per call the kernel handles in one pass over W; larger M belongs to gemm().
constexpr int64_t kGemvMaxRows = 4;

// x: M rows of K floats, row stride ldx. W: element (n, k) at W + n*w_stride_n + k*w_stride_k,
// of type `wt`, with one of the two strides 1 ([N, K] as nn.Linear stores it, or [K, N] as
// GPT-2's Conv1D does). y: M rows of N floats, row stride ldy. Epilogue as gemm's (bias[N],
// activation, residual: contiguous [M, N]). Requires 1 <= M <= kGemvMaxRows.
void gemv(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const void* W, WeightType wt,
          int64_t w_stride_n, int64_t w_stride_k, float* y, int64_t ldy, const Epilogue& ep = {});

// Whether bf16 weights, in either layout, multiply as bf16 here (x rounded to bf16 to nearest
// even, f32 accumulation: VDPBF16PS), as gemm() runs bf16 weights (native_bf16()); otherwise they
// are widened to f32 in registers and x is used as it is.
bool gemv_bf16_products();

}  // namespace cppformers::cpu
