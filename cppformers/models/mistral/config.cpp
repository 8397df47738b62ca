#include "cppformers/models/mistral/config.hpp"

#include "cppformers/io/json.hpp"

namespace cppformers {

LlamaConfig mistral_config_from_json(const nlohmann::json& j, const std::string& file) {
  LlamaConfig c;
  c.model_type = "mistral";
  c.class_prefix = "Mistral";
  c.intermediate_size = 14336;
  c.num_key_value_heads = 8;
  c.head_dim = 0;
  c.max_position_embeddings = 4096 * 32;
  LlamaConfig::parse_shared(c, j, file);
  c.tie_word_embeddings = io::json_get<bool>(j, "tie_word_embeddings", false, file);
  c.num_key_value_heads = io::json_get<int64_t>(j, "num_key_value_heads", 8, file);
  c.sliding_window = io::json_get<int64_t>(j, "sliding_window", 4096, file);
  if (j.contains("sliding_window") && j["sliding_window"].is_null()) c.sliding_window = 0;
  c.qkv_bias = c.o_bias = false;
  c.mlp_bias = false;
  return c;
}

}  // namespace cppformers
