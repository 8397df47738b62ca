#pragma once
// T5Config with transformers' field names and defaults (T5, T5 v1.1, Flan-T5, mT5).
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct T5Config : PretrainedConfig {
  int64_t vocab_size = 32128, d_model = 512, d_kv = 64, d_ff = 2048, num_layers = 6, num_decoder_layers = 6,
          num_heads = 8, relative_attention_num_buckets = 32, relative_attention_max_distance = 128;
  double dropout_rate = 0.1, layer_norm_epsilon = 1e-6, initializer_factor = 1.0;
  std::string feed_forward_proj = "relu", dense_act_fn = "relu";
  bool is_gated_act = false;
  int64_t decoder_start_token_id = 0;

  T5Config() { model_type = "t5"; pad_token_id = 0; eos_token_id = 1; }
  static T5Config from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
