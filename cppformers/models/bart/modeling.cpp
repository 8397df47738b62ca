#include "cppformers/models/bart/modeling.hpp"

#include <cmath>

#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

BartLayer::BartLayer(int64_t d, int64_t heads, int64_t ffn_dim, const std::string& a, bool decoder, bool pre, bool k_bias)
    : act(a), pre_ln(pre) {
  self_attn = register_module("self_attn", make_shared<ProjAttention>(d, heads, true, k_bias));
  self_attn_layer_norm = register_module("self_attn_layer_norm", make_shared<nn::LayerNorm>(d, 1e-5));
  if (decoder) {
    encoder_attn = register_module("encoder_attn", make_shared<ProjAttention>(d, heads, true, k_bias));
    encoder_attn_layer_norm = register_module("encoder_attn_layer_norm", make_shared<nn::LayerNorm>(d, 1e-5));
  }
  fc1 = register_module("fc1", make_shared<nn::Linear>(d, ffn_dim));
  fc2 = register_module("fc2", make_shared<nn::Linear>(ffn_dim, d));
  final_layer_norm = register_module("final_layer_norm", make_shared<nn::LayerNorm>(d, 1e-5));
}

Tensor BartLayer::ffn(const Tensor& x) {
  if (pre_ln) return fc2->forward(nn::activation(act, (*fc1)((*final_layer_norm)(x))), {.residual = x});
  return (*final_layer_norm)(fc2->forward(nn::activation(act, (*fc1)(x)), {.residual = x}));
}

Tensor BartLayer::forward(const Tensor& x, const Tensor& bias, Tensor* probs) {
  Tensor h = pre_ln ? x + self_attn->forward((*self_attn_layer_norm)(x), bias, probs)
                    : (*self_attn_layer_norm)(x + self_attn->forward(x, bias, probs));
  return ffn(h);
}

Tensor BartLayer::forward_decoder(const Tensor& x, const Tensor& self_bias, nn::KVCache* cache, int64_t index,
                                  const Tensor& ck, const Tensor& cv, const Tensor& cross_bias, Tensor* sp, Tensor* cp) {
  Tensor in = pre_ln ? (*self_attn_layer_norm)(x) : x;
  auto [k, v] = self_attn->project_kv(in);
  if (cache) std::tie(k, v) = cache->update(index, k, v);
  Tensor h = x + self_attn->attend(in, k, v, self_bias, sp);
  if (!pre_ln) h = (*self_attn_layer_norm)(h);
  in = pre_ln ? (*encoder_attn_layer_norm)(h) : h;
  h = h + encoder_attn->attend(in, ck, cv, cross_bias, cp);
  if (!pre_ln) h = (*encoder_attn_layer_norm)(h);
  return ffn(h);
}

BartForConditionalGeneration::BartForConditionalGeneration(const BartConfig& c) : config_(c) {
  const int64_t d = c.d_model, pad = c.pad_token_id.value_or(-1), V = c.vocab_size, DV = c.decoder_vocab();
  if (c.share_encoder_decoder_embeddings) {
    shared = register_module("model.shared", make_shared<nn::Embedding>(V, d, pad));
    dec_embed = shared;
  } else {  // Marian with separate vocabularies
    shared = register_module("model.encoder.embed_tokens", make_shared<nn::Embedding>(V, d, pad));
    dec_embed = register_module("model.decoder.embed_tokens", make_shared<nn::Embedding>(DV, d, pad));
  }
  if (c.static_position_embeddings)
    static_positions = marian_sinusoidal_positions(c.max_position_embeddings, d);
  else
    enc_positions = register_module("model.encoder.embed_positions", make_shared<nn::Embedding>(c.max_position_embeddings + 2, d));
  for (int64_t i = 0; i < c.encoder_layers; ++i)
    enc_layers.push_back(register_module("model.encoder.layers." + std::to_string(i),
                                         make_shared<BartLayer>(d, c.encoder_attention_heads, c.encoder_ffn_dim,
                                                                c.activation_function, false, c.normalize_before, true)));
  if (c.layernorm_embedding)
    enc_layernorm_embedding = register_module("model.encoder.layernorm_embedding", make_shared<nn::LayerNorm>(d, 1e-5));
  if (c.add_final_layer_norm)
    enc_layer_norm = register_module("model.encoder.layer_norm", make_shared<nn::LayerNorm>(d, 1e-5));
  if (!c.static_position_embeddings)
    dec_positions = register_module("model.decoder.embed_positions", make_shared<nn::Embedding>(c.max_position_embeddings + 2, d));
  for (int64_t i = 0; i < c.decoder_layers; ++i)
    dec_layers.push_back(register_module("model.decoder.layers." + std::to_string(i),
                                         make_shared<BartLayer>(d, c.decoder_attention_heads, c.decoder_ffn_dim,
                                                                c.activation_function, true, c.normalize_before, true)));
  if (c.layernorm_embedding)
    dec_layernorm_embedding = register_module("model.decoder.layernorm_embedding", make_shared<nn::LayerNorm>(d, 1e-5));
  if (c.add_final_layer_norm)
    dec_layer_norm = register_module("model.decoder.layer_norm", make_shared<nn::LayerNorm>(d, 1e-5));
  register_parameter("final_logits_bias", final_logits_bias, Tensor::zeros({1, DV}));
  lm_head = register_module("lm_head", make_shared<nn::Linear>(d, DV, false));
}

