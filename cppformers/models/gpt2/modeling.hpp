#pragma once
// GPT-2 (Radford et al. 2019) with transformers' module names: transformer.{wte, wpe,
// h.N.{ln_1, attn.{c_attn, c_proj}, ln_2, mlp.{c_fc, c_proj}}, ln_f}, lm_head (tied to wte).
#include <memory>
#include <vector>

#include "cppformers/models/gpt2/config.hpp"
#include "cppformers/nn/kv_cache.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

// GPT-2's Conv1D: a linear layer whose weight is stored [in, out] (y = x @ weight + bias).
class Conv1D : public nn::Module {
 public:
  Conv1D(int64_t nf, int64_t nx);  // out features, in features (HF's argument order)
  Tensor forward(const Tensor& x, const ops::LinearEpilogue& epilogue = {}) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  Tensor weight, bias;  // [in, out], [out]
  std::shared_ptr<nn::LinearAdapter> adapter;  // set by LoRA (fan_in_fan_out); null for a plain layer
};

class GPT2Block : public nn::Module {
 public:
  GPT2Block(const GPT2Config& c, int64_t layer_idx);
  Tensor forward(const Tensor& x, const Tensor& bias, nn::KVCache* cache, Tensor* probs);
  std::shared_ptr<nn::LayerNorm> ln_1, ln_2;
  std::shared_ptr<Conv1D> c_attn, attn_c_proj, c_fc, mlp_c_proj;  // "attn.*", "mlp.*"
  std::shared_ptr<nn::Dropout> attn_dropout, resid_dropout, mlp_dropout;
  int64_t layer_idx, n_head;
  double scale;
  std::string activation;
};

class GPT2Model : public PreTrainedModel {
 public:
  explicit GPT2Model(const GPT2Config& c);
  ModelOutput forward(const ModelInputs& in) override;
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return "GPT2Model"; }
  std::string base_model_prefix() const override { return "transformer"; }
  double initializer_range() const override { return config_.initializer_range; }
  const GPT2Config& gpt2_config() const { return config_; }

  std::shared_ptr<nn::Embedding> wte, wpe;
  std::shared_ptr<nn::Dropout> drop;
  std::vector<std::shared_ptr<GPT2Block>> h;
  std::shared_ptr<nn::LayerNorm> ln_f;

 private:
  GPT2Config config_;
};

class GPT2LMHeadModel : public PreTrainedModel {
 public:
  explicit GPT2LMHeadModel(const GPT2Config& c);
  ModelOutput forward(const ModelInputs& in) override;
  const PretrainedConfig& config() const override { return transformer->config(); }
  PretrainedConfig& mutable_config() override { return transformer->mutable_config(); }
  std::string class_name() const override { return "GPT2LMHeadModel"; }
  std::string base_model_prefix() const override { return "transformer"; }
  double initializer_range() const override { return transformer->initializer_range(); }
  std::vector<std::pair<std::string, std::string>> tied_weights() const override;

  std::shared_ptr<GPT2Model> transformer;
  std::shared_ptr<nn::Linear> lm_head;
};

}  // namespace cppformers
