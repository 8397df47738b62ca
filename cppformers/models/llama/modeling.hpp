#pragma once
// Llama (Touvron et al. 2023) and the family that shares it (Mistral, Qwen2, Gemma, Gemma-2,
// Phi-3), with transformers' module names: model.embed_tokens, model.layers.N.{self_attn,
// mlp, input_layernorm, post_attention_layernorm}, model.norm, lm_head.
#include <memory>
#include <vector>

#include "cppformers/models/llama/config.hpp"
#include "cppformers/nn/decoder_attention.hpp"
#include "cppformers/nn/rms_norm.hpp"
#include "cppformers/nn/rotary.hpp"

namespace cppformers {

class LlamaDecoderLayer : public nn::Module {
 public:
  LlamaDecoderLayer(const LlamaConfig& c, int64_t layer_idx);
  Tensor forward(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& bias, nn::KVCache* cache,
                 Tensor* probs);
  std::shared_ptr<nn::DecoderAttention> self_attn;
  std::shared_ptr<nn::GatedMLP> mlp;
  std::shared_ptr<nn::RMSNorm> input_layernorm, post_attention_layernorm;
  std::shared_ptr<nn::RMSNorm> pre_feedforward_layernorm, post_feedforward_layernorm;  // Gemma-2 only
  int64_t layer_idx;
};

class LlamaModel : public PreTrainedModel {
 public:
  explicit LlamaModel(const LlamaConfig& c);
  ModelOutput forward(const ModelInputs& in) override;  // last_hidden_state (after the final norm)
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return config_.class_prefix + "Model"; }
  std::string base_model_prefix() const override { return "model"; }
  double initializer_range() const override { return config_.initializer_range; }
  const LlamaConfig& llama_config() const { return config_; }

  std::shared_ptr<nn::Embedding> embed_tokens;
  std::vector<std::shared_ptr<LlamaDecoderLayer>> layers;
  std::shared_ptr<nn::RMSNorm> norm;
  nn::RotaryEmbedding rotary_emb;

 private:
  LlamaConfig config_;
};

class LlamaForCausalLM : public PreTrainedModel {
 public:
  explicit LlamaForCausalLM(const LlamaConfig& c);
  ModelOutput forward(const ModelInputs& in) override;  // logits (+ loss with labels)
  const PretrainedConfig& config() const override { return model->config(); }
  PretrainedConfig& mutable_config() override { return model->mutable_config(); }
  std::string class_name() const override { return model->llama_config().class_prefix + "ForCausalLM"; }
  std::string base_model_prefix() const override { return "model"; }
  double initializer_range() const override { return model->initializer_range(); }
  std::vector<std::pair<std::string, std::string>> tied_weights() const override;

  std::shared_ptr<LlamaModel> model;
  std::shared_ptr<nn::Linear> lm_head;
};

}  // namespace cppformers
