#pragma once
// BertConfig with transformers' field names and defaults (also RoBERTa's and XLM-RoBERTa's,
// which differ only in defaults).
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct BertConfig : PretrainedConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  std::string position_embedding_type = "absolute";
  std::optional<double> classifier_dropout;
  bool is_decoder = false;

  BertConfig() {
    model_type = "bert";
    pad_token_id = 0;
    set_num_labels(2);
  }
  // Parses config.json contents; `file` names it in errors. Validates what the model relies on.
  static BertConfig from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
