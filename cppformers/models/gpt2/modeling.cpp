#include "cppformers/models/gpt2/modeling.hpp"

#include <algorithm>

#include <cmath>

#include "cppformers/models/causal_lm.hpp"
#include "cppformers/nn/decoder_attention.hpp"
#include "cppformers/nn/f32_param.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

Conv1D::Conv1D(int64_t nf, int64_t nx) {
  register_parameter("weight", weight, Tensor::empty({nx, nf}));
  register_parameter("bias", bias, Tensor::zeros({nf}));
}

Tensor Conv1D::forward(const Tensor& x, const ops::LinearEpilogue& ep) const {
  return nn::adapted_linear(x, weight.transpose(0, 1), nn::f32_param(bias), ep, adapter.get());  // [in, out] read in place as [out, in]^T
}

GPT2Block::GPT2Block(const GPT2Config& c, int64_t layer_idx)
    : layer_idx(layer_idx), n_head(c.n_head), activation(c.activation_function) {
  const int64_t d = c.n_embd;
  ln_1 = register_module("ln_1", make_shared<nn::LayerNorm>(d, c.layer_norm_epsilon));
  c_attn = register_module("attn.c_attn", make_shared<Conv1D>(3 * d, d));
  attn_c_proj = register_module("attn.c_proj", make_shared<Conv1D>(d, d));
  ln_2 = register_module("ln_2", make_shared<nn::LayerNorm>(d, c.layer_norm_epsilon));
  c_fc = register_module("mlp.c_fc", make_shared<Conv1D>(c.inner_dim(), d));
  mlp_c_proj = register_module("mlp.c_proj", make_shared<Conv1D>(d, c.inner_dim()));
  attn_dropout = register_module("attn.attn_dropout", make_shared<nn::Dropout>(c.attn_pdrop));
  resid_dropout = register_module("attn.resid_dropout", make_shared<nn::Dropout>(c.resid_pdrop));
  mlp_dropout = register_module("mlp.dropout", make_shared<nn::Dropout>(c.resid_pdrop));
  scale = 1.0;
  if (c.scale_attn_weights) scale /= std::sqrt(double(d / c.n_head));
  if (c.scale_attn_by_inverse_layer_idx) scale /= double(layer_idx + 1);
}

Tensor GPT2Block::forward(const Tensor& x, const Tensor& bias, nn::KVCache* cache, Tensor* probs) {
  const int64_t B = x.size(0), S = x.size(1), d = x.size(2), hd = d / n_head;
  Tensor qkv = (*c_attn)((*ln_1)(x));
  auto heads = [&](int64_t i) { return qkv.narrow(-1, i * d, d).view({B, S, n_head, hd}).transpose(1, 2); };
  Tensor q = heads(0), k = heads(1), v = heads(2);
  if (cache) std::tie(k, v) = cache->update(layer_idx, k, v);
  Tensor ctx = nn::grouped_query_attention(q, k, v, bias, scale, 0, attn_dropout->p, is_training(), probs);
  Tensor merged = ctx.transpose(1, 2).reshape({B, S, d});
  Tensor h = resid_dropout->active() ? x + (*resid_dropout)((*attn_c_proj)(merged))
                                     : attn_c_proj->forward(merged, {.residual = x});
  const ops::Activation fused = nn::fusable_activation(activation);
  Tensor inner = fused != ops::Activation::kNone ? c_fc->forward((*ln_2)(h), {.activation = fused})
                                                 : nn::activation(activation, (*c_fc)((*ln_2)(h)));
  if (mlp_dropout->active()) return h + (*mlp_dropout)((*mlp_c_proj)(inner));
  return mlp_c_proj->forward(inner, {.residual = h});
}

GPT2Model::GPT2Model(const GPT2Config& c) : config_(c) {
  wte = register_module("wte", make_shared<nn::Embedding>(c.vocab_size, c.n_embd));
  wpe = register_module("wpe", make_shared<nn::Embedding>(c.n_positions, c.n_embd));
  drop = register_module("drop", make_shared<nn::Dropout>(c.embd_pdrop));
  for (int64_t i = 0; i < c.n_layer; ++i)
    h.push_back(register_module("h." + std::to_string(i), make_shared<GPT2Block>(c, i)));
  ln_f = register_module("ln_f", make_shared<nn::LayerNorm>(c.n_embd, c.layer_norm_epsilon));
}

ModelOutput GPT2Model::forward(const ModelInputs& in) {
  nn::KVCache* cache = in.past_key_values;
  const int64_t past = cache ? cache->length(0) : 0;
  check_causal_lm_inputs(in, past, class_name());
  const int64_t B = in.input_ids.size(0), S = in.input_ids.size(1);
  Tensor pos = causal_position_ids(in, past);
  {
    // learned position embeddings: positions beyond n_positions have no row
    const std::vector<int64_t> p = pos.to_vector<int64_t>();
    const int64_t top = p.empty() ? 0 : *std::max_element(p.begin(), p.end());
    if (top >= config_.n_positions)
      throw ValueError(class_name() + ": position " + std::to_string(top) + " is beyond the model's context: config.json's "
                       "n_positions is " + std::to_string(config_.n_positions) + " (learned position embeddings)");
  }
  Tensor x = (*drop)((*wte)(in.input_ids) + (*wpe)(pos));
  const Tensor bias = nn::causal_mask_bias(in.attention_mask, B, S, past);
  ModelOutput out;
  for (auto& block : h) {
    if (in.output_hidden_states) out.hidden_states.push_back(x);
    Tensor probs;
    x = block->forward(x, bias, cache, in.output_attentions ? &probs : nullptr);
    if (in.output_attentions) out.attentions.push_back(probs);
  }
  x = (*ln_f)(x);
  if (in.output_hidden_states) out.hidden_states.push_back(x);
  out.last_hidden_state = x;
  return out;
}

GPT2LMHeadModel::GPT2LMHeadModel(const GPT2Config& c) {
  transformer = register_module("transformer", make_shared<GPT2Model>(c));
  lm_head = register_module("lm_head", make_shared<nn::Linear>(c.n_embd, c.vocab_size, false));
}

std::vector<std::pair<std::string, std::string>> GPT2LMHeadModel::tied_weights() const {
  if (!config().tie_word_embeddings) return {};
  return {{"lm_head.weight", "transformer.wte.weight"}};
}

ModelOutput GPT2LMHeadModel::forward(const ModelInputs& in) {
  ModelOutput b = transformer->forward(in), out;
  Tensor h = b.last_hidden_state;
  const int64_t S = h.size(1);
  if (in.num_logits_to_keep > 0 && in.num_logits_to_keep < S) h = h.narrow(1, S - in.num_logits_to_keep, in.num_logits_to_keep);
  out.logits = (*lm_head)(h);
  if (in.labels.defined()) out.loss = causal_lm_loss(out.logits, in.labels);
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
  return out;
}

}  // namespace cppformers
