#pragma once
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

// Root-mean-square norm over the last dim, as Llama's RMSNorm:
//   y = x * rsqrt(mean(x^2) + eps) * (weight + weight_offset)
// weight ([n]) may be undefined (no scaling). weight_offset is 0 for Llama-style norms and 1 for
// Gemma's (which stores weight - 1). Computes in f32 whatever the input dtype.
Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps, double weight_offset = 0.0);

}  // namespace cppformers::ops
