#pragma once
// RoBERTa (and XLM-RoBERTa, which differs only in config): BERT's modules with position ids
// counted from padding_idx + 1, no token types by default, and its own heads. Token
// classification and question answering reuse BERT's heads over a RoBERTa base.
#include "cppformers/models/bert/modeling.hpp"

namespace cppformers {

// config.json of model_type roberta / xlm-roberta: BertConfig with RoBERTa's defaults.
BertConfig roberta_config_from_json(const nlohmann::json& j, const std::string& file);

std::shared_ptr<BertModel> make_roberta_model(const BertConfig& c);

class RobertaHeadModel : public BertHeadModel {
 protected:
  RobertaHeadModel(const BertConfig& c, const std::string& head);
};

class RobertaForSequenceClassification : public RobertaHeadModel {
 public:
  explicit RobertaForSequenceClassification(const BertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  // "classifier": dense -> tanh -> out_proj on the <s> token
  std::shared_ptr<nn::Linear> classifier_dense, classifier_out_proj;
  std::shared_ptr<nn::Dropout> dropout;
};

class RobertaForMaskedLM : public RobertaHeadModel {
 public:
  explicit RobertaForMaskedLM(const BertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  std::vector<std::pair<std::string, std::string>> tied_weights() const override;
  std::shared_ptr<nn::Linear> lm_head_dense, lm_head_decoder;
  std::shared_ptr<nn::LayerNorm> lm_head_layer_norm;
  class Bias : public nn::Module {
   public:
    explicit Bias(int64_t n) { register_parameter("bias", bias, Tensor::zeros({n})); }
    Tensor bias;
  };
  std::shared_ptr<Bias> lm_head;  // holds "lm_head.bias"
};

}  // namespace cppformers
