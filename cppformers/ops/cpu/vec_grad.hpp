#pragma once
// SIMD kernels for the backward passes and the optimizer, over contiguous float rows; compiled
// for several ISAs with Highway and chosen at run time, as vec.hpp's.
#include <cstdint>

namespace cppformers::cpu {

// dx = g * gelu'(x) over n elements (the erf form, or the tanh approximation).
void gelu_backward(const float* x, const float* g, float* dx, int64_t n, bool tanh_form);

// dx = scale * y * (g - sum(g * y)) over one row of n: the gradient of softmax(scale * x + b)
// through its output y (scale 1: plain softmax).
void softmax_backward_row(const float* y, const float* g, float* dx, int64_t n, float scale = 1.0f);

// The input gradient of layer norm over one row of n, from the forward's mean and rstd:
//   xhat = (x - mean) * rstd, dxhat = g * w (w may be null: 1),
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
void layer_norm_backward_row(const float* x, const float* g, const float* w, float mean, float rstd,
                             float* dx, int64_t n);

// acc[i] += double(x[i]) for n elements (column sums in double, a row at a time).
void accumulate_f64(const float* x, double* acc, int64_t n);

// One AdamW step over n elements, in place (p, m, v), as torch.optim.AdamW (non-amsgrad):
//   p *= decay; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//   p += neg_step_size * m / (sqrt(v) / bc2_sqrt + eps)
// g is read as sign * g (sign -1 to maximize).
struct AdamWStep {
  float decay, b1, one_minus_b1, b2, one_minus_b2, neg_step_size, bc2_sqrt, eps, sign;
};
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamWStep& s);

}  // namespace cppformers::cpu
