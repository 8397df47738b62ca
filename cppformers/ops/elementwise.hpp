#pragma once
// Elementwise ops with NumPy/PyTorch broadcasting. Floating inputs compute in f32 (f16/bf16
// widen first); integer inputs in i64; comparisons return bool. All record autograd.
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

Shape broadcast_shapes(const Shape& a, const Shape& b);

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, double exponent);
Tensor clamp(const Tensor& a, double lo, double hi);

Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& a);

Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
// approximate: "none" (erf form) or "tanh", as torch.nn.functional.gelu.
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor silu(const Tensor& x);

// cond ? a : b, broadcasting all three; cond is bool (or any dtype, non-zero = true).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// x with value wherever mask (broadcast to x) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// A 0-d tensor holding v, typed to combine with `like` (f32 for floats; i64 for integral v).
Tensor scalar_like(double v, const Tensor& like);

}  // namespace cppformers::ops
