#pragma once
// DistilBERT (Sanh et al. 2019) with transformers' module names.
#include <memory>
#include <vector>

#include "cppformers/models/distilbert/config.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

class DistilBertLayer : public nn::Module {
 public:
  explicit DistilBertLayer(const DistilBertConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask_bias, Tensor* probs);
  std::shared_ptr<nn::Linear> q_lin, k_lin, v_lin, out_lin;  // "attention.*"
  std::shared_ptr<nn::LayerNorm> sa_layer_norm, output_layer_norm;
  std::shared_ptr<nn::Linear> lin1, lin2;                    // "ffn.*"
  std::shared_ptr<nn::Dropout> attn_dropout, dropout;
  int64_t n_heads;
  std::string activation;
};

class DistilBertModel : public PreTrainedModel {
 public:
  explicit DistilBertModel(const DistilBertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return "DistilBertModel"; }
  std::string base_model_prefix() const override { return "distilbert"; }
  double initializer_range() const override { return config_.initializer_range; }
  const DistilBertConfig& distil_config() const { return config_; }

  std::shared_ptr<nn::Embedding> word_embeddings, position_embeddings;  // "embeddings.*"
  std::shared_ptr<nn::LayerNorm> embeddings_LayerNorm;
  std::shared_ptr<nn::Dropout> dropout;
  std::vector<std::shared_ptr<DistilBertLayer>> layer;  // "transformer.layer.N"

 private:
  DistilBertConfig config_;
};

class DistilBertHeadModel : public PreTrainedModel {
 public:
  const PretrainedConfig& config() const override { return base->config(); }
  PretrainedConfig& mutable_config() override { return base->mutable_config(); }
  std::string base_model_prefix() const override { return "distilbert"; }
  double initializer_range() const override { return base->initializer_range(); }
  std::string class_name() const override { return class_name_; }

 protected:
  DistilBertHeadModel(const DistilBertConfig& c, std::string class_name);
  std::shared_ptr<DistilBertModel> base;
  std::string class_name_;
};

class DistilBertForSequenceClassification : public DistilBertHeadModel {
 public:
  explicit DistilBertForSequenceClassification(const DistilBertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  std::shared_ptr<nn::Linear> pre_classifier, classifier;
  std::shared_ptr<nn::Dropout> dropout;
};

class DistilBertForTokenClassification : public DistilBertHeadModel {
 public:
  explicit DistilBertForTokenClassification(const DistilBertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  std::shared_ptr<nn::Linear> classifier;
  std::shared_ptr<nn::Dropout> dropout;
};

class DistilBertForQuestionAnswering : public DistilBertHeadModel {
 public:
  explicit DistilBertForQuestionAnswering(const DistilBertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  std::shared_ptr<nn::Linear> qa_outputs;
  std::shared_ptr<nn::Dropout> dropout;
};

class DistilBertForMaskedLM : public DistilBertHeadModel {
 public:
  explicit DistilBertForMaskedLM(const DistilBertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  std::vector<std::pair<std::string, std::string>> tied_weights() const override;
  std::shared_ptr<nn::Linear> vocab_transform, vocab_projector;
  std::shared_ptr<nn::LayerNorm> vocab_layer_norm;
};

}  // namespace cppformers
