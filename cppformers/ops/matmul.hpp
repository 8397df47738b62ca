#pragma once
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

// torch.matmul semantics: 1-d operands are promoted, batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
// x @ weight^T + bias, as torch.nn.functional.linear; weight is [out, in], bias [out] or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace cppformers::ops
