#include "cppformers/models/causal_lm.hpp"

#include "cppformers/ops/ops.hpp"

namespace cppformers {

void check_causal_lm_inputs(const ModelInputs& in, int64_t past, const std::string& model) {
  if (!in.input_ids.defined()) throw ValueError(model + ": 'input_ids' is required");
  if (in.input_ids.dim() != 2 || is_floating(in.input_ids.dtype()))
    throw ValueError(model + ": 'input_ids' must be an integer [batch, seq] tensor, got " +
                     dtype_name(in.input_ids.dtype()) + " " + shape_str(in.input_ids.shape()));
  const int64_t B = in.input_ids.size(0), S = in.input_ids.size(1);
  if (in.attention_mask.defined() &&
      (in.attention_mask.dim() != 2 || in.attention_mask.size(0) != B || in.attention_mask.size(1) != past + S))
    throw ValueError(model + ": 'attention_mask' has shape " + shape_str(in.attention_mask.shape()) + ", expected [" +
                     std::to_string(B) + ", " + std::to_string(past + S) + "] (cached + new positions)");
  if (in.position_ids.defined() && in.position_ids.shape() != in.input_ids.shape())
    throw ValueError(model + ": 'position_ids' has shape " + shape_str(in.position_ids.shape()) + ", 'input_ids' has " +
                     shape_str(in.input_ids.shape()));
}

Tensor causal_position_ids(const ModelInputs& in, int64_t past) {
  if (in.position_ids.defined()) return in.position_ids;
  const int64_t B = in.input_ids.size(0), S = in.input_ids.size(1);
  std::vector<int64_t> pos(static_cast<size_t>(B * S));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) pos[size_t(b * S + s)] = past + s;
  return Tensor::from_vector(pos, {B, S});
}

Tensor causal_lm_loss(const Tensor& logits, const Tensor& labels) {
  const int64_t S = logits.size(1), V = logits.size(-1);
  if (labels.shape() != Shape{logits.size(0), S})
    throw ValueError("labels " + shape_str(labels.shape()) + " do not match the logits " + shape_str(logits.shape()));
  if (S < 2) return ops::cross_entropy(logits.reshape({-1, V}).narrow(0, 0, 0), labels.reshape({-1}).narrow(0, 0, 0));
  Tensor shift_logits = logits.narrow(1, 0, S - 1).reshape({-1, V});
  Tensor shift_labels = labels.narrow(1, 1, S - 1).reshape({-1}).to(kI64);
  return ops::cross_entropy(shift_logits, shift_labels);
}

}  // namespace cppformers