std::string BartForConditionalGeneration::class_name() const {
  if (config_.model_type == "mbart") return "MBartForConditionalGeneration";
  if (config_.model_type == "marian") return "MarianMTModel";
  return "BartForConditionalGeneration";
}

std::vector<std::pair<std::string, std::string>> BartForConditionalGeneration::tied_weights() const {
  if (!config_.tie_word_embeddings) return {};
  return {{"lm_head.weight",
           config_.share_encoder_decoder_embeddings ? "model.shared.weight" : "model.decoder.embed_tokens.weight"}};
}

std::vector<std::string> BartForConditionalGeneration::keys_to_ignore_on_load_missing() const {
  return {"final_logits_bias"};  // a zero buffer when absent, as Python
}

std::vector<std::string> BartForConditionalGeneration::keys_to_ignore_on_load_unexpected() const {
  // checkpoints written from a full state dict repeat the shared embeddings under the encoder's
  // and decoder's names; Marian's sinusoidal tables are recomputed, never learned
  std::vector<std::string> keys;
  if (config_.share_encoder_decoder_embeddings)
    keys = {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"};
  if (config_.static_position_embeddings) {
    keys.push_back("model.encoder.embed_positions.weight");
    keys.push_back("model.decoder.embed_positions.weight");
  }
  return keys;
}

Tensor mbart_shift_tokens_right(const Tensor& labels, int64_t pad) {
  if (labels.dim() != 2) throw ValueError("shift_tokens_right: labels must be [batch, seq]");
  auto v = labels.to_vector<int64_t>();
  const int64_t B = labels.size(0), S = labels.size(1);
  for (auto& x : v)
    if (x == -100) x = pad;
  std::vector<int64_t> out(v.size());
  for (int64_t b = 0; b < B; ++b) {
    const int64_t* row = v.data() + b * S;
    int64_t non_pad = 0;
    for (int64_t s = 0; s < S; ++s) non_pad += row[s] != pad;
    // index non_pad - 1 (torch.gather; -1 wraps to the last position, as Python does)
    const int64_t eos_at = non_pad > 0 ? non_pad - 1 : S - 1;
    out[size_t(b * S)] = row[eos_at];
    for (int64_t s = 1; s < S; ++s) out[size_t(b * S + s)] = row[s - 1];
  }
  return Tensor::from_vector(out, {B, S});
}

Tensor marian_sinusoidal_positions(int64_t n_pos, int64_t dim) {
  std::vector<float> t(size_t(n_pos * dim));
  const int64_t sentinel = dim % 2 == 0 ? dim / 2 : dim / 2 + 1;
  for (int64_t p = 0; p < n_pos; ++p)
    for (int64_t k = 0; k < dim; ++k) {
      // column k < sentinel: sin of the even feature j = 2k; else cos of the odd j = 2(k - sentinel) + 1
      const int64_t j = k < sentinel ? 2 * k : 2 * (k - sentinel) + 1;
      const double angle = double(p) / std::pow(10000.0, double(2 * (j / 2)) / double(dim));
      t[size_t(p * dim + k)] = float(k < sentinel ? std::sin(angle) : std::cos(angle));
    }
  return Tensor::from_vector(t, {n_pos, dim});
}

namespace {
Tensor positions(int64_t B, int64_t S, int64_t past, int64_t offset, int64_t limit) {
  if (past + S + offset > limit)
    throw ValueError("sequence length " + std::to_string(past + S) + " exceeds max_position_embeddings (" +
                     std::to_string(limit - offset) + ")");
  std::vector<int64_t> p;
  for (int64_t s = 0; s < S; ++s) p.push_back(past + s + offset);
  return Tensor::from_vector(p, {1, S}).expand({B, S});
}
}  // namespace

Tensor BartForConditionalGeneration::embed(nn::Embedding& tokens, nn::Embedding* learned, const Tensor& ids,
                                           int64_t past) {
  const int64_t B = ids.size(0), S = ids.size(1);
  const double scale = config_.scale_embedding ? std::sqrt(double(config_.d_model)) : 1.0;
  Tensor h = tokens(ids) * scale;
  if (learned) return h + (*learned)(positions(B, S, past, 2, learned->weight.size(0)));
  if (past + S > static_positions.size(0))
    throw ValueError("sequence length " + std::to_string(past + S) + " exceeds max_position_embeddings (" +
                     std::to_string(static_positions.size(0)) + ")");
  return h + static_positions.narrow(0, past, S).unsqueeze(0);
}

Tensor BartForConditionalGeneration::run_encoder(const Tensor& ids, const Tensor& mask, bool hs, bool att, ModelOutput* out) {
  if (!ids.defined() || ids.dim() != 2 || is_floating(ids.dtype()))
    throw ValueError(class_name() + ": 'input_ids' must be an integer [batch, seq] tensor");
  Tensor h = embed(*shared, enc_positions.get(), ids, 0);
  if (enc_layernorm_embedding) h = (*enc_layernorm_embedding)(h);
  Tensor bias = mask.defined() ? nn::padding_mask_bias(mask) : Tensor();
  for (auto& l : enc_layers) {
    if (hs) out->encoder_hidden_states.push_back(h);
    Tensor probs;
    h = l->forward(h, bias, att ? &probs : nullptr);
    if (att) out->encoder_attentions.push_back(probs);
  }
  if (enc_layer_norm) h = (*enc_layer_norm)(h);
  if (hs) out->encoder_hidden_states.push_back(h);
  return h;
}

Tensor BartForConditionalGeneration::run_decoder(const Tensor& ids, const Tensor& dec_mask, const Tensor& enc,
                                                 const Tensor& enc_mask, Seq2SeqState* st, bool hs, bool att,
                                                 ModelOutput* out) {
  const int64_t B = ids.size(0), S = ids.size(1), past = st ? st->past_length() : 0;
  Tensor h = embed(*dec_embed, dec_positions.get(), ids, past);
  if (dec_layernorm_embedding) h = (*dec_layernorm_embedding)(h);
  Tensor self_bias = decoder_mask_bias(B, S, past, dec_mask);
  Tensor cross_bias = enc_mask.defined() ? nn::padding_mask_bias(enc_mask) : Tensor();
  for (size_t i = 0; i < dec_layers.size(); ++i) {
    if (hs) out->decoder_hidden_states.push_back(h);
    Tensor ck, cv;
    if (st) {
      if (st->cross_kv.size() <= i) st->cross_kv.push_back(dec_layers[i]->encoder_attn->project_kv(enc));
      ck = st->cross_kv[i].first, cv = st->cross_kv[i].second;
    } else {
      std::tie(ck, cv) = dec_layers[i]->encoder_attn->project_kv(enc);
    }
    Tensor sp, cp;
    h = dec_layers[i]->forward_decoder(h, self_bias, st ? st->self_cache.get() : nullptr, int64_t(i), ck, cv, cross_bias,
                                       att ? &sp : nullptr, att ? &cp : nullptr);
    if (att) out->decoder_attentions.push_back(sp), out->cross_attentions.push_back(cp);
  }
  if (dec_layer_norm) h = (*dec_layer_norm)(h);
  if (hs) out->decoder_hidden_states.push_back(h);
  return h;
}

ModelOutput BartForConditionalGeneration::forward(const ModelInputs& in) {
  ModelOutput out;
  Tensor enc = run_encoder(in.input_ids, in.attention_mask, in.output_hidden_states, in.output_attentions, &out);
  out.encoder_last_hidden_state = enc;
  Tensor dec_ids = in.decoder_input_ids;
  if (!dec_ids.defined()) {
    const Tensor& src = in.labels.defined() ? in.labels : in.input_ids;  // without labels: the inputs shifted
    if (config_.model_type == "mbart") dec_ids = mbart_shift_tokens_right(src, config_.pad_token_id.value_or(1));
    else dec_ids = shift_tokens_right(src, config_.pad_token_id.value_or(1), config_.decoder_start_token_id);
  }
  Tensor h = run_decoder(dec_ids, in.decoder_attention_mask, enc, in.attention_mask, nullptr, in.output_hidden_states,
                         in.output_attentions, &out);
  out.logits = (*lm_head)(h) + final_logits_bias;
  if (in.labels.defined()) out.loss = seq2seq_lm_loss(out.logits, in.labels);
  return out;
}

Seq2SeqState BartForConditionalGeneration::encode(const ModelInputs& in) {
  Seq2SeqState st;
  st.encoder_hidden = run_encoder(in.input_ids, in.attention_mask, false, false, nullptr);
  st.encoder_mask = in.attention_mask;
  return st;
}

Tensor BartForConditionalGeneration::decode_step(const Tensor& ids, Seq2SeqState& st) {
  return (*lm_head)(run_decoder(ids, Tensor(), st.encoder_hidden, st.encoder_mask, &st, false, false, nullptr)) +
         final_logits_bias;
}

}  // namespace cppformers
