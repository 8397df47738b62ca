#include "cppformers/models/roberta/modeling.hpp"

#include "cppformers/models/heads.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

BertConfig roberta_config_from_json(const nlohmann::json& j, const std::string& file) {
  nlohmann::json d = j;
  // RobertaConfig's defaults where config.json is silent
  if (!d.contains("pad_token_id")) d["pad_token_id"] = 1;
  if (!d.contains("bos_token_id")) d["bos_token_id"] = 0;
  if (!d.contains("eos_token_id")) d["eos_token_id"] = 2;
  BertConfig c = BertConfig::from_json(d, file);
  if (c.model_type.empty() || c.model_type == "bert") c.model_type = "roberta";
  return c;
}

std::shared_ptr<BertModel> make_roberta_model(const BertConfig& c) {
  return make_shared<BertModel>(c, true, true, "roberta", roberta_class_name(c, "Model"));
}

RobertaHeadModel::RobertaHeadModel(const BertConfig& c, const std::string& head)
    : BertHeadModel(make_shared<BertModel>(c, false, true, "roberta", roberta_class_name(c, "Model")),
                    roberta_class_name(c, head)) {}

RobertaForSequenceClassification::RobertaForSequenceClassification(const BertConfig& c)
    : RobertaHeadModel(c, "ForSequenceClassification") {
  classifier_dense = register_module("classifier.dense", make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  dropout = make_shared<nn::Dropout>(classifier_dropout());  // no parameters: not registered by name
  classifier_out_proj = register_module("classifier.out_proj", make_shared<nn::Linear>(c.hidden_size, c.num_labels()));
}

ModelOutput RobertaForSequenceClassification::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  dropout->train(is_training());
  Tensor x = (*dropout)(b.last_hidden_state.select(1, 0));
  x = (*dropout)(ops::tanh((*classifier_dense)(x)));
  out.logits = (*classifier_out_proj)(x);
  if (in.labels.defined()) out.loss = sequence_classification_loss(config(), out.logits, in.labels);
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
  return out;
}

RobertaForMaskedLM::RobertaForMaskedLM(const BertConfig& c) : RobertaHeadModel(c, "ForMaskedLM") {
  lm_head_dense = register_module("lm_head.dense", make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  lm_head_layer_norm = register_module("lm_head.layer_norm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  lm_head_decoder = register_module("lm_head.decoder", make_shared<nn::Linear>(c.hidden_size, c.vocab_size, false));
  lm_head = register_module("lm_head", make_shared<Bias>(c.vocab_size));
}

std::vector<std::pair<std::string, std::string>> RobertaForMaskedLM::tied_weights() const {
  if (!config().tie_word_embeddings) return {};
  return {{"lm_head.decoder.weight", "roberta.embeddings.word_embeddings.weight"}};
}

ModelOutput RobertaForMaskedLM::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  Tensor x = (*lm_head_layer_norm)(ops::gelu((*lm_head_dense)(b.last_hidden_state)));
  out.logits = ops::linear(x, lm_head_decoder->weight, lm_head->bias);
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
  return out;
}

}  // namespace cppformers
