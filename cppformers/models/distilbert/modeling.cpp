#include "cppformers/models/distilbert/modeling.hpp"

#include <cmath>
#include <limits>

#include "cppformers/models/bert/modeling.hpp"
#include "cppformers/models/heads.hpp"
#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

DistilBertLayer::DistilBertLayer(const DistilBertConfig& c) : n_heads(c.n_heads), activation(c.activation) {
  q_lin = register_module("attention.q_lin", make_shared<nn::Linear>(c.dim, c.dim));
  k_lin = register_module("attention.k_lin", make_shared<nn::Linear>(c.dim, c.dim));
  v_lin = register_module("attention.v_lin", make_shared<nn::Linear>(c.dim, c.dim));
  out_lin = register_module("attention.out_lin", make_shared<nn::Linear>(c.dim, c.dim));
  sa_layer_norm = register_module("sa_layer_norm", make_shared<nn::LayerNorm>(c.dim, 1e-12));
  lin1 = register_module("ffn.lin1", make_shared<nn::Linear>(c.dim, c.hidden_dim));
  lin2 = register_module("ffn.lin2", make_shared<nn::Linear>(c.hidden_dim, c.dim));
  output_layer_norm = register_module("output_layer_norm", make_shared<nn::LayerNorm>(c.dim, 1e-12));
  attn_dropout = register_module("attention.dropout", make_shared<nn::Dropout>(c.attention_dropout));
  dropout = register_module("ffn.dropout", make_shared<nn::Dropout>(c.dropout));
}

Tensor DistilBertLayer::forward(const Tensor& x, const Tensor& mask_bias, Tensor* probs) {
  // DistilBERT scales q before the product: q / sqrt(d), then scores = q @ k^T
  Tensor q = nn::split_heads((*q_lin)(x), n_heads);
  Tensor k = nn::split_heads((*k_lin)(x), n_heads);
  Tensor v = nn::split_heads((*v_lin)(x), n_heads);
  q = q / std::sqrt(double(q.size(-1)));
  Tensor ctx = nn::scaled_dot_product_attention(q, k, v, mask_bias, 1.0, attn_dropout->p, is_training(), probs);
  Tensor sa = (*sa_layer_norm)(out_lin->forward(nn::merge_heads(ctx), {.residual = x}));
  const ops::Activation fused = nn::fusable_activation(activation);
  Tensor inter = fused != ops::Activation::kNone ? lin1->forward(sa, {.activation = fused})
                                                 : nn::activation(activation, (*lin1)(sa));
  if (dropout->active()) return (*output_layer_norm)((*dropout)((*lin2)(inter)) + sa);
  return (*output_layer_norm)(lin2->forward(inter, {.residual = sa}));
}

DistilBertModel::DistilBertModel(const DistilBertConfig& c) : config_(c) {
  word_embeddings = register_module("embeddings.word_embeddings",
                                    make_shared<nn::Embedding>(c.vocab_size, c.dim, c.pad_token_id.value_or(0)));
  position_embeddings =
      register_module("embeddings.position_embeddings", make_shared<nn::Embedding>(c.max_position_embeddings, c.dim));
  embeddings_LayerNorm = register_module("embeddings.LayerNorm", make_shared<nn::LayerNorm>(c.dim, 1e-12));
  dropout = register_module("embeddings.dropout", make_shared<nn::Dropout>(c.dropout));
  for (int64_t i = 0; i < c.n_layers; ++i)
    layer.push_back(register_module("transformer.layer." + std::to_string(i), make_shared<DistilBertLayer>(c)));
}

