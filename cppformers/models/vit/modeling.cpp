#include "cppformers/models/vit/modeling.hpp"

#include <cmath>

#include "cppformers/models/heads.hpp"
#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

ViTLayer::ViTLayer(const ViTConfig& c) : num_heads(c.num_attention_heads), act(c.hidden_act) {
  const int64_t d = c.hidden_size;
  query = register_module("attention.attention.query", make_shared<nn::Linear>(d, d, c.qkv_bias));
  key = register_module("attention.attention.key", make_shared<nn::Linear>(d, d, c.qkv_bias));
  value = register_module("attention.attention.value", make_shared<nn::Linear>(d, d, c.qkv_bias));
  attn_out = register_module("attention.output.dense", make_shared<nn::Linear>(d, d));
  intermediate = register_module("intermediate.dense", make_shared<nn::Linear>(d, c.intermediate_size));
  output = register_module("output.dense", make_shared<nn::Linear>(c.intermediate_size, d));
  layernorm_before = register_module("layernorm_before", make_shared<nn::LayerNorm>(d, c.layer_norm_eps));
  layernorm_after = register_module("layernorm_after", make_shared<nn::LayerNorm>(d, c.layer_norm_eps));
}

Tensor ViTLayer::forward(const Tensor& x, Tensor* probs) {
  Tensor h = (*layernorm_before)(x);
  Tensor q = nn::split_heads((*query)(h), num_heads), k = nn::split_heads((*key)(h), num_heads),
         v = nn::split_heads((*value)(h), num_heads);
  Tensor ctx = nn::scaled_dot_product_attention(q, k, v, Tensor(), 1.0 / std::sqrt(double(q.size(-1))), 0.0, false, probs);
  Tensor x1 = attn_out->forward(nn::merge_heads(ctx), {.residual = x});
  Tensor inter = nn::activation(act, (*intermediate)((*layernorm_after)(x1)));
  return output->forward(inter, {.residual = x1});
}

ViTModel::ViTModel(const ViTConfig& c, bool add_pooling_layer) : config_(c) {
  const int64_t d = c.hidden_size, n = (c.image_size / c.patch_size) * (c.image_size / c.patch_size);
  register_parameter("embeddings.cls_token", cls_token, Tensor::zeros({1, 1, d}));
  register_parameter("embeddings.position_embeddings", position_embeddings, Tensor::empty({1, n + 1, d}));
  patch_projection = register_module("embeddings.patch_embeddings.projection",
                                     make_shared<ConvWeights>(Shape{d, c.num_channels, c.patch_size, c.patch_size}, true));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layer.push_back(register_module("encoder.layer." + std::to_string(i), make_shared<ViTLayer>(c)));
  layernorm = register_module("layernorm", make_shared<nn::LayerNorm>(d, c.layer_norm_eps));
  if (add_pooling_layer) pooler_dense = register_module("pooler.dense", make_shared<nn::Linear>(d, d));
}

ModelOutput ViTModel::forward(const ModelInputs& in) {
  if (!in.pixel_values.defined()) throw ValueError("ViTModel: 'pixel_values' is required");
  const Tensor& px = in.pixel_values;
  if (px.dim() != 4 || px.size(2) != config_.image_size || px.size(3) != config_.image_size)
    throw ValueError("ViTModel: 'pixel_values' must be [batch, " + std::to_string(config_.num_channels) + ", " +
                     std::to_string(config_.image_size) + ", " + std::to_string(config_.image_size) + "], got " +
                     shape_str(px.shape()));
  const int64_t B = px.size(0), d = config_.hidden_size;
  Tensor patches = patch_embed(px, patch_projection->weight, patch_projection->bias);
  Tensor h = ops::cat({cls_token.to(kF32).expand({B, 1, d}), patches}, 1) + position_embeddings;
  ModelOutput out;
  for (auto& l : layer) {
    if (in.output_hidden_states) out.hidden_states.push_back(h);
    Tensor probs;
    h = l->forward(h, in.output_attentions ? &probs : nullptr);
    if (in.output_attentions) out.attentions.push_back(probs);
  }
  if (in.output_hidden_states) out.hidden_states.push_back(h);
  out.last_hidden_state = (*layernorm)(h);
  if (pooler_dense) out.pooler_output = ops::tanh((*pooler_dense)(out.last_hidden_state.select(1, 0)));
  return out;
}

ViTForImageClassification::ViTForImageClassification(const ViTConfig& c) {
  vit = register_module("vit", make_shared<ViTModel>(c, false));
  classifier = register_module("classifier", make_shared<nn::Linear>(c.hidden_size, c.num_labels()));
}

ModelOutput ViTForImageClassification::forward(const ModelInputs& in) {
  ModelOutput out = vit->forward(in);
  out.logits = (*classifier)(out.last_hidden_state.select(1, 0));
  if (in.labels.defined()) out.loss = sequence_classification_loss(config(), out.logits, in.labels);
  out.last_hidden_state = Tensor();
  return out;
}

}  // namespace cppformers
