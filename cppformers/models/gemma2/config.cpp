#include "cppformers/models/gemma2/config.hpp"

#include "cppformers/io/json.hpp"

namespace cppformers {

LlamaConfig gemma2_config_from_json(const nlohmann::json& j, const std::string& file) {
  using io::json_get;
  LlamaConfig c;
  c.model_type = "gemma2";
  c.class_prefix = "Gemma2";
  c.vocab_size = 256000;
  c.hidden_size = 3072;
  c.intermediate_size = 24576;
  c.num_hidden_layers = 28;
  c.num_attention_heads = 16;
  c.num_key_value_heads = 16;
  c.head_dim = 256;
  c.max_position_embeddings = 8192;
  LlamaConfig::parse_shared(c, j, file);
  c.hidden_act = json_get<std::string>(j, "hidden_activation", "gelu_pytorch_tanh", file);
  c.tie_word_embeddings = json_get<bool>(j, "tie_word_embeddings", true, file);
  c.qkv_bias = c.o_bias = c.attention_bias;
  c.norm_weight_offset = 1.0;
  c.scale_embeddings = true;
  c.sandwich_norms = true;
  c.query_pre_attn_scalar = json_get<double>(j, "query_pre_attn_scalar", 224, file);
  c.attn_logit_softcapping = json_get<double>(j, "attn_logit_softcapping", 0.0, file);
  c.final_logit_softcapping = json_get<double>(j, "final_logit_softcapping", 0.0, file);
  c.sliding_window = json_get<int64_t>(j, "sliding_window", 4096, file);
  c.sliding_window_period = 2;  // layers 0, 2, 4, ... attend within the window
  return c;
}

}  // namespace cppformers
