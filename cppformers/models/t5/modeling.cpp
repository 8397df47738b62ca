#include "cppformers/models/t5/modeling.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

int64_t t5_relative_position_bucket(int64_t rp, bool bidirectional, int64_t num_buckets, int64_t max_distance) {
  int64_t bucket = 0;
  if (bidirectional) {
    num_buckets /= 2;
    if (rp > 0) bucket += num_buckets;
    rp = std::llabs(rp);
  } else {
    rp = -std::min<int64_t>(rp, 0);
  }
  const int64_t max_exact = num_buckets / 2;
  if (rp < max_exact) return bucket + rp;
  // float32, as torch computes it
  const float large = float(max_exact) + std::log(float(rp) / float(max_exact)) /
                                              float(std::log(double(max_distance) / double(max_exact))) *
                                              float(num_buckets - max_exact);
  return bucket + std::min<int64_t>(int64_t(large), num_buckets - 1);
}

T5Attention::T5Attention(const T5Config& c, bool has_relative_bias, bool bidir)
    : num_heads(c.num_heads), num_buckets(c.relative_attention_num_buckets),
      max_distance(c.relative_attention_max_distance), bidirectional(bidir) {
  const int64_t inner = c.num_heads * c.d_kv;
  q = register_module("q", make_shared<nn::Linear>(c.d_model, inner, false));
  k = register_module("k", make_shared<nn::Linear>(c.d_model, inner, false));
  v = register_module("v", make_shared<nn::Linear>(c.d_model, inner, false));
  o = register_module("o", make_shared<nn::Linear>(inner, c.d_model, false));
  if (has_relative_bias)
    relative_attention_bias = register_module("relative_attention_bias", make_shared<nn::Embedding>(num_buckets, num_heads));
}

Tensor T5Attention::compute_bias(int64_t nq, int64_t nk, int64_t past) const {
  std::vector<int64_t> buckets(static_cast<size_t>(nq * nk));
  for (int64_t i = 0; i < nq; ++i)
    for (int64_t j = 0; j < nk; ++j)
      buckets[size_t(i * nk + j)] = t5_relative_position_bucket(j - (past + i), bidirectional, num_buckets, max_distance);
  Tensor vals = (*relative_attention_bias)(Tensor::from_vector(buckets, {nq, nk}));  // [q, k, H]
  return vals.permute({2, 0, 1}).unsqueeze(0).contiguous();                         // [1, H, q, k]
}

std::pair<Tensor, Tensor> T5Attention::project_kv(const Tensor& src) const {
  return {nn::split_heads((*k)(src), num_heads), nn::split_heads((*v)(src), num_heads)};
}

Tensor T5Attention::attend(const Tensor& x, const Tensor& kk, const Tensor& vv, const Tensor& bias, Tensor* probs) const {
  Tensor qq = nn::split_heads((*q)(x), num_heads);
  Tensor ctx = nn::scaled_dot_product_attention(qq, kk, vv, bias, 1.0, 0.0, false, probs);  // T5: no 1/sqrt(d)
  return (*o)(nn::merge_heads(ctx));
}

T5FF::T5FF(const T5Config& c) : act(c.dense_act_fn) {
  if (c.is_gated_act) {
    wi_0 = register_module("wi_0", make_shared<nn::Linear>(c.d_model, c.d_ff, false));
    wi_1 = register_module("wi_1", make_shared<nn::Linear>(c.d_model, c.d_ff, false));
  } else {
    wi = register_module("wi", make_shared<nn::Linear>(c.d_model, c.d_ff, false));
  }
  wo = register_module("wo", make_shared<nn::Linear>(c.d_ff, c.d_model, false));
}

Tensor T5FF::forward(const Tensor& x, const Tensor& residual) const {
  Tensor h = wi ? nn::activation(act, (*wi)(x)) : ops::mul(nn::activation(act, (*wi_0)(x)), (*wi_1)(x));
  return wo->forward(h, {.residual = residual});
}

T5Block::T5Block(const T5Config& c, bool dec, bool has_rel) : eps(c.layer_norm_epsilon) {
  self_attn = register_module("layer.0.SelfAttention", make_shared<T5Attention>(c, has_rel, !dec));
  register_parameter("layer.0.layer_norm.weight", ln_self, Tensor::ones({c.d_model}));
  if (dec) {
    cross_attn = register_module("layer.1.EncDecAttention", make_shared<T5Attention>(c, false, true));
    register_parameter("layer.1.layer_norm.weight", ln_cross, Tensor::ones({c.d_model}));
  }
  const std::string ffn = dec ? "layer.2" : "layer.1";
  ff = register_module(ffn + ".DenseReluDense", make_shared<T5FF>(c));
  register_parameter(ffn + ".layer_norm.weight", ln_ff, Tensor::ones({c.d_model}));
}

T5Stack::T5Stack(const T5Config& c, bool dec) : decoder(dec) {
  const int64_t n = dec ? c.num_decoder_layers : c.num_layers;
  for (int64_t i = 0; i < n; ++i) block.push_back(register_module("block." + std::to_string(i), make_shared<T5Block>(c, dec, i == 0)));
  register_parameter("final_layer_norm.weight", final_layer_norm, Tensor::ones({c.d_model}));
}

T5ForConditionalGeneration::T5ForConditionalGeneration(const T5Config& c) : config_(c) {
  shared = register_module("shared", make_shared<nn::Embedding>(c.vocab_size, c.d_model));
  encoder = register_module("encoder", make_shared<T5Stack>(c, false));
  decoder = register_module("decoder", make_shared<T5Stack>(c, true));
  if (!c.tie_word_embeddings) lm_head = register_module("lm_head", make_shared<nn::Linear>(c.d_model, c.vocab_size, false));
}

