#include "cppformers/models/llama/modeling.hpp"

#include <cmath>
#include <map>

#include "cppformers/models/causal_lm.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

LlamaDecoderLayer::LlamaDecoderLayer(const LlamaConfig& c, int64_t layer_idx) : layer_idx(layer_idx) {
  self_attn = register_module("self_attn", make_shared<nn::DecoderAttention>(c.attention(layer_idx)));
  mlp = register_module("mlp", make_shared<nn::GatedMLP>(c.hidden_size, c.intermediate_size, c.hidden_act,
                                                         c.mlp_bias, c.fused_gate_up));
  auto norm = [&](const char* name) {
    return register_module(name, make_shared<nn::RMSNorm>(c.hidden_size, c.rms_norm_eps, c.norm_weight_offset));
  };
  input_layernorm = norm("input_layernorm");
  post_attention_layernorm = norm("post_attention_layernorm");
  if (c.sandwich_norms) {
    pre_feedforward_layernorm = norm("pre_feedforward_layernorm");
    post_feedforward_layernorm = norm("post_feedforward_layernorm");
  }
}

Tensor LlamaDecoderLayer::forward(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& bias,
                                  nn::KVCache* cache, Tensor* probs) {
  if (!pre_feedforward_layernorm) {  // pre-norm: x + attn(norm(x)), then x + mlp(norm(x))
    Tensor h = self_attn->forward((*input_layernorm)(x), cos, sin, bias, cache, layer_idx, probs, x);
    return mlp->forward((*post_attention_layernorm)(h), h);
  }
  // Gemma-2: the block outputs are normed too before the residual
  Tensor a = self_attn->forward((*input_layernorm)(x), cos, sin, bias, cache, layer_idx, probs);
  Tensor h = x + (*post_attention_layernorm)(a);
  return h + (*post_feedforward_layernorm)(mlp->forward((*pre_feedforward_layernorm)(h)));
}

LlamaModel::LlamaModel(const LlamaConfig& c) : rotary_emb(c.rope), config_(c) {
  embed_tokens = register_module("embed_tokens", make_shared<nn::Embedding>(c.vocab_size, c.hidden_size,
                                                                            c.pad_token_id.value_or(-1)));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layers.push_back(register_module("layers." + std::to_string(i), make_shared<LlamaDecoderLayer>(c, i)));
  norm = register_module("norm", make_shared<nn::RMSNorm>(c.hidden_size, c.rms_norm_eps, c.norm_weight_offset));
}

ModelOutput LlamaModel::forward(const ModelInputs& in) {
  nn::KVCache* cache = in.past_key_values;
  const int64_t past = cache ? cache->length(0) : 0;
  check_causal_lm_inputs(in, past, class_name());
  const int64_t B = in.input_ids.size(0), S = in.input_ids.size(1);
  Tensor h = (*embed_tokens)(in.input_ids);
  if (config_.scale_embeddings) h = h * double(float(std::sqrt(double(config_.hidden_size))));
  auto [cos, sin] = rotary_emb.forward(causal_position_ids(in, past));
  std::map<int64_t, Tensor> masks;  // one per distinct sliding window
  auto mask_for = [&](int64_t window) {
    auto it = masks.find(window);
    if (it == masks.end()) it = masks.emplace(window, nn::causal_mask_bias(in.attention_mask, B, S, past, window)).first;
    return it->second;
  };
  ModelOutput out;
  for (auto& layer : layers) {
    if (in.output_hidden_states) out.hidden_states.push_back(h);
    Tensor probs;
    h = layer->forward(h, cos, sin, mask_for(config_.layer_sliding_window(layer->layer_idx)), cache,
                       in.output_attentions ? &probs : nullptr);
    if (in.output_attentions) out.attentions.push_back(probs);
  }
  h = (*norm)(h);
  if (in.output_hidden_states) out.hidden_states.push_back(h);
  out.last_hidden_state = h;
  return out;
}

LlamaForCausalLM::LlamaForCausalLM(const LlamaConfig& c) {
  model = register_module("model", make_shared<LlamaModel>(c));
  lm_head = register_module("lm_head", make_shared<nn::Linear>(c.hidden_size, c.vocab_size, false));
}

std::vector<std::pair<std::string, std::string>> LlamaForCausalLM::tied_weights() const {
  if (!config().tie_word_embeddings) return {};
  return {{"lm_head.weight", "model.embed_tokens.weight"}};
}

ModelOutput LlamaForCausalLM::forward(const ModelInputs& in) {
  ModelOutput b = model->forward(in), out;
  Tensor h = b.last_hidden_state;
  const int64_t S = h.size(1);
  if (in.num_logits_to_keep > 0 && in.num_logits_to_keep < S) h = h.narrow(1, S - in.num_logits_to_keep, in.num_logits_to_keep);
  out.logits = (*lm_head)(h);
  const double cap = model->llama_config().final_logit_softcapping;
  if (cap > 0) out.logits = ops::tanh(out.logits / cap) * cap;
  if (in.labels.defined()) out.loss = causal_lm_loss(out.logits, in.labels);
  out.hidden_states = std::move(b.hidden_states);
  out.attentions = std::move(b.attentions);
  return out;
}

}  // namespace cppformers
