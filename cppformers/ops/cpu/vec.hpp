#pragma once
// SIMD kernels over contiguous float rows, compiled for several ISAs with Highway and chosen at
// run time (HWY_DYNAMIC_DISPATCH) for the CPU at hand.
#include <cstdint>

namespace cppformers::cpu {

enum class Unary { kExp, kLog, kTanh, kSigmoid, kGeluErf, kGeluTanh, kSilu, kRelu, kSqrt, kRsqrt };

void unary(Unary op, const float* x, float* y, int64_t n);
// y = softmax(x) and y = log_softmax(x) over one row of n.
void softmax_row(const float* x, float* y, int64_t n);
void log_softmax_row(const float* x, float* y, int64_t n);
// y = softmax(x * scale + bias) over one row; bias may be null.
void scaled_softmax_row(const float* x, const float* bias, float scale, float* y, int64_t n);
// y[r] = a . B[r, :] and y = sum_r w[r] B[r, :], for `rows` rows of n floats at stride ldb
// (one query's attention scores against cached keys, and its context from cached values).
void dot_rows(const float* a, const float* b, int64_t ldb, int64_t rows, int64_t n, float* y);
void weighted_row_sum(const float* w, const float* b, int64_t ldb, int64_t rows, int64_t n, float* y);
// y = (x - mean) * rstd * w + b over one row; writes the row's mean and rstd (for backward).
// w and b may be null (no affine).
void layer_norm_row(const float* x, const float* w, const float* b, float* y, int64_t n,
                    float eps, float* mean_out, float* rstd_out);
// Name of the SIMD target chosen for this CPU ("AVX3", "AVX2", ...).
const char* simd_target();

}  // namespace cppformers::cpu
