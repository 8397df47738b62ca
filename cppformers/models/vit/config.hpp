#pragma once
// ViTConfig with transformers' field names and defaults.
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct ViTConfig : PretrainedConfig {
  int64_t hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12, intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.0, attention_probs_dropout_prob = 0.0, initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  int64_t image_size = 224, patch_size = 16, num_channels = 3, encoder_stride = 16;
  bool qkv_bias = true;

  ViTConfig() { model_type = "vit"; set_num_labels(2); }
  static ViTConfig from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
