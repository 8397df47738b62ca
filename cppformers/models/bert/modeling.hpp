#pragma once
// BERT (Devlin et al. 2018) with transformers' module names, so parameter paths are the
// checkpoint's keys. RoBERTa reuses these modules (models/roberta).
#include <memory>
#include <vector>

#include "cppformers/models/bert/config.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

class BertEmbeddings : public nn::Module {
 public:
  // roberta_positions: position ids count from padding_idx + 1 over non-pad tokens (RoBERTa).
  BertEmbeddings(const BertConfig& c, bool roberta_positions);
  Tensor forward(const Tensor& input_ids, const Tensor& token_type_ids, const Tensor& position_ids);

  std::shared_ptr<nn::Embedding> word_embeddings, position_embeddings, token_type_embeddings;
  std::shared_ptr<nn::LayerNorm> LayerNorm;
  std::shared_ptr<nn::Dropout> dropout;
  bool roberta_positions;
  int64_t padding_idx;
};

class BertSelfAttention : public nn::Module {
 public:
  explicit BertSelfAttention(const BertConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask_bias, Tensor* probs);
  std::shared_ptr<nn::Linear> query, key, value;
  std::shared_ptr<nn::Dropout> dropout;
  int64_t num_heads;

 private:
  nn::FusedLinears qkv_;  // query, key and value as one GEMM at inference
};

// dense -> dropout -> LayerNorm(x + residual): BertSelfOutput and BertOutput.
class BertResidualOutput : public nn::Module {
 public:
  BertResidualOutput(int64_t in, int64_t out, const BertConfig& c);
  Tensor forward(const Tensor& x, const Tensor& residual);
  std::shared_ptr<nn::Linear> dense;
  std::shared_ptr<nn::LayerNorm> LayerNorm;
  std::shared_ptr<nn::Dropout> dropout;
};

class BertAttention : public nn::Module {
 public:
  explicit BertAttention(const BertConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask_bias, Tensor* probs);
  std::shared_ptr<BertSelfAttention> self;
  std::shared_ptr<BertResidualOutput> output;
};

class BertLayer : public nn::Module {
 public:
  explicit BertLayer(const BertConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask_bias, Tensor* probs);
  std::shared_ptr<BertAttention> attention;
  std::shared_ptr<nn::Linear> intermediate_dense;  // "intermediate.dense"
  std::shared_ptr<BertResidualOutput> output;
  std::string act;
};

class BertEncoder : public nn::Module {
 public:
  explicit BertEncoder(const BertConfig& c);
  std::vector<std::shared_ptr<BertLayer>> layer;
};

class BertPooler : public nn::Module {
 public:
  explicit BertPooler(const BertConfig& c);
  Tensor forward(const Tensor& hidden);  // tanh(dense(hidden[:, 0]))
  std::shared_ptr<nn::Linear> dense;
};

// The bare encoder: last_hidden_state, pooler_output, hidden_states, attentions.
class BertModel : public PreTrainedModel {
 public:
  explicit BertModel(const BertConfig& c, bool add_pooling_layer = true, bool roberta_positions = false,
                     std::string prefix = "bert", std::string class_name = "BertModel");
  ModelOutput forward(const ModelInputs& in) override;
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return class_name_; }
  std::string base_model_prefix() const override { return prefix_; }
  double initializer_range() const override { return config_.initializer_range; }
  const BertConfig& bert_config() const { return config_; }

  std::shared_ptr<BertEmbeddings> embeddings;
  std::shared_ptr<BertEncoder> encoder;
  std::shared_ptr<BertPooler> pooler;  // null without a pooling layer

 private:
  BertConfig config_;
  std::string prefix_, class_name_;
};

// Base for the task heads: holds the base model under its prefix ("bert", "roberta").
class BertHeadModel : public PreTrainedModel {
 public:
  const PretrainedConfig& config() const override { return base->config(); }
  PretrainedConfig& mutable_config() override { return base->mutable_config(); }
  std::string base_model_prefix() const override { return base->base_model_prefix(); }
  double initializer_range() const override { return base->initializer_range(); }
  std::string class_name() const override { return class_name_; }

 protected:
  BertHeadModel(std::shared_ptr<BertModel> model, std::string class_name);
  double classifier_dropout() const;
  std::shared_ptr<BertModel> base;
  std::string class_name_;
};

class BertForSequenceClassification : public BertHeadModel {
 public:
  explicit BertForSequenceClassification(const BertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> classifier;
};

class BertForTokenClassification : public BertHeadModel {
 public:
  // Also RobertaForTokenClassification (same head over a RoBERTa base).
  explicit BertForTokenClassification(const BertConfig& c, bool roberta = false);
  ModelOutput forward(const ModelInputs& in) override;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> classifier;
};

class BertForQuestionAnswering : public BertHeadModel {
 public:
  explicit BertForQuestionAnswering(const BertConfig& c, bool roberta = false);
  ModelOutput forward(const ModelInputs& in) override;
  std::shared_ptr<nn::Linear> qa_outputs;
};

// cls.predictions: transform (dense, act, LayerNorm), decoder tied to the word embeddings.
class BertForMaskedLM : public BertHeadModel {
 public:
  explicit BertForMaskedLM(const BertConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  std::vector<std::pair<std::string, std::string>> tied_weights() const override;
  class Head : public nn::Module {
   public:
    explicit Head(const BertConfig& c);
    std::shared_ptr<nn::Linear> transform_dense, decoder;
    std::shared_ptr<nn::LayerNorm> transform_LayerNorm;
    Tensor bias;
  };
  std::shared_ptr<Head> cls_predictions;  // "cls.predictions"
};

// "RobertaForX" or "XLMRobertaForX" by the config's model_type.
std::string roberta_class_name(const BertConfig& c, const std::string& head);

// The shared ModelInputs checks: input_ids present and integer, shapes agree.
void check_encoder_inputs(const ModelInputs& in, const std::string& model);

}  // namespace cppformers
