#pragma once
// GPT2Config with transformers' field names and defaults.
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct GPT2Config : PretrainedConfig {
  int64_t vocab_size = 50257;
  int64_t n_positions = 1024;
  int64_t n_embd = 768;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_inner = 0;  // null: 4 * n_embd
  std::string activation_function = "gelu_new";
  double resid_pdrop = 0.1, embd_pdrop = 0.1, attn_pdrop = 0.1;
  double layer_norm_epsilon = 1e-5;
  double initializer_range = 0.02;
  bool scale_attn_weights = true;
  bool scale_attn_by_inverse_layer_idx = false;
  bool reorder_and_upcast_attn = false;

  GPT2Config() {
    model_type = "gpt2";
    bos_token_id = eos_token_id = 50256;
  }
  int64_t inner_dim() const { return n_inner > 0 ? n_inner : 4 * n_embd; }
  static GPT2Config from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
