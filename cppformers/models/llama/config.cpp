#include "cppformers/models/llama/config.hpp"

#include <algorithm>
#include <cmath>

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

using nlohmann::json;

void LlamaConfig::parse_shared(LlamaConfig& c, const json& j, const std::string& file) {
  using io::json_get;
  const std::string type = c.model_type;
  c.parse_common(j, file);
  c.model_type = type;
  c.vocab_size = json_get<int64_t>(j, "vocab_size", c.vocab_size, file);
  c.hidden_size = json_get<int64_t>(j, "hidden_size", c.hidden_size, file);
  c.intermediate_size = json_get<int64_t>(j, "intermediate_size", c.intermediate_size, file);
  c.num_hidden_layers = json_get<int64_t>(j, "num_hidden_layers", c.num_hidden_layers, file);
  c.num_attention_heads = json_get<int64_t>(j, "num_attention_heads", c.num_attention_heads, file);
  if (c.num_attention_heads <= 0 || c.hidden_size <= 0)
    throw FormatError(file + ": 'hidden_size' and 'num_attention_heads' must be positive");
  // num_key_value_heads: null or absent means one per attention head (no grouping)
  c.num_key_value_heads = json_get<int64_t>(j, "num_key_value_heads", c.num_attention_heads, file);
  c.head_dim = json_get<int64_t>(j, "head_dim", c.head_dim > 0 ? c.head_dim : c.hidden_size / c.num_attention_heads, file);
  c.hidden_act = json_get<std::string>(j, "hidden_act", c.hidden_act, file);
  c.max_position_embeddings = json_get<int64_t>(j, "max_position_embeddings", c.max_position_embeddings, file);
  c.initializer_range = json_get<double>(j, "initializer_range", c.initializer_range, file);
  c.rms_norm_eps = json_get<double>(j, "rms_norm_eps", c.rms_norm_eps, file);
  c.attention_dropout = json_get<double>(j, "attention_dropout", c.attention_dropout, file);
  c.attention_bias = json_get<bool>(j, "attention_bias", c.attention_bias, file);
  c.mlp_bias = json_get<bool>(j, "mlp_bias", c.mlp_bias, file);
  {  // a lower bound: embeddings, attention and MLP weights
    const double h = double(c.hidden_size), hd = double(c.head_dim), q = double(c.num_attention_heads),
                 kv = double(c.num_key_value_heads > 0 ? c.num_key_value_heads : c.num_attention_heads);
    const double per_layer = 2 * h * q * hd + 2 * h * kv * hd + 3 * h * double(c.intermediate_size) + 2 * h;
    check_parameters_fit_in_memory(
        double(c.vocab_size) * h + double(std::max<int64_t>(c.num_hidden_layers, 0)) * per_layer, file,
        "vocab_size " + std::to_string(c.vocab_size) + ", hidden_size " + std::to_string(c.hidden_size) +
            ", num_hidden_layers " + std::to_string(c.num_hidden_layers) + ", num_attention_heads " +
            std::to_string(c.num_attention_heads) + ", head_dim " + std::to_string(c.head_dim) + ", intermediate_size " +
            std::to_string(c.intermediate_size));
  }
  json rj = j;
  if (!rj.contains("rope_theta")) rj["rope_theta"] = c.rope.theta;
  c.rope = nn::RopeConfig::from_json(rj, c.head_dim, file);
  if (c.num_key_value_heads <= 0 || c.num_attention_heads % c.num_key_value_heads)
    throw FormatError(file + ": 'num_attention_heads' (" + std::to_string(c.num_attention_heads) +
                      ") must be a multiple of 'num_key_value_heads' (" + std::to_string(c.num_key_value_heads) + ")");
  if (c.vocab_size <= 0 || c.num_hidden_layers < 0 || c.intermediate_size <= 0 || c.head_dim <= 0)
    throw FormatError(file + ": sizes ('vocab_size', 'num_hidden_layers', 'intermediate_size', 'head_dim') must be positive");
  if (!nn::is_known_activation(c.hidden_act))
    throw NotSupportedError(file + ": activation '" + c.hidden_act + "' is not supported");
}

LlamaConfig LlamaConfig::from_json(const json& j, const std::string& file) {
  LlamaConfig c;
  c.tie_word_embeddings = false;
  c.head_dim = 0;
  c.num_key_value_heads = 0;
  parse_shared(c, j, file);
  c.tie_word_embeddings = io::json_get<bool>(j, "tie_word_embeddings", false, file);
  c.qkv_bias = c.o_bias = c.attention_bias;
  return c;
}

int64_t LlamaConfig::layer_sliding_window(int64_t layer) const {
  if (sliding_window <= 0 || layer < sliding_window_from_layer) return 0;
  return layer % std::max<int64_t>(sliding_window_period, 1) == 0 ? sliding_window : 0;
}

nn::AttentionConfig LlamaConfig::attention(int64_t layer) const {
  nn::AttentionConfig a;
  a.hidden_size = hidden_size;
  a.num_heads = num_attention_heads;
  a.num_kv_heads = num_key_value_heads;
  a.head_dim = head_dim;
  a.q_bias = a.k_bias = a.v_bias = qkv_bias;
  a.o_bias = o_bias;
  a.fused_qkv = fused_qkv;
  a.scale = 1.0 / std::sqrt(query_pre_attn_scalar > 0 ? query_pre_attn_scalar : double(head_dim));
  a.logit_softcap = attn_logit_softcapping;
  a.dropout = attention_dropout;
  (void)layer;
  return a;
}

json LlamaConfig::to_json() const {
  json j;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["head_dim"] = head_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["initializer_range"] = initializer_range;
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope.theta;
  if (!extra.contains("hidden_activation")) j["hidden_act"] = hidden_act;
  write_common(j);
  return j;
}

}  // namespace cppformers
