#pragma once
// Token ids read from the command line or an --inputs file, checked against the model before
// they reach its embedding, so that a wrong id is an error naming where it came from.
#include <cstdint>
#include <string>

#include "cppformers/core/error.hpp"
#include "cppformers/models/pretrained.hpp"

namespace cppformers::cli {

// `where`: the file and tensor, or the option, the ids came from. Ids must be integers and
// inside config.json's vocab_size (when the config has one).
inline void check_token_ids(const Tensor& ids, const PreTrainedModel& model, const std::string& where) {
  if (is_floating(ids.dtype()) || ids.dtype() == kBool)
    throw ValueError(where + " must hold integer token ids, got " + dtype_name(ids.dtype()));
  const nlohmann::json cj = model.config().to_json();
  if (!cj.contains("vocab_size") || !cj["vocab_size"].is_number_integer()) return;
  const int64_t vocab = cj["vocab_size"].get<int64_t>();
  for (int64_t id : ids.to_vector<int64_t>())
    if (id < 0 || id >= vocab)
      throw ValueError(where + " holds id " + std::to_string(id) +
                       ", outside the vocabulary (config.json's vocab_size is " + std::to_string(vocab) + ")");
}

}  // namespace cppformers::cli
