#pragma once
// LlamaConfig with transformers' field names and defaults. The Llama family (Mistral, Qwen2,
// Gemma, Gemma-2, Phi-3) shares its implementation: each member's config parser (in its own
// folder) fills a LlamaConfig, setting the few switches below that say how it differs.
#include "cppformers/models/pretrained.hpp"
#include "cppformers/nn/decoder_attention.hpp"
#include "cppformers/nn/rotary.hpp"

namespace cppformers {

struct LlamaConfig : PretrainedConfig {
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;
  int64_t head_dim = 128;
  std::string hidden_act = "silu";
  int64_t max_position_embeddings = 2048;
  double initializer_range = 0.02;
  double rms_norm_eps = 1e-6;
  double attention_dropout = 0.0;
  bool attention_bias = false;
  bool mlp_bias = false;
  nn::RopeConfig rope;  // rope_theta, rope_scaling, partial_rotary_factor

  // ---- how a family member differs (set by its parser, not read from config.json keys)
  std::string class_prefix = "Llama";  // <prefix>Model, <prefix>ForCausalLM
  bool qkv_bias = false, o_bias = false;
  bool fused_qkv = false, fused_gate_up = false;  // Phi-3's qkv_proj / gate_up_proj
  double norm_weight_offset = 0.0;                // Gemma: norms scale by (1 + weight)
  bool scale_embeddings = false;                  // Gemma: embeddings * sqrt(hidden_size)
  int64_t sliding_window = 0;                     // 0: full causal attention
  int64_t sliding_window_period = 1;              // the window applies to layers i % period == 0 ...
  int64_t sliding_window_from_layer = 0;          // ... with i >= this (Qwen2's max_window_layers)
  double query_pre_attn_scalar = 0;               // Gemma-2: scale = this^-0.5 (0: head_dim)
  double attn_logit_softcapping = 0, final_logit_softcapping = 0;  // Gemma-2 (0: none)
  bool sandwich_norms = false;  // Gemma-2: norms after attention/MLP too (pre/post_feedforward_layernorm)

  LlamaConfig() { model_type = "llama"; }
  nn::AttentionConfig attention(int64_t layer) const;
  int64_t layer_sliding_window(int64_t layer) const;

  static LlamaConfig from_json(const nlohmann::json& j, const std::string& file);
  // Reads the fields the family shares into c (c's values are the defaults) and validates.
  static void parse_shared(LlamaConfig& c, const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
