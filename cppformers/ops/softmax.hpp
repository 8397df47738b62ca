#pragma once
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// softmax(x * scale + bias, -1) with bias broadcast to x (e.g. an additive attention mask);
// bias may be undefined. One fused pass when no gradient is recorded.
Tensor scaled_masked_softmax(const Tensor& x, double scale, const Tensor& bias);

}  // namespace cppformers::ops
