#pragma once
// Whisper (Radford et al. 2022): two convolutions over the log-mel frames, sinusoidal encoder
// positions (stored), pre-LN BART-style layers, learned decoder positions, and proj_out tied
// to the decoder's token embeddings.
#include <memory>
#include <vector>

#include "cppformers/models/bart/modeling.hpp"
#include "cppformers/models/whisper/config.hpp"

namespace cppformers {

class WhisperForConditionalGeneration : public Seq2SeqLM {
 public:
  explicit WhisperForConditionalGeneration(const WhisperConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  Seq2SeqState encode(const ModelInputs& in) override;
  Tensor decode_step(const Tensor& ids, Seq2SeqState& st) override;
  int64_t decoder_start_token_id() const override { return config_.decoder_start_token_id; }
  int64_t vocab_size() const override { return config_.vocab_size; }
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return "WhisperForConditionalGeneration"; }
  std::string base_model_prefix() const override { return "model"; }
  double initializer_range() const override { return config_.init_std; }
  std::vector<std::pair<std::string, std::string>> tied_weights() const override;

  std::shared_ptr<ConvWeights> conv1, conv2;
  std::shared_ptr<nn::Embedding> enc_positions, embed_tokens, dec_positions;
  std::vector<std::shared_ptr<BartLayer>> enc_layers, dec_layers;
  std::shared_ptr<nn::LayerNorm> enc_layer_norm, dec_layer_norm;
  std::shared_ptr<nn::Linear> proj_out;

 private:
  Tensor run_encoder(const Tensor& features, bool hs, bool att, ModelOutput* out);
  Tensor run_decoder(const Tensor& ids, const Tensor& dec_mask, const Tensor& enc, Seq2SeqState* st, bool hs, bool att,
                     ModelOutput* out);
  WhisperConfig config_;
};

}  // namespace cppformers
