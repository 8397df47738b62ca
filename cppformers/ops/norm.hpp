#pragma once
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

// Normalises over the last dim, as torch.nn.functional.layer_norm with normalized_shape =
// [x.size(-1)]; weight and bias ([n]) may be undefined.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);

}  // namespace cppformers::ops
