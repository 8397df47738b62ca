#pragma once
// What every decoder-only causal LM shares: input checks, default positions, the shifted
// next-token loss.
#include <string>

#include "cppformers/models/model_io.hpp"

namespace cppformers {

// input_ids [B, S] integer; attention_mask [B, past + S]; position_ids [B, S] (if given).
void check_causal_lm_inputs(const ModelInputs& in, int64_t past, const std::string& model);
// in.position_ids, or (as HF without them) cache slots past .. past + S - 1 for every row.
Tensor causal_position_ids(const ModelInputs& in, int64_t past);
// HF's ForCausalLM loss: logits[:, :-1] predict labels[:, 1:] (cross-entropy, -100 ignored).
Tensor causal_lm_loss(const Tensor& logits, const Tensor& labels);

}  // namespace cppformers
