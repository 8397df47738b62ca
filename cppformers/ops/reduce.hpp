#pragma once
// Reductions. `dims` may be negative; an empty `dims` reduces over every dim.
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor amax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // i64
Tensor cumsum(const Tensor& x, int64_t dim);                         // same dtype family
// Sums g over broadcast dims so that it has `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& g, const Shape& shape);

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

}  // namespace cppformers::ops
