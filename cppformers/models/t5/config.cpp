#include "cppformers/models/t5/config.hpp"

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

T5Config T5Config::from_json(const nlohmann::json& j, const std::string& file) {
  T5Config c;
  c.parse_common(j, file);
  using io::json_get;
  c.vocab_size = json_get<int64_t>(j, "vocab_size", c.vocab_size, file);
  c.d_model = json_get<int64_t>(j, "d_model", c.d_model, file);
  c.d_kv = json_get<int64_t>(j, "d_kv", c.d_kv, file);
  c.d_ff = json_get<int64_t>(j, "d_ff", c.d_ff, file);
  c.num_layers = json_get<int64_t>(j, "num_layers", c.num_layers, file);
  c.num_decoder_layers = json_get<int64_t>(j, "num_decoder_layers", c.num_layers, file);
  c.num_heads = json_get<int64_t>(j, "num_heads", c.num_heads, file);
  c.relative_attention_num_buckets = json_get<int64_t>(j, "relative_attention_num_buckets", c.relative_attention_num_buckets, file);
  c.relative_attention_max_distance = json_get<int64_t>(j, "relative_attention_max_distance", c.relative_attention_max_distance, file);
  c.dropout_rate = json_get<double>(j, "dropout_rate", c.dropout_rate, file);
  c.layer_norm_epsilon = json_get<double>(j, "layer_norm_epsilon", c.layer_norm_epsilon, file);
  c.initializer_factor = json_get<double>(j, "initializer_factor", c.initializer_factor, file);
  c.feed_forward_proj = json_get<std::string>(j, "feed_forward_proj", c.feed_forward_proj, file);
  c.decoder_start_token_id = json_get<int64_t>(j, "decoder_start_token_id", c.pad_token_id.value_or(0), file);
  // "gated-gelu" -> gated, gelu_new (as T5Config.__init__)
  std::string f = c.feed_forward_proj;
  c.is_gated_act = f.rfind("gated-", 0) == 0;
  c.dense_act_fn = c.is_gated_act ? f.substr(6) : f;
  if (f == "gated-gelu") c.dense_act_fn = "gelu_new";
  if (!nn::is_known_activation(c.dense_act_fn))
    throw NotSupportedError(file + ": 'feed_forward_proj' '" + f + "' is not supported");
  if (c.d_model <= 0 || c.num_heads <= 0 || c.d_kv <= 0 || c.relative_attention_num_buckets < 2)
    throw FormatError(file + ": 'd_model', 'num_heads', 'd_kv' must be positive, 'relative_attention_num_buckets' >= 2");
  return c;
}

nlohmann::json T5Config::to_json() const {
  nlohmann::json j;
  j["vocab_size"] = vocab_size;
  j["d_model"] = d_model;
  j["d_kv"] = d_kv;
  j["d_ff"] = d_ff;
  j["num_layers"] = num_layers;
  j["num_decoder_layers"] = num_decoder_layers;
  j["num_heads"] = num_heads;
  j["relative_attention_num_buckets"] = relative_attention_num_buckets;
  j["relative_attention_max_distance"] = relative_attention_max_distance;
  j["dropout_rate"] = dropout_rate;
  j["layer_norm_epsilon"] = layer_norm_epsilon;
  j["initializer_factor"] = initializer_factor;
  j["feed_forward_proj"] = feed_forward_proj;
  j["decoder_start_token_id"] = decoder_start_token_id;
  j["is_encoder_decoder"] = true;
  write_common(j);
  return j;
}

}  // namespace cppformers
