#include "cppformers/models/vit/config.hpp"

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

ViTConfig ViTConfig::from_json(const nlohmann::json& j, const std::string& file) {
  ViTConfig c;
  c.parse_common(j, file);
  using io::json_get;
  c.hidden_size = json_get<int64_t>(j, "hidden_size", c.hidden_size, file);
  c.num_hidden_layers = json_get<int64_t>(j, "num_hidden_layers", c.num_hidden_layers, file);
  c.num_attention_heads = json_get<int64_t>(j, "num_attention_heads", c.num_attention_heads, file);
  c.intermediate_size = json_get<int64_t>(j, "intermediate_size", c.intermediate_size, file);
  c.hidden_act = json_get<std::string>(j, "hidden_act", c.hidden_act, file);
  c.hidden_dropout_prob = json_get<double>(j, "hidden_dropout_prob", c.hidden_dropout_prob, file);
  c.attention_probs_dropout_prob = json_get<double>(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, file);
  c.initializer_range = json_get<double>(j, "initializer_range", c.initializer_range, file);
  c.layer_norm_eps = json_get<double>(j, "layer_norm_eps", c.layer_norm_eps, file);
  c.image_size = json_get<int64_t>(j, "image_size", c.image_size, file);
  c.patch_size = json_get<int64_t>(j, "patch_size", c.patch_size, file);
  c.num_channels = json_get<int64_t>(j, "num_channels", c.num_channels, file);
  c.encoder_stride = json_get<int64_t>(j, "encoder_stride", c.encoder_stride, file);
  c.qkv_bias = json_get<bool>(j, "qkv_bias", c.qkv_bias, file);
  if (c.hidden_size <= 0 || c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads)
    throw FormatError(file + ": 'hidden_size' must be a positive multiple of 'num_attention_heads'");
  if (c.patch_size <= 0 || c.image_size % c.patch_size)
    throw FormatError(file + ": 'image_size' must be a multiple of 'patch_size'");
  if (!nn::is_known_activation(c.hidden_act))
    throw NotSupportedError(file + ": 'hidden_act' '" + c.hidden_act + "' is not supported");
  return c;
}

nlohmann::json ViTConfig::to_json() const {
  nlohmann::json j;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = hidden_act;
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["initializer_range"] = initializer_range;
  j["layer_norm_eps"] = layer_norm_eps;
  j["image_size"] = image_size;
  j["patch_size"] = patch_size;
  j["num_channels"] = num_channels;
  j["encoder_stride"] = encoder_stride;
  j["qkv_bias"] = qkv_bias;
  write_common(j);
  return j;
}

}  // namespace cppformers
