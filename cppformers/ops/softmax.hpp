#pragma once
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace cppformers::ops
