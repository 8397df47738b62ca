#include "cppformers/models/distilbert/config.hpp"

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

DistilBertConfig DistilBertConfig::from_json(const nlohmann::json& j, const std::string& file) {
  DistilBertConfig c;
  c.parse_common(j, file);
  c.model_type = "distilbert";
  using io::json_get;
  c.vocab_size = json_get<int64_t>(j, "vocab_size", c.vocab_size, file);
  c.max_position_embeddings = json_get<int64_t>(j, "max_position_embeddings", c.max_position_embeddings, file);
  c.sinusoidal_pos_embds = json_get<bool>(j, "sinusoidal_pos_embds", c.sinusoidal_pos_embds, file);
  c.n_layers = json_get<int64_t>(j, "n_layers", c.n_layers, file);
  c.n_heads = json_get<int64_t>(j, "n_heads", c.n_heads, file);
  c.dim = json_get<int64_t>(j, "dim", c.dim, file);
  c.hidden_dim = json_get<int64_t>(j, "hidden_dim", c.hidden_dim, file);
  c.dropout = json_get<double>(j, "dropout", c.dropout, file);
  c.attention_dropout = json_get<double>(j, "attention_dropout", c.attention_dropout, file);
  c.activation = json_get<std::string>(j, "activation", c.activation, file);
  c.initializer_range = json_get<double>(j, "initializer_range", c.initializer_range, file);
  c.qa_dropout = json_get<double>(j, "qa_dropout", c.qa_dropout, file);
  c.seq_classif_dropout = json_get<double>(j, "seq_classif_dropout", c.seq_classif_dropout, file);
  if (!j.contains("pad_token_id")) c.pad_token_id = 0;
  if (c.dim <= 0 || c.n_heads <= 0 || c.dim % c.n_heads)
    throw FormatError(file + ": 'dim' (" + std::to_string(c.dim) + ") must be a positive multiple of 'n_heads' (" +
                      std::to_string(c.n_heads) + ")");
  if (c.vocab_size <= 0 || c.n_layers < 0 || c.hidden_dim <= 0 || c.max_position_embeddings <= 0)
    throw FormatError(file + ": sizes ('vocab_size', 'n_layers', 'hidden_dim', 'max_position_embeddings') must be positive");
  if (!nn::is_known_activation(c.activation))
    throw NotSupportedError(file + ": 'activation' '" + c.activation + "' is not supported");
  return c;
}

nlohmann::json DistilBertConfig::to_json() const {
  nlohmann::json j;
  j["vocab_size"] = vocab_size;
  j["max_position_embeddings"] = max_position_embeddings;
  j["sinusoidal_pos_embds"] = sinusoidal_pos_embds;
  j["n_layers"] = n_layers;
  j["n_heads"] = n_heads;
  j["dim"] = dim;
  j["hidden_dim"] = hidden_dim;
  j["dropout"] = dropout;
  j["attention_dropout"] = attention_dropout;
  j["activation"] = activation;
  j["initializer_range"] = initializer_range;
  j["qa_dropout"] = qa_dropout;
  j["seq_classif_dropout"] = seq_classif_dropout;
  write_common(j);
  return j;
}

}  // namespace cppformers
