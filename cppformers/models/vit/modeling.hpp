#pragma once
// ViT (Dosovitskiy et al. 2020): patch embedding + [CLS] + learned positions, a pre-LN
// transformer encoder, and ViTForImageClassification's linear head on the [CLS] token.
#include <memory>
#include <vector>

#include "cppformers/models/proj_attention.hpp"
#include "cppformers/models/vit/config.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

class ViTLayer : public nn::Module {
 public:
  explicit ViTLayer(const ViTConfig& c);
  Tensor forward(const Tensor& x, Tensor* probs);
  std::shared_ptr<nn::Linear> query, key, value, attn_out, intermediate, output;
  std::shared_ptr<nn::LayerNorm> layernorm_before, layernorm_after;
  int64_t num_heads;
  std::string act;
};

class ViTModel : public PreTrainedModel {
 public:
  explicit ViTModel(const ViTConfig& c, bool add_pooling_layer = true);
  ModelOutput forward(const ModelInputs& in) override;
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return "ViTModel"; }
  std::string base_model_prefix() const override { return "vit"; }
  double initializer_range() const override { return config_.initializer_range; }

  Tensor cls_token, position_embeddings;  // embeddings.*
  std::shared_ptr<ConvWeights> patch_projection;  // embeddings.patch_embeddings.projection
  std::vector<std::shared_ptr<ViTLayer>> layer;
  std::shared_ptr<nn::LayerNorm> layernorm;
  std::shared_ptr<nn::Linear> pooler_dense;

 private:
  ViTConfig config_;
};

class ViTForImageClassification : public PreTrainedModel {
 public:
  explicit ViTForImageClassification(const ViTConfig& c);
  ModelOutput forward(const ModelInputs& in) override;
  const PretrainedConfig& config() const override { return vit->config(); }
  PretrainedConfig& mutable_config() override { return vit->mutable_config(); }
  std::string class_name() const override { return "ViTForImageClassification"; }
  std::string base_model_prefix() const override { return "vit"; }
  double initializer_range() const override { return vit->initializer_range(); }
  std::shared_ptr<ViTModel> vit;
  std::shared_ptr<nn::Linear> classifier;
};

}  // namespace cppformers