ModelOutput DistilBertModel::forward(const ModelInputs& in) {
  check_encoder_inputs(in, "DistilBertModel");
  const int64_t B = in.input_ids.size(0), S = in.input_ids.size(1);
  if (S > config_.max_position_embeddings)
    throw ValueError("sequence length " + std::to_string(S) + " exceeds max_position_embeddings (" +
                     std::to_string(config_.max_position_embeddings) + ")");
  Tensor pos = in.position_ids.defined() ? in.position_ids : Tensor::arange(S).unsqueeze(0).expand({B, S});
  Tensor h = (*word_embeddings)(in.input_ids) + (*position_embeddings)(pos);
  h = (*dropout)((*embeddings_LayerNorm)(h));
  // masked_fill(mask == 0, finfo.min) as an additive bias: scores + min saturates to min
  Tensor bias;
  if (in.attention_mask.defined()) {
    Tensor masked = ops::eq(in.attention_mask, Tensor::scalar(0, kI64)).unsqueeze(1).unsqueeze(1);
    bias = ops::where(masked, Tensor::scalar(std::numeric_limits<float>::lowest()), Tensor::scalar(0.0));
  }
  ModelOutput out;
  for (auto& l : layer) {
    if (in.output_hidden_states) out.hidden_states.push_back(h);
    Tensor probs;
    h = l->forward(h, bias, in.output_attentions ? &probs : nullptr);
    if (in.output_attentions) out.attentions.push_back(probs);
  }
  if (in.output_hidden_states) out.hidden_states.push_back(h);
  out.last_hidden_state = h;
  return out;
}

DistilBertHeadModel::DistilBertHeadModel(const DistilBertConfig& c, std::string class_name)
    : class_name_(std::move(class_name)) {
  base = register_module("distilbert", make_shared<DistilBertModel>(c));
}

DistilBertForSequenceClassification::DistilBertForSequenceClassification(const DistilBertConfig& c)
    : DistilBertHeadModel(c, "DistilBertForSequenceClassification") {
  pre_classifier = register_module("pre_classifier", make_shared<nn::Linear>(c.dim, c.dim));
  classifier = register_module("classifier", make_shared<nn::Linear>(c.dim, c.num_labels()));
  dropout = register_module("dropout", make_shared<nn::Dropout>(c.seq_classif_dropout));
}

ModelOutput DistilBertForSequenceClassification::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  Tensor pooled = ops::relu((*pre_classifier)(b.last_hidden_state.select(1, 0)));
  out.logits = (*classifier)((*dropout)(pooled));
  if (in.labels.defined()) out.loss = sequence_classification_loss(config(), out.logits, in.labels);
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
  return out;
}

DistilBertForTokenClassification::DistilBertForTokenClassification(const DistilBertConfig& c)
    : DistilBertHeadModel(c, "DistilBertForTokenClassification") {
  dropout = register_module("dropout", make_shared<nn::Dropout>(c.dropout));
  classifier = register_module("classifier", make_shared<nn::Linear>(c.dim, c.num_labels()));
}

ModelOutput DistilBertForTokenClassification::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  out.logits = (*classifier)((*dropout)(b.last_hidden_state));
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
  return out;
}

DistilBertForQuestionAnswering::DistilBertForQuestionAnswering(const DistilBertConfig& c)
    : DistilBertHeadModel(c, "DistilBertForQuestionAnswering") {
  qa_outputs = register_module("qa_outputs", make_shared<nn::Linear>(c.dim, 2));
  dropout = register_module("dropout", make_shared<nn::Dropout>(c.qa_dropout));
}

ModelOutput DistilBertForQuestionAnswering::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  Tensor logits = (*qa_outputs)((*dropout)(b.last_hidden_state));
  out.start_logits = logits.select(-1, 0).contiguous();
  out.end_logits = logits.select(-1, 1).contiguous();
  if (in.start_positions.defined() && in.end_positions.defined())
    out.loss = question_answering_loss(out.start_logits, out.end_logits, in.start_positions, in.end_positions);
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
  return out;
}

DistilBertForMaskedLM::DistilBertForMaskedLM(const DistilBertConfig& c)
    : DistilBertHeadModel(c, "DistilBertForMaskedLM") {
  vocab_transform = register_module("vocab_transform", make_shared<nn::Linear>(c.dim, c.dim));
  vocab_layer_norm = register_module("vocab_layer_norm", make_shared<nn::LayerNorm>(c.dim, 1e-12));
  vocab_projector = register_module("vocab_projector", make_shared<nn::Linear>(c.dim, c.vocab_size));
}

std::vector<std::pair<std::string, std::string>> DistilBertForMaskedLM::tied_weights() const {
  if (!config().tie_word_embeddings) return {};
  return {{"vocab_projector.weight", "distilbert.embeddings.word_embeddings.weight"}};
}

ModelOutput DistilBertForMaskedLM::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  Tensor x = (*vocab_layer_norm)(nn::activation(base->distil_config().activation, (*vocab_transform)(b.last_hidden_state)));
  out.logits = (*vocab_projector)(x);
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
  return out;
}

}  // namespace cppformers
