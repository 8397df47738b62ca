#pragma once
#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

// torch.nn.functional.cross_entropy for logits [N, C] and integer targets [N]: the mean of
// -log_softmax(logits)[i, target[i]] over rows whose target != ignore_index (0 if none).
// Targets outside [0, C) (other than ignore_index) are an error.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index = -100);
// Mean squared error, as torch.nn.functional.mse_loss (reduction mean).
Tensor mse_loss(const Tensor& input, const Tensor& target);
// torch.nn.functional.binary_cross_entropy_with_logits (reduction mean).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target);

}  // namespace cppformers::ops
