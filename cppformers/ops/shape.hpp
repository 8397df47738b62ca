#pragma once
// Joining tensors. (Views — view, reshape, transpose, narrow, ... — are Tensor methods.)
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);

}  // namespace cppformers::ops