Tensor T5ForConditionalGeneration::run_encoder(const Tensor& ids, const Tensor& mask, bool hs, bool att, ModelOutput* out) {
  if (!ids.defined() || ids.dim() != 2 || is_floating(ids.dtype()))
    throw ValueError("T5ForConditionalGeneration: 'input_ids' must be an integer [batch, seq] tensor");
  const int64_t S = ids.size(1);
  const double eps = config_.layer_norm_epsilon;
  Tensor h = (*shared)(ids);
  Tensor bias = encoder->block[0]->self_attn->compute_bias(S, S, 0);
  if (mask.defined()) bias = bias + nn::padding_mask_bias(mask);
  for (auto& b : encoder->block) {
    if (hs) out->encoder_hidden_states.push_back(h);
    Tensor probs;
    Tensor x = ops::rms_norm(h, b->ln_self, eps);
    auto [k, v] = b->self_attn->project_kv(x);
    h = h + b->self_attn->attend(x, k, v, bias, att ? &probs : nullptr);
    if (att) out->encoder_attentions.push_back(probs);
    h = b->ff->forward(ops::rms_norm(h, b->ln_ff, eps), h);
  }
  h = ops::rms_norm(h, encoder->final_layer_norm, eps);
  if (hs) out->encoder_hidden_states.push_back(h);
  return h;
}

Tensor T5ForConditionalGeneration::run_decoder(const Tensor& ids, const Tensor& dec_mask, const Tensor& enc,
                                               const Tensor& enc_mask, Seq2SeqState* st, bool hs, bool att,
                                               ModelOutput* out) {
  const int64_t B = ids.size(0), Sq = ids.size(1);
  const int64_t past = st ? st->past_length() : 0;
  const double eps = config_.layer_norm_epsilon;
  Tensor h = (*shared)(ids);
  Tensor self_bias = decoder->block[0]->self_attn->compute_bias(Sq, past + Sq, past) + decoder_mask_bias(B, Sq, past, dec_mask);
  Tensor cross_bias = enc_mask.defined() ? nn::padding_mask_bias(enc_mask) : Tensor();
  for (size_t i = 0; i < decoder->block.size(); ++i) {
    auto& b = decoder->block[i];
    if (hs) out->decoder_hidden_states.push_back(h);
    Tensor probs;
    Tensor x = ops::rms_norm(h, b->ln_self, eps);
    auto [k, v] = b->self_attn->project_kv(x);
    if (st) std::tie(k, v) = st->self_cache->update(int64_t(i), k, v);
    h = h + b->self_attn->attend(x, k, v, self_bias, att ? &probs : nullptr);
    if (att) out->decoder_attentions.push_back(probs);
    x = ops::rms_norm(h, b->ln_cross, eps);
    Tensor ck, cv;
    if (st) {
      if (st->cross_kv.size() <= i) st->cross_kv.push_back(b->cross_attn->project_kv(enc));
      ck = st->cross_kv[i].first, cv = st->cross_kv[i].second;
    } else {
      std::tie(ck, cv) = b->cross_attn->project_kv(enc);
    }
    h = h + b->cross_attn->attend(x, ck, cv, cross_bias, att ? &probs : nullptr);
    if (att) out->cross_attentions.push_back(probs);
    h = b->ff->forward(ops::rms_norm(h, b->ln_ff, eps), h);
  }
  h = ops::rms_norm(h, decoder->final_layer_norm, eps);
  if (hs) out->decoder_hidden_states.push_back(h);
  return h;
}

Tensor T5ForConditionalGeneration::lm_logits(const Tensor& h) const {
  if (lm_head) return (*lm_head)(h);
  return ops::linear(h * std::pow(double(config_.d_model), -0.5), shared->weight);  // tied: rescaled first
}

ModelOutput T5ForConditionalGeneration::forward(const ModelInputs& in) {
  ModelOutput out;
  Tensor enc = run_encoder(in.input_ids, in.attention_mask, in.output_hidden_states, in.output_attentions, &out);
  out.encoder_last_hidden_state = enc;
  Tensor dec_ids = in.decoder_input_ids;
  if (!dec_ids.defined()) {
    if (!in.labels.defined()) throw ValueError("T5ForConditionalGeneration: give 'decoder_input_ids' or 'labels'");
    dec_ids = shift_tokens_right(in.labels, config_.pad_token_id.value_or(0), config_.decoder_start_token_id);
  }
  Tensor h = run_decoder(dec_ids, in.decoder_attention_mask, enc, in.attention_mask, nullptr, in.output_hidden_states,
                         in.output_attentions, &out);
  out.logits = lm_logits(h);
  if (in.labels.defined()) out.loss = seq2seq_lm_loss(out.logits, in.labels);
  return out;
}

Seq2SeqState T5ForConditionalGeneration::encode(const ModelInputs& in) {
  Seq2SeqState st;
  st.encoder_hidden = run_encoder(in.input_ids, in.attention_mask, false, false, nullptr);
  st.encoder_mask = in.attention_mask;
  return st;
}

Tensor T5ForConditionalGeneration::decode_step(const Tensor& ids, Seq2SeqState& st) {
  Tensor h = run_decoder(ids, Tensor(), st.encoder_hidden, st.encoder_mask, &st, false, false, nullptr);
  return lm_logits(h);
}

}  // namespace cppformers
