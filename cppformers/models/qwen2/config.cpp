#include "cppformers/models/qwen2/config.hpp"

#include "cppformers/io/json.hpp"

namespace cppformers {

LlamaConfig qwen2_config_from_json(const nlohmann::json& j, const std::string& file) {
  using io::json_get;
  LlamaConfig c;
  c.model_type = "qwen2";
  c.class_prefix = "Qwen2";
  c.vocab_size = 151936;
  c.intermediate_size = 22016;
  c.head_dim = 0;
  c.max_position_embeddings = 32768;
  LlamaConfig::parse_shared(c, j, file);
  c.head_dim = c.hidden_size / c.num_attention_heads;  // Qwen2 has no head_dim key
  c.rope = nn::RopeConfig::from_json(j, c.head_dim, file);
  c.tie_word_embeddings = json_get<bool>(j, "tie_word_embeddings", false, file);
  c.qkv_bias = true;
  c.o_bias = false;
  c.mlp_bias = false;
  if (json_get<bool>(j, "use_sliding_window", false, file)) {
    c.sliding_window = json_get<int64_t>(j, "sliding_window", 4096, file);
    c.sliding_window_from_layer = json_get<int64_t>(j, "max_window_layers", 28, file);
  }
  return c;
}

}  // namespace cppformers
