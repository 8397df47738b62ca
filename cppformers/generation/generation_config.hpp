#pragma once
// GenerationConfig: generation_config.json (or the model config's special tokens) with
// transformers 4.45's field names and defaults, and per-call overrides as Python's kwargs.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct GenerationConfig {
  // length
  int64_t max_length = 20;                 // prompt included
  std::optional<int64_t> max_new_tokens;   // overrides max_length when set
  int64_t min_length = 0;
  std::optional<int64_t> min_new_tokens;
  // early_stopping: "false" (0), "true" (1) or "never" (2), as BeamSearchScorer reads it
  int early_stopping = 0;
  // strategy
  bool do_sample = false;
  int64_t num_beams = 1;
  bool use_cache = true;
  // logits manipulation
  double temperature = 1.0;
  int64_t top_k = 50;
  double top_p = 1.0;
  std::optional<double> min_p;
  double repetition_penalty = 1.0;
  double length_penalty = 1.0;
  int64_t no_repeat_ngram_size = 0;
  std::vector<std::vector<int64_t>> bad_words_ids;
  std::vector<int64_t> suppress_tokens;
  bool renormalize_logits = false;
  std::optional<int64_t> forced_bos_token_id, forced_eos_token_id;
  // output
  int64_t num_return_sequences = 1;
  bool output_scores = false;
  // special tokens
  std::optional<int64_t> pad_token_id, bos_token_id;
  std::vector<int64_t> eos_token_id;  // one or several
  std::vector<std::string> stop_strings;
  // sampling seed (cppformers' generator; not torch's bit stream). Unset: the default generator.
  std::optional<uint64_t> seed;

  // generation_config.json contents (unknown keys are ignored).
  static GenerationConfig from_json(const nlohmann::json& j, const std::string& file = "generation_config.json");
  // DIR/generation_config.json if present, else the model config's bos/eos/pad ids.
  static GenerationConfig from_pretrained(const std::string& dir, const PretrainedConfig* model_config = nullptr);
  static GenerationConfig from_model_config(const PretrainedConfig& c);
  // Applies the keys present in `kwargs` (Python's generate(**kwargs) names). A transformers
  // generation parameter that cppformers does not implement (typical_p, penalty_alpha, ...) is
  // an error unless it holds its neutral value; other unknown keys are ignored, as Python keeps them.
  void update(const nlohmann::json& kwargs, const std::string& where = "generate kwargs");
  // For generate(**kwargs) from a user: a key that is no generation parameter at all is an error
  // naming it (transformers: "The following `model_kwargs` are not used by the model").
  static void check_kwarg_names(const nlohmann::json& kwargs, const std::string& where);
  nlohmann::json to_json() const;

  // max_length for a prompt of `input_len` (max_new_tokens wins).
  int64_t effective_max_length(int64_t input_len) const {
    if (!max_new_tokens) return max_length;
    return *max_new_tokens > INT64_MAX - input_len ? INT64_MAX : input_len + *max_new_tokens;  // saturates
  }
  // Checks values (temperature > 0, 0 <= top_p <= 1, num_return_sequences <= num_beams, ...).
  void validate() const;
};

}  // namespace cppformers
