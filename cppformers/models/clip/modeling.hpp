#pragma once
// CLIP (Radford et al. 2021): a causal text transformer pooled at the end-of-text token, a
// ViT-style image tower pooled at [CLS], both projected and L2-normalised; logits are the
// scaled cosine similarities.
#include <memory>
#include <vector>

#include "cppformers/models/clip/config.hpp"
#include "cppformers/models/proj_attention.hpp"

namespace cppformers {

class CLIPEncoderLayer : public nn::Module {
 public:
  explicit CLIPEncoderLayer(const CLIPTowerConfig& c);
  Tensor forward(const Tensor& x, const Tensor& bias, Tensor* probs);
  std::shared_ptr<ProjAttention> self_attn;
  std::shared_ptr<nn::LayerNorm> layer_norm1, layer_norm2;
  std::shared_ptr<nn::Linear> fc1, fc2;  // mlp.fc1, mlp.fc2
  std::string act;
};

class CLIPTextTransformer : public nn::Module {
 public:
  explicit CLIPTextTransformer(const CLIPTowerConfig& c);
  ModelOutput forward(const ModelInputs& in);
  std::shared_ptr<nn::Embedding> token_embedding, position_embedding;
  std::vector<std::shared_ptr<CLIPEncoderLayer>> layers;
  std::shared_ptr<nn::LayerNorm> final_layer_norm;
  CLIPTowerConfig cfg;
};

class CLIPVisionTransformer : public nn::Module {
 public:
  explicit CLIPVisionTransformer(const CLIPTowerConfig& c);
  ModelOutput forward(const ModelInputs& in);
  Tensor class_embedding;
  std::shared_ptr<ConvWeights> patch_embedding;
  std::shared_ptr<nn::Embedding> position_embedding;
  std::shared_ptr<nn::LayerNorm> pre_layrnorm, post_layernorm;  // sic: the checkpoint's name
  std::vector<std::shared_ptr<CLIPEncoderLayer>> layers;
  CLIPTowerConfig cfg;
};

class CLIPModel : public PreTrainedModel {
 public:
  explicit CLIPModel(const CLIPConfig& c);
  // With input_ids and pixel_values: logits_per_image/text, embeds, both towers' outputs (and
  // the contrastive loss when return_loss). With only one of them: that tower's features.
  ModelOutput forward(const ModelInputs& in) override;
  // Projected (unnormalised) pooled features, as get_text_features / get_image_features.
  Tensor get_text_features(const ModelInputs& in);
  Tensor get_image_features(const ModelInputs& in);
  const PretrainedConfig& config() const override { return config_; }
  PretrainedConfig& mutable_config() override { return config_; }
  std::string class_name() const override { return "CLIPModel"; }
  std::string base_model_prefix() const override { return "clip"; }

  std::shared_ptr<CLIPTextTransformer> text_model;
  std::shared_ptr<CLIPVisionTransformer> vision_model;
  std::shared_ptr<nn::Linear> visual_projection, text_projection;
  Tensor logit_scale;

 private:
  CLIPConfig config_;
};

}  // namespace cppformers
