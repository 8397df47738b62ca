#pragma once
// T5 (Raffel et al. 2019): RMS layer norms without bias, unscaled attention with bucketed
// relative position biases (computed by each stack's first layer, shared by the rest), relu or
// gated-gelu feed-forward (T5 v1.1 / Flan-T5), and an lm_head tied to the embeddings (with the
// d_model^-0.5 rescale) or separate.
#include <memory>
#include <vector>

#include "cppformers/models/seq2seq.hpp"
#include "cppformers/models/t5/config.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

// T5's bucket of each relative position (key - query), as _relative_position_bucket.
int64_t t5_relative_position_bucket(int64_t relative_position, bool bidirectional, int64_t num_buckets,
                                    int64_t max_distance);

class T5Attention : public nn::Module {
 public:
  T5Attention(const T5Config& c, bool has_relative_bias, bool bidirectional);
  // Position bias [1, H, q, k] for queries at positions past..past+q-1.
  Tensor compute_bias(int64_t q, int64_t k, int64_t past) const;
  std::pair<Tensor, Tensor> project_kv(const Tensor& src) const;
  Tensor attend(const Tensor& x, const Tensor& k, const Tensor& v, const Tensor& bias, Tensor* probs) const;
  std::shared_ptr<nn::Linear> q, k, v, o;
  std::shared_ptr<nn::Embedding> relative_attention_bias;
  int64_t num_heads, num_buckets, max_distance;
  bool bidirectional;
};

class T5FF : public nn::Module {  // DenseReluDense
 public:
  explicit T5FF(const T5Config& c);
  Tensor forward(const Tensor& x, const Tensor& residual) const;
  std::shared_ptr<nn::Linear> wi, wi_0, wi_1, wo;
  std::string act;
};

class T5Block : public nn::Module {
 public:
  T5Block(const T5Config& c, bool decoder, bool has_relative_bias);
  std::shared_ptr<T5Attention> self_attn, cross_attn;  // layer.0.SelfAttention, layer.1.EncDecAttention
  Tensor ln_self, ln_cross, ln_ff;  // layer.N.layer_norm.weight
  std::shared_ptr<T5FF> ff;
  double eps;
};

class T5Stack : public nn::Module {
 public:
  T5Stack(const T5Config& c, bool decoder);
  std::vector<std::shared_ptr<T5Block>> block;
  Tensor final_layer_norm;
  bool decoder;
};

class T5ForConditionalGeneration : public Seq2SeqLM {
 public:
  explicit T5ForConditionalGeneration(const T5Config& c);
  ModelOutput forward(const ModelInputs& in) override;
  Seq2SeqState encode(const ModelInputs& in) override;
  Tensor decode_step(const Tensor& ids, Seq2SeqState& st) override;
  int64_t decoder_start_token_id() const override { return config_.decoder_start_token_id; }
  int64_t vocab_size() const override { return config_.vocab_size; }
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return "T5ForConditionalGeneration"; }
  std::string base_model_prefix() const override { return "transformer"; }
  double initializer_range() const override { return config_.initializer_factor; }

  std::shared_ptr<nn::Embedding> shared;
  std::shared_ptr<T5Stack> encoder, decoder;
  std::shared_ptr<nn::Linear> lm_head;  // null when tied to `shared`

 private:
  // The encoder stack; hidden states / attentions into `out` when asked.
  Tensor run_encoder(const Tensor& ids, const Tensor& mask, bool hs, bool att, ModelOutput* out);
  // The decoder stack over new tokens; with cache (generation) or without (forward).
  Tensor run_decoder(const Tensor& ids, const Tensor& dec_mask, const Tensor& enc, const Tensor& enc_mask,
                     Seq2SeqState* st, bool hs, bool att, ModelOutput* out);
  Tensor lm_logits(const Tensor& h) const;
  T5Config config_;
};

}  // namespace cppformers
