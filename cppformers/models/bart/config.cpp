#include "cppformers/models/bart/config.hpp"

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

BartConfig BartConfig::for_model_type(const std::string& type) {
  BartConfig c;
  if (type == "mbart") {  // MBartConfig
    c.model_type = "mbart";
    c.forced_eos_token_id = 2;
    c.decoder_start_token_id = 0;  // none in MBartConfig: generate() starts with bos
    c.normalize_before = c.add_final_layer_norm = true;
  } else if (type == "marian") {  // MarianConfig
    c.model_type = "marian";
    c.vocab_size = 58101;
    c.pad_token_id = 58100;
    c.bos_token_id.reset();
    c.eos_token_id = 0;
    c.forced_eos_token_id = 0;
    c.decoder_start_token_id = 58100;
    c.layernorm_embedding = false;
    c.static_position_embeddings = true;
  } else if (type != "bart") {
    throw NotSupportedError("BartConfig: model_type '" + type + "' is not bart, mbart or marian");
  }
  return c;
}

BartConfig BartConfig::from_json(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
  BartConfig c = for_model_type(j.value("model_type", "bart"));
  const BartConfig defaults = c;
  c.parse_common(j, file);
  if (!j.contains("pad_token_id")) c.pad_token_id = defaults.pad_token_id;
  if (!j.contains("bos_token_id")) c.bos_token_id = defaults.bos_token_id;
  if (!j.contains("eos_token_id")) c.eos_token_id = defaults.eos_token_id;
  using io::json_get;
  if (c.model_type == "mbart" && !j.contains("decoder_start_token_id"))
    c.decoder_start_token_id = c.bos_token_id.value_or(0);
  c.vocab_size = json_get<int64_t>(j, "vocab_size", c.vocab_size, file);
  c.d_model = json_get<int64_t>(j, "d_model", c.d_model, file);
  c.encoder_layers = json_get<int64_t>(j, "encoder_layers", c.encoder_layers, file);
  c.decoder_layers = json_get<int64_t>(j, "decoder_layers", c.decoder_layers, file);
  c.encoder_attention_heads = json_get<int64_t>(j, "encoder_attention_heads", c.encoder_attention_heads, file);
  c.decoder_attention_heads = json_get<int64_t>(j, "decoder_attention_heads", c.decoder_attention_heads, file);
  c.encoder_ffn_dim = json_get<int64_t>(j, "encoder_ffn_dim", c.encoder_ffn_dim, file);
  c.decoder_ffn_dim = json_get<int64_t>(j, "decoder_ffn_dim", c.decoder_ffn_dim, file);
  c.max_position_embeddings = json_get<int64_t>(j, "max_position_embeddings", c.max_position_embeddings, file);
  c.activation_function = json_get<std::string>(j, "activation_function", c.activation_function, file);
  c.init_std = json_get<double>(j, "init_std", c.init_std, file);
  c.scale_embedding = json_get<bool>(j, "scale_embedding", c.scale_embedding, file);
  c.decoder_start_token_id = json_get<int64_t>(j, "decoder_start_token_id", c.decoder_start_token_id, file);
  if (j.contains("forced_eos_token_id"))
    c.forced_eos_token_id = j["forced_eos_token_id"].is_null()
                                ? std::nullopt
                                : std::optional<int64_t>(json_get<int64_t>(j, "forced_eos_token_id", 2, file));
  if (j.contains("forced_bos_token_id") && !j["forced_bos_token_id"].is_null())
    c.forced_bos_token_id = json_get<int64_t>(j, "forced_bos_token_id", 0, file);
  if (j.contains("decoder_vocab_size") && !j["decoder_vocab_size"].is_null())
    c.decoder_vocab_size = json_get<int64_t>(j, "decoder_vocab_size", -1, file);
  c.share_encoder_decoder_embeddings =
      json_get<bool>(j, "share_encoder_decoder_embeddings", c.share_encoder_decoder_embeddings, file);
  if (c.share_encoder_decoder_embeddings && c.decoder_vocab() != c.vocab_size)
    throw FormatError(file + ": 'decoder_vocab_size' differs from 'vocab_size' with shared embeddings");
  if (c.d_model <= 0 || c.encoder_attention_heads <= 0 || c.d_model % c.encoder_attention_heads ||
      c.decoder_attention_heads <= 0 || c.d_model % c.decoder_attention_heads)
    throw FormatError(file + ": 'd_model' must be a positive multiple of the attention head counts");
  if (!nn::is_known_activation(c.activation_function))
    throw NotSupportedError(file + ": 'activation_function' '" + c.activation_function + "' is not supported");
  return c;
}

nlohmann::json BartConfig::to_json() const {
  nlohmann::json j;
  j["vocab_size"] = vocab_size;
  j["d_model"] = d_model;
  j["encoder_layers"] = encoder_layers;
  j["decoder_layers"] = decoder_layers;
  j["encoder_attention_heads"] = encoder_attention_heads;
  j["decoder_attention_heads"] = decoder_attention_heads;
  j["encoder_ffn_dim"] = encoder_ffn_dim;
  j["decoder_ffn_dim"] = decoder_ffn_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["activation_function"] = activation_function;
  j["init_std"] = init_std;
  j["scale_embedding"] = scale_embedding;
  j["decoder_start_token_id"] = decoder_start_token_id;
  if (forced_eos_token_id) j["forced_eos_token_id"] = *forced_eos_token_id;
  if (forced_bos_token_id) j["forced_bos_token_id"] = *forced_bos_token_id;
  if (model_type == "marian") {
    j["decoder_vocab_size"] = decoder_vocab();
    j["share_encoder_decoder_embeddings"] = share_encoder_decoder_embeddings;
  }
  j["is_encoder_decoder"] = true;
  write_common(j);
  return j;
}

}  // namespace cppformers
