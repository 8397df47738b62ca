#include "cppformers/models/bert/modeling.hpp"

#include <cmath>

#include "cppformers/models/heads.hpp"
#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

void check_encoder_inputs(const ModelInputs& in, const std::string& model) {
  if (!in.input_ids.defined()) throw ValueError(model + ": 'input_ids' is required");
  if (in.input_ids.dim() != 2 || is_floating(in.input_ids.dtype()))
    throw ValueError(model + ": 'input_ids' must be an integer [batch, seq] tensor, got " +
                     dtype_name(in.input_ids.dtype()) + " " + shape_str(in.input_ids.shape()));
  for (auto [name, t] : {std::pair{"attention_mask", &in.attention_mask}, {"token_type_ids", &in.token_type_ids},
                         {"position_ids", &in.position_ids}})
    if (t->defined() && t->shape() != in.input_ids.shape())
      throw ValueError(model + ": '" + name + "' has shape " + shape_str(t->shape()) + ", 'input_ids' has " +
                       shape_str(in.input_ids.shape()));
}

// ---- embeddings
BertEmbeddings::BertEmbeddings(const BertConfig& c, bool roberta_positions)
    : roberta_positions(roberta_positions), padding_idx(c.pad_token_id.value_or(0)) {
  word_embeddings = register_module("word_embeddings", make_shared<nn::Embedding>(c.vocab_size, c.hidden_size, padding_idx));
  position_embeddings = register_module(
      "position_embeddings",
      make_shared<nn::Embedding>(c.max_position_embeddings, c.hidden_size, roberta_positions ? padding_idx : -1));
  if (c.type_vocab_size > 0)
    token_type_embeddings =
        register_module("token_type_embeddings", make_shared<nn::Embedding>(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  dropout = register_module("dropout", make_shared<nn::Dropout>(c.hidden_dropout_prob));
}

Tensor BertEmbeddings::forward(const Tensor& input_ids, const Tensor& token_type_ids, const Tensor& position_ids) {
  const int64_t B = input_ids.size(0), S = input_ids.size(1);
  Tensor pos = position_ids;
  if (!pos.defined()) {
    if (roberta_positions) {  // cumsum(ids != pad) * (ids != pad) + pad
      Tensor mask = ops::ne(input_ids, Tensor::scalar(double(padding_idx), kI64)).to(kI64);
      pos = ops::mul(ops::cumsum(mask, 1), mask) + double(padding_idx);
    } else {
      pos = Tensor::arange(S).unsqueeze(0).expand({B, S});
    }
  }
  if (S > position_embeddings->weight.size(0) - (roberta_positions ? padding_idx + 1 : 0))
    throw ValueError("sequence length " + std::to_string(S) + " exceeds max_position_embeddings (" +
                     std::to_string(position_embeddings->weight.size(0)) + ")");
  Tensor x = (*word_embeddings)(input_ids);
  if (token_type_embeddings) {
    Tensor tt = token_type_ids.defined() ? token_type_ids : Tensor::zeros({B, S}, kI64);
    x = x + (*token_type_embeddings)(tt);
  }
  x = x + (*position_embeddings)(pos);
  return (*dropout)((*LayerNorm)(x));
}

// ---- attention
BertSelfAttention::BertSelfAttention(const BertConfig& c)
    : num_heads(c.num_attention_heads),
      qkv_({query = register_module("query", make_shared<nn::Linear>(c.hidden_size, c.hidden_size)),
            key = register_module("key", make_shared<nn::Linear>(c.hidden_size, c.hidden_size)),
            value = register_module("value", make_shared<nn::Linear>(c.hidden_size, c.hidden_size))}) {
  dropout = register_module("dropout", make_shared<nn::Dropout>(c.attention_probs_dropout_prob));
}

Tensor BertSelfAttention::forward(const Tensor& x, const Tensor& mask_bias, Tensor* probs) {
  const std::vector<Tensor> qkv = qkv_(x);
  Tensor q = nn::split_heads(qkv[0], num_heads);
  Tensor k = nn::split_heads(qkv[1], num_heads);
  Tensor v = nn::split_heads(qkv[2], num_heads);
  const double scale = 1.0 / std::sqrt(double(q.size(-1)));
  Tensor ctx = nn::scaled_dot_product_attention(q, k, v, mask_bias, scale, dropout->p, is_training(), probs);
  return nn::merge_heads(ctx);
}

BertResidualOutput::BertResidualOutput(int64_t in, int64_t out, const BertConfig& c) {
  dense = register_module("dense", make_shared<nn::Linear>(in, out));
  LayerNorm = register_module("LayerNorm", make_shared<nn::LayerNorm>(out, c.layer_norm_eps));
  dropout = register_module("dropout", make_shared<nn::Dropout>(c.hidden_dropout_prob));
}

Tensor BertResidualOutput::forward(const Tensor& x, const Tensor& residual) {
  if (dropout->active()) return (*LayerNorm)((*dropout)((*dense)(x)) + residual);
  return (*LayerNorm)(dense->forward(x, {.residual = residual}));  // the add fused into the GEMM
}

BertAttention::BertAttention(const BertConfig& c) {
  self = register_module("self", make_shared<BertSelfAttention>(c));
  output = register_module("output", make_shared<BertResidualOutput>(c.hidden_size, c.hidden_size, c));
}

Tensor BertAttention::forward(const Tensor& x, const Tensor& mask_bias, Tensor* probs) {
  return output->forward(self->forward(x, mask_bias, probs), x);
}

BertLayer::BertLayer(const BertConfig& c) : act(c.hidden_act) {
  attention = register_module("attention", make_shared<BertAttention>(c));
  intermediate_dense = register_module("intermediate.dense", make_shared<nn::Linear>(c.hidden_size, c.intermediate_size));
  output = register_module("output", make_shared<BertResidualOutput>(c.intermediate_size, c.hidden_size, c));
}

Tensor BertLayer::forward(const Tensor& x, const Tensor& mask_bias, Tensor* probs) {
  Tensor h = attention->forward(x, mask_bias, probs);
  const ops::Activation fused = nn::fusable_activation(act);
  Tensor inter = fused != ops::Activation::kNone ? intermediate_dense->forward(h, {.activation = fused})
                                                 : nn::activation(act, (*intermediate_dense)(h));
  return output->forward(inter, h);
}

BertEncoder::BertEncoder(const BertConfig& c) {
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layer.push_back(register_module("layer." + std::to_string(i), make_shared<BertLayer>(c)));
}

BertPooler::BertPooler(const BertConfig& c) {
  dense = register_module("dense", make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
}

Tensor BertPooler::forward(const Tensor& hidden) { return ops::tanh((*dense)(hidden.select(1, 0))); }

// ---- the base model
BertModel::BertModel(const BertConfig& c, bool add_pooling_layer, bool roberta_positions, std::string prefix,
                     std::string class_name)
    : config_(c), prefix_(std::move(prefix)), class_name_(std::move(class_name)) {
  embeddings = register_module("embeddings", make_shared<BertEmbeddings>(c, roberta_positions));
  encoder = register_module("encoder", make_shared<BertEncoder>(c));
  if (add_pooling_layer) pooler = register_module("pooler", make_shared<BertPooler>(c));
}

ModelOutput BertModel::forward(const ModelInputs& in) {
  check_encoder_inputs(in, class_name_);
  const Tensor mask = in.attention_mask.defined() ? in.attention_mask : Tensor::ones(in.input_ids.shape(), kI64);
  const Tensor bias = nn::padding_mask_bias(mask);
  ModelOutput out;
  Tensor h = embeddings->forward(in.input_ids, in.token_type_ids, in.position_ids);
  for (auto& layer : encoder->layer) {
    if (in.output_hidden_states) out.hidden_states.push_back(h);
    Tensor probs;
    h = layer->forward(h, bias, in.output_attentions ? &probs : nullptr);
    if (in.output_attentions) out.attentions.push_back(probs);
  }
  if (in.output_hidden_states) out.hidden_states.push_back(h);
  out.last_hidden_state = h;
  if (pooler) out.pooler_output = pooler->forward(h);
  return out;
}

// ---- heads
BertHeadModel::BertHeadModel(std::shared_ptr<BertModel> model, std::string class_name)
    : class_name_(std::move(class_name)) {
  const std::string prefix = model->base_model_prefix();
  base = register_module(prefix, std::move(model));
}

double BertHeadModel::classifier_dropout() const {
  const auto& c = base->bert_config();
  return c.classifier_dropout.value_or(c.hidden_dropout_prob);
}

static void keep_base_outputs(ModelOutput& out, ModelOutput& b) {
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
}

BertForSequenceClassification::BertForSequenceClassification(const BertConfig& c)
    : BertHeadModel(make_shared<BertModel>(c, true), "BertForSequenceClassification") {
  dropout = register_module("dropout", make_shared<nn::Dropout>(classifier_dropout()));
  classifier = register_module("classifier", make_shared<nn::Linear>(c.hidden_size, c.num_labels()));
}

ModelOutput BertForSequenceClassification::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  out.logits = (*classifier)((*dropout)(b.pooler_output));
  if (in.labels.defined()) out.loss = sequence_classification_loss(config(), out.logits, in.labels);
  keep_base_outputs(out, b);
  return out;
}

std::string roberta_class_name(const BertConfig& c, const std::string& head) {
  return (c.model_type == "xlm-roberta" ? "XLMRoberta" : "Roberta") + head;
}

static std::shared_ptr<BertModel> base_for(const BertConfig& c, bool roberta) {
  return roberta ? make_shared<BertModel>(c, false, true, "roberta", roberta_class_name(c, "Model"))
                 : make_shared<BertModel>(c, false);
}

BertForTokenClassification::BertForTokenClassification(const BertConfig& c, bool roberta)
    : BertHeadModel(base_for(c, roberta), roberta ? roberta_class_name(c, "ForTokenClassification") : "BertForTokenClassification") {
  dropout = register_module("dropout", make_shared<nn::Dropout>(classifier_dropout()));
  classifier = register_module("classifier", make_shared<nn::Linear>(c.hidden_size, c.num_labels()));
}

ModelOutput BertForTokenClassification::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  out.logits = (*classifier)((*dropout)(b.last_hidden_state));
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  keep_base_outputs(out, b);
  return out;
}

BertForQuestionAnswering::BertForQuestionAnswering(const BertConfig& c, bool roberta)
    : BertHeadModel(base_for(c, roberta), roberta ? roberta_class_name(c, "ForQuestionAnswering") : "BertForQuestionAnswering") {
  qa_outputs = register_module("qa_outputs", make_shared<nn::Linear>(c.hidden_size, 2));
}

ModelOutput BertForQuestionAnswering::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  Tensor logits = (*qa_outputs)(b.last_hidden_state);
  out.start_logits = logits.select(-1, 0).contiguous();
  out.end_logits = logits.select(-1, 1).contiguous();
  if (in.start_positions.defined() && in.end_positions.defined())
    out.loss = question_answering_loss(out.start_logits, out.end_logits, in.start_positions, in.end_positions);
  keep_base_outputs(out, b);
  return out;
}

