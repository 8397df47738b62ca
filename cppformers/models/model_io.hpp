#pragma once
// What a model takes and returns, with transformers' field names.
#include <string>
#include <utility>
#include <vector>

#include "cppformers/core/tensor.hpp"
#include "cppformers/io/safetensors.hpp"

namespace cppformers {

struct ModelInputs {
  Tensor input_ids, attention_mask, token_type_ids, position_ids;
  Tensor labels, start_positions, end_positions;
  bool output_hidden_states = false, output_attentions = false;

  // Picks the tensors named like a model input ("input_ids", "labels", ...) out of `named`;
  // other names are ignored. Names of inputs it recognises are listed by input_names().
  static ModelInputs from_tensors(const io::StateDict& named);
  static const std::vector<std::string>& input_names();
};

struct ModelOutput {
  Tensor loss, logits, last_hidden_state, pooler_output, start_logits, end_logits;
  std::vector<Tensor> hidden_states, attentions;

  // Every defined output, named as transformers does (tuples flattened: hidden_states.0, ...).
  std::vector<std::pair<std::string, Tensor>> named() const;
};

}  // namespace cppformers
