#include "cppformers/models/whisper/modeling.hpp"

#include <cmath>

#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

WhisperForConditionalGeneration::WhisperForConditionalGeneration(const WhisperConfig& c) : config_(c) {
  const int64_t d = c.d_model;
  conv1 = register_module("model.encoder.conv1", make_shared<ConvWeights>(Shape{d, c.num_mel_bins, 3}, true));
  conv2 = register_module("model.encoder.conv2", make_shared<ConvWeights>(Shape{d, d, 3}, true));
  enc_positions = register_module("model.encoder.embed_positions", make_shared<nn::Embedding>(c.max_source_positions, d));
  for (int64_t i = 0; i < c.encoder_layers; ++i)
    enc_layers.push_back(register_module("model.encoder.layers." + std::to_string(i),
                                         make_shared<BartLayer>(d, c.encoder_attention_heads, c.encoder_ffn_dim,
                                                                c.activation_function, false, true, false)));
  enc_layer_norm = register_module("model.encoder.layer_norm", make_shared<nn::LayerNorm>(d, 1e-5));
  embed_tokens = register_module("model.decoder.embed_tokens", make_shared<nn::Embedding>(c.vocab_size, d));
  dec_positions = register_module("model.decoder.embed_positions", make_shared<nn::Embedding>(c.max_target_positions, d));
  for (int64_t i = 0; i < c.decoder_layers; ++i)
    dec_layers.push_back(register_module("model.decoder.layers." + std::to_string(i),
                                         make_shared<BartLayer>(d, c.decoder_attention_heads, c.decoder_ffn_dim,
                                                                c.activation_function, true, true, false)));
  dec_layer_norm = register_module("model.decoder.layer_norm", make_shared<nn::LayerNorm>(d, 1e-5));
  proj_out = register_module("proj_out", make_shared<nn::Linear>(d, c.vocab_size, false));
}

std::vector<std::pair<std::string, std::string>> WhisperForConditionalGeneration::tied_weights() const {
  return {{"proj_out.weight", "model.decoder.embed_tokens.weight"}};
}

Tensor WhisperForConditionalGeneration::run_encoder(const Tensor& f, bool hs, bool att, ModelOutput* out) {
  const int64_t expected = 2 * config_.max_source_positions;
  if (!f.defined() || f.dim() != 3 || f.size(1) != config_.num_mel_bins || f.size(2) != expected)
    throw ValueError("Whisper expects 'input_features' of shape [batch, " + std::to_string(config_.num_mel_bins) + ", " +
                     std::to_string(expected) + "], got " + (f.defined() ? shape_str(f.shape()) : "none"));
  Tensor x = nn::activation(config_.activation_function, conv1d(f, conv1->weight, conv1->bias, 1, 1));
  x = nn::activation(config_.activation_function, conv1d(x, conv2->weight, conv2->bias, 2, 1));
  Tensor h = x.transpose(1, 2) + enc_positions->weight.to(kF32).narrow(0, 0, x.size(2));
  for (auto& l : enc_layers) {
    if (hs) out->encoder_hidden_states.push_back(h);
    Tensor probs;
    h = l->forward(h, Tensor(), att ? &probs : nullptr);
    if (att) out->encoder_attentions.push_back(probs);
  }
  h = (*enc_layer_norm)(h);
  if (hs) out->encoder_hidden_states.push_back(h);
  return h;
}

Tensor WhisperForConditionalGeneration::run_decoder(const Tensor& ids, const Tensor& dec_mask, const Tensor& enc,
                                                    Seq2SeqState* st, bool hs, bool att, ModelOutput* out) {
  if (!ids.defined() || ids.dim() != 2 || is_floating(ids.dtype()))
    throw ValueError("Whisper: 'decoder_input_ids' must be an integer [batch, seq] tensor");
  const int64_t B = ids.size(0), S = ids.size(1), past = st ? st->past_length() : 0;
  if (past + S > config_.max_target_positions)
    throw ValueError("Whisper: decoder length " + std::to_string(past + S) + " exceeds max_target_positions (" +
                     std::to_string(config_.max_target_positions) + ")");
  const double scale = config_.scale_embedding ? std::sqrt(double(config_.d_model)) : 1.0;
  Tensor h = (*embed_tokens)(ids) * scale + dec_positions->weight.to(kF32).narrow(0, past, S).unsqueeze(0);
  Tensor self_bias = decoder_mask_bias(B, S, past, dec_mask);
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
    h = dec_layers[i]->forward_decoder(h, self_bias, st ? st->self_cache.get() : nullptr, int64_t(i), ck, cv, Tensor(),
                                       att ? &sp : nullptr, att ? &cp : nullptr);
    if (att) out->decoder_attentions.push_back(sp), out->cross_attentions.push_back(cp);
  }
  h = (*dec_layer_norm)(h);
  if (hs) out->decoder_hidden_states.push_back(h);
  return h;
}

ModelOutput WhisperForConditionalGeneration::forward(const ModelInputs& in) {
  ModelOutput out;
  Tensor enc = run_encoder(in.input_features, in.output_hidden_states, in.output_attentions, &out);
  out.encoder_last_hidden_state = enc;
  Tensor dec_ids = in.decoder_input_ids;
  if (!dec_ids.defined()) {
    if (!in.labels.defined()) throw ValueError("WhisperForConditionalGeneration: give 'decoder_input_ids' or 'labels'");
    dec_ids = shift_tokens_right(in.labels, config_.pad_token_id.value_or(0), config_.decoder_start_token_id);
  }
  Tensor h = run_decoder(dec_ids, in.decoder_attention_mask, enc, nullptr, in.output_hidden_states, in.output_attentions, &out);
  out.logits = (*proj_out)(h);
  if (in.labels.defined()) out.loss = seq2seq_lm_loss(out.logits, in.labels);
  return out;
}

Seq2SeqState WhisperForConditionalGeneration::encode(const ModelInputs& in) {
  Seq2SeqState st;
  st.encoder_hidden = run_encoder(in.input_features, false, false, nullptr);
  return st;
}

Tensor WhisperForConditionalGeneration::decode_step(const Tensor& ids, Seq2SeqState& st) {
  return (*proj_out)(run_decoder(ids, Tensor(), st.encoder_hidden, &st, false, false, nullptr));
}

}  // namespace cppformers
