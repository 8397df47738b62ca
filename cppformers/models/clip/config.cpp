#include "cppformers/models/clip/config.hpp"

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

namespace {
CLIPTowerConfig parse_tower(const nlohmann::json& j, bool text, const std::string& file) {
  using io::json_get;
  CLIPTowerConfig c;
  if (!text) c.hidden_size = 768, c.intermediate_size = 3072, c.num_attention_heads = 12;
  if (j.is_null()) return c;
  if (!j.is_object()) throw FormatError(file + ": '" + (text ? "text_config" : "vision_config") + "' must be an object");
  c.raw = j;
  c.hidden_size = json_get<int64_t>(j, "hidden_size", c.hidden_size, file);
  c.intermediate_size = json_get<int64_t>(j, "intermediate_size", c.intermediate_size, file);
  c.num_hidden_layers = json_get<int64_t>(j, "num_hidden_layers", c.num_hidden_layers, file);
  c.num_attention_heads = json_get<int64_t>(j, "num_attention_heads", c.num_attention_heads, file);
  c.hidden_act = json_get<std::string>(j, "hidden_act", c.hidden_act, file);
  c.layer_norm_eps = json_get<double>(j, "layer_norm_eps", c.layer_norm_eps, file);
  c.vocab_size = json_get<int64_t>(j, "vocab_size", c.vocab_size, file);
  c.max_position_embeddings = json_get<int64_t>(j, "max_position_embeddings", c.max_position_embeddings, file);
  c.eos_token_id = json_get<int64_t>(j, "eos_token_id", text ? 49407 : 2, file);
  c.pad_token_id = json_get<int64_t>(j, "pad_token_id", c.pad_token_id, file);
  c.image_size = json_get<int64_t>(j, "image_size", c.image_size, file);
  c.patch_size = json_get<int64_t>(j, "patch_size", c.patch_size, file);
  c.num_channels = json_get<int64_t>(j, "num_channels", c.num_channels, file);
  if (c.hidden_size <= 0 || c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads)
    throw FormatError(file + ": 'hidden_size' must be a positive multiple of 'num_attention_heads'");
  if (!text && (c.patch_size <= 0 || c.image_size % c.patch_size))
    throw FormatError(file + ": vision 'image_size' must be a multiple of 'patch_size'");
  if (!nn::is_known_activation(c.hidden_act))
    throw NotSupportedError(file + ": 'hidden_act' '" + c.hidden_act + "' is not supported");
  return c;
}
}  // namespace

CLIPConfig CLIPConfig::from_json(const nlohmann::json& j, const std::string& file) {
  CLIPConfig c;
  c.parse_common(j, file);
  c.text_config = parse_tower(j.contains("text_config") ? j["text_config"] : nlohmann::json(), true, file);
  c.vision_config = parse_tower(j.contains("vision_config") ? j["vision_config"] : nlohmann::json(), false, file);
  c.projection_dim = io::json_get<int64_t>(j, "projection_dim", c.projection_dim, file);
  c.logit_scale_init_value = io::json_get<double>(j, "logit_scale_init_value", c.logit_scale_init_value, file);
  return c;
}

nlohmann::json CLIPConfig::to_json() const {
  nlohmann::json j;
  auto tower = [](const CLIPTowerConfig& t, bool text) {
    nlohmann::json o = t.raw.is_object() ? t.raw : nlohmann::json::object();
    o["hidden_size"] = t.hidden_size;
    o["intermediate_size"] = t.intermediate_size;
    o["num_hidden_layers"] = t.num_hidden_layers;
    o["num_attention_heads"] = t.num_attention_heads;
    o["hidden_act"] = t.hidden_act;
    o["layer_norm_eps"] = t.layer_norm_eps;
    if (text) {
      o["vocab_size"] = t.vocab_size;
      o["max_position_embeddings"] = t.max_position_embeddings;
      o["eos_token_id"] = t.eos_token_id;
      o["pad_token_id"] = t.pad_token_id;
    } else {
      o["image_size"] = t.image_size;
      o["patch_size"] = t.patch_size;
      o["num_channels"] = t.num_channels;
    }
    return o;
  };
  j["text_config"] = tower(text_config, true);
  j["vision_config"] = tower(vision_config, false);
  j["projection_dim"] = projection_dim;
  j["logit_scale_init_value"] = logit_scale_init_value;
  write_common(j);
  return j;
}

}  // namespace cppformers
