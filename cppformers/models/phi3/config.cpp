#include "cppformers/models/phi3/config.hpp"

#include "cppformers/io/json.hpp"

namespace cppformers {

LlamaConfig phi3_config_from_json(const nlohmann::json& j, const std::string& file) {
  using io::json_get;
  LlamaConfig c;
  c.model_type = "phi3";
  c.class_prefix = "Phi3";
  c.vocab_size = 32064;
  c.hidden_size = 3072;
  c.intermediate_size = 8192;
  c.head_dim = 0;
  c.num_key_value_heads = 0;
  c.max_position_embeddings = 4096;
  c.rms_norm_eps = 1e-5;
  LlamaConfig::parse_shared(c, j, file);
  c.head_dim = c.hidden_size / c.num_attention_heads;
  c.rope = nn::RopeConfig::from_json(j, c.head_dim, file);
  c.tie_word_embeddings = json_get<bool>(j, "tie_word_embeddings", false, file);
  c.qkv_bias = c.o_bias = c.mlp_bias = false;
  c.fused_qkv = c.fused_gate_up = true;
  c.sliding_window = json_get<int64_t>(j, "sliding_window", 0, file);
  c.attention_dropout = json_get<double>(j, "attention_dropout", 0.0, file);
  return c;
}

}  // namespace cppformers
