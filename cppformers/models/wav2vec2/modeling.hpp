#pragma once
// Wav2Vec2 (Baevski et al. 2020): a convolutional feature encoder over the raw waveform
// (group-norm "base" or layer-norm "large/lv60" variant), a weight-normalised convolutional
// positional embedding, a post-LN or pre-LN ("stable layer norm") transformer, and
// Wav2Vec2ForCTC's linear head with CTC loss and greedy CTC decoding.
#include <memory>
#include <vector>

#include "cppformers/models/proj_attention.hpp"
#include "cppformers/models/wav2vec2/config.hpp"

namespace cppformers {

class Wav2Vec2ConvLayer : public nn::Module {
 public:
  Wav2Vec2ConvLayer(const Wav2Vec2Config& c, size_t i);
  Tensor forward(const Tensor& x);  // [B, C, L] -> [B, C', L']
  std::shared_ptr<ConvWeights> conv;
  std::shared_ptr<nn::LayerNorm> layer_norm;  // LayerNorm over channels, or GroupNorm(C, C) for "group" layer 0
  bool group_norm = false;
  int64_t stride;
  std::string act;
};

class Wav2Vec2EncoderLayer : public nn::Module {
 public:
  Wav2Vec2EncoderLayer(const Wav2Vec2Config& c);
  Tensor forward(const Tensor& x, const Tensor& bias, Tensor* probs);
  std::shared_ptr<ProjAttention> attention;
  std::shared_ptr<nn::LayerNorm> layer_norm, final_layer_norm;
  std::shared_ptr<nn::Linear> intermediate_dense, output_dense;  // feed_forward.*
  bool stable;
  std::string act;
};

class Wav2Vec2Model : public PreTrainedModel {
 public:
  explicit Wav2Vec2Model(const Wav2Vec2Config& c);
  ModelOutput forward(const ModelInputs& in) override;
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return "Wav2Vec2Model"; }
  std::string base_model_prefix() const override { return "wav2vec2"; }
  double initializer_range() const override { return config_.initializer_range; }
  const Wav2Vec2Config& w2v_config() const { return config_; }

  std::vector<std::shared_ptr<Wav2Vec2ConvLayer>> conv_layers;  // feature_extractor.conv_layers.N
  std::shared_ptr<nn::LayerNorm> fp_layer_norm;                 // feature_projection.layer_norm
  std::shared_ptr<nn::Linear> fp_projection;                    // feature_projection.projection
  std::shared_ptr<ConvWeights> pos_conv;                        // encoder.pos_conv_embed.conv
  std::shared_ptr<nn::LayerNorm> encoder_layer_norm;            // encoder.layer_norm
  std::vector<std::shared_ptr<Wav2Vec2EncoderLayer>> layers;    // encoder.layers.N

 private:
  Wav2Vec2Config config_;
};

class Wav2Vec2ForCTC : public PreTrainedModel {
 public:
  explicit Wav2Vec2ForCTC(const Wav2Vec2Config& c);
  ModelOutput forward(const ModelInputs& in) override;
  const PretrainedConfig& config() const override { return wav2vec2->config(); }
  PretrainedConfig& mutable_config() override { return wav2vec2->mutable_config(); }
  std::string class_name() const override { return "Wav2Vec2ForCTC"; }
  std::string base_model_prefix() const override { return "wav2vec2"; }
  double initializer_range() const override { return wav2vec2->initializer_range(); }
  std::shared_ptr<Wav2Vec2Model> wav2vec2;
  std::shared_ptr<nn::Linear> lm_head;
};

// torch.nn.functional.ctc_loss (forward only): log_probs [B, T, V] (log-softmaxed), targets
// [B, N] padded with negatives, per-example input lengths; reduction "mean" (divided by target
// lengths, then averaged) or "sum".
Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const std::vector<int64_t>& input_lengths,
                int64_t blank, const std::string& reduction, bool zero_infinity);

}  // namespace cppformers
