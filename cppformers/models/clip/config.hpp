#pragma once
// CLIPConfig (with its CLIPTextConfig and CLIPVisionConfig) with transformers' names and defaults.
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct CLIPTowerConfig {  // the fields CLIPTextConfig and CLIPVisionConfig share
  int64_t hidden_size = 512, intermediate_size = 2048, num_hidden_layers = 12, num_attention_heads = 8;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;
  // text
  int64_t vocab_size = 49408, max_position_embeddings = 77;
  int64_t eos_token_id = 49407, pad_token_id = 1;
  // vision
  int64_t image_size = 224, patch_size = 32, num_channels = 3;
  nlohmann::json raw;
};

struct CLIPConfig : PretrainedConfig {
  CLIPTowerConfig text_config, vision_config;
  int64_t projection_dim = 512;
  double logit_scale_init_value = 2.6592;

  CLIPConfig() { model_type = "clip"; }
  static CLIPConfig from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
