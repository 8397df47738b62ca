#include "cppformers/models/gemma/config.hpp"

#include "cppformers/io/json.hpp"

namespace cppformers {

LlamaConfig gemma_config_from_json(const nlohmann::json& j, const std::string& file) {
  using io::json_get;
  LlamaConfig c;
  c.model_type = "gemma";
  c.class_prefix = "Gemma";
  c.vocab_size = 256000;
  c.hidden_size = 3072;
  c.intermediate_size = 24576;
  c.num_hidden_layers = 28;
  c.num_attention_heads = 16;
  c.num_key_value_heads = 16;
  c.head_dim = 256;
  c.max_position_embeddings = 8192;
  LlamaConfig::parse_shared(c, j, file);
  // GemmaMLP uses hidden_activation (gelu_pytorch_tanh when unset), not hidden_act
  c.hidden_act = json_get<std::string>(j, "hidden_activation", "gelu_pytorch_tanh", file);
  c.tie_word_embeddings = json_get<bool>(j, "tie_word_embeddings", true, file);
  c.qkv_bias = c.o_bias = c.attention_bias;
  c.norm_weight_offset = 1.0;
  c.scale_embeddings = true;
  return c;
}

}  // namespace cppformers
