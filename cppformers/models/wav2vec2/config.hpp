#pragma once
// Wav2Vec2Config with transformers' field names and defaults (the fields inference uses).
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct Wav2Vec2Config : PretrainedConfig {
  int64_t vocab_size = 32, hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12, intermediate_size = 3072;
  std::string hidden_act = "gelu", feat_extract_activation = "gelu", feat_extract_norm = "group";
  double layer_norm_eps = 1e-5, initializer_range = 0.02;
  std::vector<int64_t> conv_dim{512, 512, 512, 512, 512, 512, 512}, conv_stride{5, 2, 2, 2, 2, 2, 2},
      conv_kernel{10, 3, 3, 3, 3, 2, 2};
  bool conv_bias = false, do_stable_layer_norm = false;
  int64_t num_conv_pos_embeddings = 128, num_conv_pos_embedding_groups = 16;
  std::string ctc_loss_reduction = "sum";
  bool ctc_zero_infinity = false;

  Wav2Vec2Config() { model_type = "wav2vec2"; pad_token_id = 0; bos_token_id = 1; eos_token_id = 2; }
  static Wav2Vec2Config from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
  // Frames the feature encoder makes of `samples` input samples.
  int64_t output_length(int64_t samples) const;
};

}  // namespace cppformers
