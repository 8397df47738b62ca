#pragma once
// BART (Lewis et al. 2019): learned positions (offset 2), post-LN encoder/decoder layers with a
// layernorm after the embeddings, an lm_head tied to the shared embeddings plus
// final_logits_bias. The same implementation runs mBART (pre-LN layers, a final layer_norm in
// encoder and decoder) and Marian (sinusoidal positions from 0, no layernorm_embedding, optionally
// separate encoder/decoder embeddings), as config differences. The layers also serve Whisper
// in their pre-LN form (models/whisper).
#include <memory>
#include <vector>

#include "cppformers/models/bart/config.hpp"
#include "cppformers/models/proj_attention.hpp"
#include "cppformers/models/seq2seq.hpp"

namespace cppformers {

// One encoder (cross == false) or decoder layer: self_attn (+ encoder_attn) + fc1/fc2, each
// with its layer norm, applied after the residual add (post-LN, BART) or before the sublayer
// (pre-LN, Whisper).
class BartLayer : public nn::Module {
 public:
  BartLayer(int64_t d, int64_t heads, int64_t ffn, const std::string& act, bool decoder, bool pre_ln, bool k_bias);
  // Encoder layer.
  Tensor forward(const Tensor& x, const Tensor& bias, Tensor* probs);
  // Decoder layer: self-attention over `cache` (if given, layer `index`), cross-attention over
  // precomputed keys/values.
  Tensor forward_decoder(const Tensor& x, const Tensor& self_bias, nn::KVCache* cache, int64_t index,
                         const Tensor& ck, const Tensor& cv, const Tensor& cross_bias, Tensor* self_probs,
                         Tensor* cross_probs);
  std::shared_ptr<ProjAttention> self_attn, encoder_attn;
  std::shared_ptr<nn::LayerNorm> self_attn_layer_norm, encoder_attn_layer_norm, final_layer_norm;
  std::shared_ptr<nn::Linear> fc1, fc2;
  std::string act;
  bool pre_ln;

 private:
  Tensor ffn(const Tensor& x);
};

// MBart's shift_tokens_right: the last non-pad token of each row (its language code) moves to
// the front, the rest shifts right by one; -100 becomes pad.
Tensor mbart_shift_tokens_right(const Tensor& labels, int64_t pad_token_id);
// MarianSinusoidalPositionalEmbedding's table [n_pos, dim]: sin of pos / 10000^(2k/dim) in the
// first ceil(dim/2) columns, cos in the rest (not interleaved), computed in float64.
Tensor marian_sinusoidal_positions(int64_t n_pos, int64_t dim);

class BartForConditionalGeneration : public Seq2SeqLM {
 public:
  explicit BartForConditionalGeneration(const BartConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  Seq2SeqState encode(const ModelInputs& in) override;
  Tensor decode_step(const Tensor& ids, Seq2SeqState& st) override;
  int64_t decoder_start_token_id() const override { return config_.decoder_start_token_id; }
  int64_t vocab_size() const override { return config_.decoder_vocab(); }
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  // BartForConditionalGeneration, MBartForConditionalGeneration or MarianMTModel.
  std::string class_name() const override;
  std::string base_model_prefix() const override { return "model"; }
  double initializer_range() const override { return config_.init_std; }
  std::vector<std::pair<std::string, std::string>> tied_weights() const override;
  std::vector<std::string> keys_to_ignore_on_load_missing() const override;
  std::vector<std::string> keys_to_ignore_on_load_unexpected() const override;
  const BartConfig& bart_config() const { return config_; }

  // shared: model.shared (or Marian's unshared model.encoder.embed_tokens); dec_embed: the
  // decoder's token embeddings (== shared unless unshared). Learned positions are null for
  // Marian, whose sinusoidal table is `static_positions`.
  std::shared_ptr<nn::Embedding> shared, dec_embed, enc_positions, dec_positions;
  Tensor static_positions;
  std::shared_ptr<nn::LayerNorm> enc_layernorm_embedding, dec_layernorm_embedding;
  std::shared_ptr<nn::LayerNorm> enc_layer_norm, dec_layer_norm;  // mBART only
  std::vector<std::shared_ptr<BartLayer>> enc_layers, dec_layers;
  std::shared_ptr<nn::Linear> lm_head;
  Tensor final_logits_bias;

 private:
  Tensor run_encoder(const Tensor& ids, const Tensor& mask, bool hs, bool att, ModelOutput* out);
  Tensor run_decoder(const Tensor& ids, const Tensor& dec_mask, const Tensor& enc, const Tensor& enc_mask,
                     Seq2SeqState* st, bool hs, bool att, ModelOutput* out);
  // Token embeddings (scaled) plus positions [past, past + S).
  Tensor embed(nn::Embedding& tokens, nn::Embedding* learned, const Tensor& ids, int64_t past);
  BartConfig config_;
};

}  // namespace cppformers
