#pragma once
// DistilBertConfig with transformers' field names and defaults.
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct DistilBertConfig : PretrainedConfig {
  int64_t vocab_size = 30522;
  int64_t max_position_embeddings = 512;
  bool sinusoidal_pos_embds = false;
  int64_t n_layers = 6;
  int64_t n_heads = 12;
  int64_t dim = 768;
  int64_t hidden_dim = 3072;
  double dropout = 0.1;
  double attention_dropout = 0.1;
  std::string activation = "gelu";
  double initializer_range = 0.02;
  double qa_dropout = 0.1;
  double seq_classif_dropout = 0.2;

  DistilBertConfig() {
    model_type = "distilbert";
    pad_token_id = 0;
    set_num_labels(2);
  }
  static DistilBertConfig from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
};

}  // namespace cppformers
