#pragma once
// WhisperConfig with transformers' field names and defaults (the fields the model and
// generation use).
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct WhisperConfig : PretrainedConfig {
  int64_t vocab_size = 51865, num_mel_bins = 80, d_model = 384, encoder_layers = 4, decoder_layers = 4,
          encoder_attention_heads = 6, decoder_attention_heads = 6, encoder_ffn_dim = 1536, decoder_ffn_dim = 1536,
          max_source_positions = 1500, max_target_positions = 448;
  std::string activation_function = "gelu";
  double init_std = 0.02;
  bool scale_embedding = false;
  int64_t decoder_start_token_id = 50257;

  WhisperConfig() { model_type = "whisper"; pad_token_id = 50256; bos_token_id = 50257; eos_token_id = 50257; }
  static WhisperConfig from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
