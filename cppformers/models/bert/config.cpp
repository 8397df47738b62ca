#include "cppformers/models/bert/config.hpp"

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

BertConfig BertConfig::from_json(const nlohmann::json& j, const std::string& file) {
  BertConfig c;
  c.parse_common(j, file);
  if (c.model_type.empty()) c.model_type = "bert";
  using io::json_get;
  c.vocab_size = json_get<int64_t>(j, "vocab_size", c.vocab_size, file);
  c.hidden_size = json_get<int64_t>(j, "hidden_size", c.hidden_size, file);
  c.num_hidden_layers = json_get<int64_t>(j, "num_hidden_layers", c.num_hidden_layers, file);
  c.num_attention_heads = json_get<int64_t>(j, "num_attention_heads", c.num_attention_heads, file);
  c.intermediate_size = json_get<int64_t>(j, "intermediate_size", c.intermediate_size, file);
  c.hidden_act = json_get<std::string>(j, "hidden_act", c.hidden_act, file);
  c.hidden_dropout_prob = json_get<double>(j, "hidden_dropout_prob", c.hidden_dropout_prob, file);
  c.attention_probs_dropout_prob =
      json_get<double>(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, file);
  c.max_position_embeddings = json_get<int64_t>(j, "max_position_embeddings", c.max_position_embeddings, file);
  c.type_vocab_size = json_get<int64_t>(j, "type_vocab_size", c.type_vocab_size, file);
  c.initializer_range = json_get<double>(j, "initializer_range", c.initializer_range, file);
  c.layer_norm_eps = json_get<double>(j, "layer_norm_eps", c.layer_norm_eps, file);
  c.position_embedding_type = json_get<std::string>(j, "position_embedding_type", c.position_embedding_type, file);
  c.is_decoder = json_get<bool>(j, "is_decoder", false, file);
  if (j.contains("classifier_dropout") && !j["classifier_dropout"].is_null())
    c.classifier_dropout = json_get<double>(j, "classifier_dropout", 0.0, file);
  if (!j.contains("pad_token_id")) c.pad_token_id = 0;
  // What the implementation relies on.
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw FormatError(file + ": " + what);
  };
  need(c.hidden_size > 0 && c.num_attention_heads > 0 && c.hidden_size % c.num_attention_heads == 0,
       "'hidden_size' (" + std::to_string(c.hidden_size) + ") must be a positive multiple of 'num_attention_heads' (" +
           std::to_string(c.num_attention_heads) + ")");
  need(c.vocab_size > 0 && c.num_hidden_layers >= 0 && c.intermediate_size > 0 && c.max_position_embeddings > 0 &&
           c.type_vocab_size >= 0,
       "sizes ('vocab_size', 'num_hidden_layers', 'intermediate_size', 'max_position_embeddings', "
       "'type_vocab_size') must be positive");
  if (!nn::is_known_activation(c.hidden_act))
    throw NotSupportedError(file + ": 'hidden_act' '" + c.hidden_act + "' is not supported");
  if (c.position_embedding_type != "absolute")
    throw NotSupportedError(file + ": 'position_embedding_type' '" + c.position_embedding_type +
                            "' is not supported (only 'absolute')");
  if (c.is_decoder) throw NotSupportedError(file + ": BERT as a decoder ('is_decoder': true) is not supported");
  return c;
}

nlohmann::json BertConfig::to_json() const {
  nlohmann::json j;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = hidden_act;
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["max_position_embeddings"] = max_position_embeddings;
  j["type_vocab_size"] = type_vocab_size;
  j["initializer_range"] = initializer_range;
  j["layer_norm_eps"] = layer_norm_eps;
  j["position_embedding_type"] = position_embedding_type;
  j["classifier_dropout"] = classifier_dropout ? nlohmann::json(*classifier_dropout) : nlohmann::json(nullptr);
  write_common(j);
  return j;
}

}  // namespace cppformers
