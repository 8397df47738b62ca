#pragma once
// BartConfig with transformers' field names and defaults.
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct BartConfig : PretrainedConfig {
  int64_t vocab_size = 50265, d_model = 1024, encoder_layers = 12, decoder_layers = 12, encoder_attention_heads = 16,
          decoder_attention_heads = 16, encoder_ffn_dim = 4096, decoder_ffn_dim = 4096, max_position_embeddings = 1024;
  std::string activation_function = "gelu";
  double init_std = 0.02;
  bool scale_embedding = false;
  int64_t decoder_start_token_id = 2;
  std::optional<int64_t> forced_eos_token_id, forced_bos_token_id;

  BartConfig() { model_type = "bart"; pad_token_id = 1; bos_token_id = 0; eos_token_id = 2; }
  static BartConfig from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
