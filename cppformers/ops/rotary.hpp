#pragma once
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

// Rotary position embedding, as transformers' apply_rotary_pos_emb (rotate_half convention):
//   y[..., :R] = x[..., :R] * cos + rotate_half(x[..., :R]) * sin,  y[..., R:] = x[..., R:]
// with rotate_half(z) = cat(-z[R/2:], z[:R/2]).
// x: [B, H, S, D] (any strides); cos, sin: [B or 1, S, R] with R even and R <= D (R < D is a
// partial rotary embedding). Returns a contiguous f32 [B, H, S, D]. Gradients flow to x only
// (cos and sin are functions of the positions, never trained).
Tensor apply_rotary(const Tensor& x, const Tensor& cos, const Tensor& sin);

}  // namespace cppformers::ops
