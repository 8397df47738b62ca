#pragma once
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

// Rows of `weight` ([num, dim]) picked by integer `ids` of any shape -> ids.shape + [dim].
// Ids out of [0, num) are an error naming the offending id. Gradients to padding_idx are zero.
Tensor embedding(const Tensor& ids, const Tensor& weight, int64_t padding_idx = -1);
// torch.index_select: entries of x along dim at the positions in the 1-d `index`.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// torch.gather: out[..i..] = x[.. index[..i..] (along dim) ..]; index has x's rank.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// out = x; out[.. index[j] (along dim) ..] += src[.. j ..] (the backward of index_select).
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);

}  // namespace cppformers::ops