BertForMaskedLM::Head::Head(const BertConfig& c) {
  transform_dense = register_module("transform.dense", make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  transform_LayerNorm = register_module("transform.LayerNorm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  decoder = register_module("decoder", make_shared<nn::Linear>(c.hidden_size, c.vocab_size, false));
  register_parameter("bias", bias, Tensor::zeros({c.vocab_size}));
}

BertForMaskedLM::BertForMaskedLM(const BertConfig& c)
    : BertHeadModel(make_shared<BertModel>(c, false), "BertForMaskedLM") {
  cls_predictions = register_module("cls.predictions", make_shared<Head>(c));
}

std::vector<std::pair<std::string, std::string>> BertForMaskedLM::tied_weights() const {
  if (!config().tie_word_embeddings) return {};
  return {{"cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"}};
}

ModelOutput BertForMaskedLM::forward(const ModelInputs& in) {
  ModelOutput b = base->forward(in), out;
  const Head& h = *cls_predictions;
  Tensor t = (*h.transform_LayerNorm)(nn::activation(base->bert_config().hidden_act, (*h.transform_dense)(b.last_hidden_state)));
  out.logits = ops::linear(t, h.decoder->weight, h.bias);
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  keep_base_outputs(out, b);
  return out;
}

}  // namespace cppformers
