#include "cppformers/models/clip/modeling.hpp"

#include <cmath>

#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

CLIPEncoderLayer::CLIPEncoderLayer(const CLIPTowerConfig& c) : act(c.hidden_act) {
  self_attn = register_module("self_attn", make_shared<ProjAttention>(c.hidden_size, c.num_attention_heads));
  layer_norm1 = register_module("layer_norm1", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  fc1 = register_module("mlp.fc1", make_shared<nn::Linear>(c.hidden_size, c.intermediate_size));
  fc2 = register_module("mlp.fc2", make_shared<nn::Linear>(c.intermediate_size, c.hidden_size));
  layer_norm2 = register_module("layer_norm2", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
}

Tensor CLIPEncoderLayer::forward(const Tensor& x, const Tensor& bias, Tensor* probs) {
  Tensor h = x + self_attn->forward((*layer_norm1)(x), bias, probs);
  return fc2->forward(nn::activation(act, (*fc1)((*layer_norm2)(h))), {.residual = h});
}

namespace {
ModelOutput run_layers(const std::vector<std::shared_ptr<CLIPEncoderLayer>>& layers, Tensor h, const Tensor& bias,
                       const ModelInputs& in) {
  ModelOutput out;
  for (auto& l : layers) {
    if (in.output_hidden_states) out.hidden_states.push_back(h);
    Tensor probs;
    h = l->forward(h, bias, in.output_attentions ? &probs : nullptr);
    if (in.output_attentions) out.attentions.push_back(probs);
  }
  if (in.output_hidden_states) out.hidden_states.push_back(h);
  out.last_hidden_state = h;
  return out;
}
}  // namespace

CLIPTextTransformer::CLIPTextTransformer(const CLIPTowerConfig& c) : cfg(c) {
  token_embedding = register_module("embeddings.token_embedding", make_shared<nn::Embedding>(c.vocab_size, c.hidden_size));
  position_embedding =
      register_module("embeddings.position_embedding", make_shared<nn::Embedding>(c.max_position_embeddings, c.hidden_size));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layers.push_back(register_module("encoder.layers." + std::to_string(i), make_shared<CLIPEncoderLayer>(c)));
  final_layer_norm = register_module("final_layer_norm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
}

ModelOutput CLIPTextTransformer::forward(const ModelInputs& in) {
  const Tensor& ids = in.input_ids;
  if (!ids.defined() || ids.dim() != 2 || is_floating(ids.dtype()))
    throw ValueError("CLIPTextModel: 'input_ids' must be an integer [batch, seq] tensor");
  const int64_t B = ids.size(0), S = ids.size(1);
  if (S > cfg.max_position_embeddings)
    throw ValueError("CLIPTextModel: sequence length " + std::to_string(S) + " exceeds max_position_embeddings (" +
                     std::to_string(cfg.max_position_embeddings) + ")");
  Tensor h = (*token_embedding)(ids) + (*position_embedding)(Tensor::arange(S).unsqueeze(0));
  Tensor bias = causal_mask_bias(S);
  if (in.attention_mask.defined())  // causal + padding, each at float32's lowest (their sum is -inf: still 0 after softmax)
    bias = bias + nn::padding_mask_bias(in.attention_mask);
  ModelOutput out = run_layers(layers, h, bias, in);
  out.last_hidden_state = (*final_layer_norm)(out.last_hidden_state);
  // pooled at the end-of-text token: legacy argmax(ids) when eos_token_id == 2, else the first eos
  auto v = ids.to_vector<int64_t>();
  std::vector<int64_t> pos(static_cast<size_t>(B), S - 1);
  for (int64_t b = 0; b < B; ++b) {
    if (cfg.eos_token_id == 2) {
      pos[size_t(b)] = int64_t(std::max_element(v.begin() + b * S, v.begin() + (b + 1) * S) - (v.begin() + b * S));
    } else {
      for (int64_t s = 0; s < S; ++s)
        if (v[size_t(b * S + s)] == cfg.eos_token_id) {
          pos[size_t(b)] = s;
          break;
        }
    }
  }
  Tensor flat = out.last_hidden_state.reshape({B * S, cfg.hidden_size});
  std::vector<int64_t> rows;
  for (int64_t b = 0; b < B; ++b) rows.push_back(b * S + pos[size_t(b)]);
  out.pooler_output = ops::index_select(flat, 0, Tensor::from_vector(rows, {B}));
  return out;
}

CLIPVisionTransformer::CLIPVisionTransformer(const CLIPTowerConfig& c) : cfg(c) {
  const int64_t n = (c.image_size / c.patch_size) * (c.image_size / c.patch_size);
  register_parameter("embeddings.class_embedding", class_embedding, Tensor::empty({c.hidden_size}));
  patch_embedding = register_module(
      "embeddings.patch_embedding", make_shared<ConvWeights>(Shape{c.hidden_size, c.num_channels, c.patch_size, c.patch_size}, false));
  position_embedding = register_module("embeddings.position_embedding", make_shared<nn::Embedding>(n + 1, c.hidden_size));
  pre_layrnorm = register_module("pre_layrnorm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layers.push_back(register_module("encoder.layers." + std::to_string(i), make_shared<CLIPEncoderLayer>(c)));
  post_layernorm = register_module("post_layernorm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
}

ModelOutput CLIPVisionTransformer::forward(const ModelInputs& in) {
  const Tensor& px = in.pixel_values;
  if (!px.defined() || px.dim() != 4 || px.size(2) != cfg.image_size || px.size(3) != cfg.image_size)
    throw ValueError("CLIPVisionModel: 'pixel_values' must be [batch, 3, " + std::to_string(cfg.image_size) + ", " +
                     std::to_string(cfg.image_size) + "]");
  const int64_t B = px.size(0), d = cfg.hidden_size;
  Tensor patches = patch_embed(px, patch_embedding->weight, Tensor());
  Tensor h = ops::cat({class_embedding.to(kF32).view({1, 1, d}).expand({B, 1, d}), patches}, 1) +
             position_embedding->weight.to(kF32).unsqueeze(0);
  h = (*pre_layrnorm)(h);
  ModelOutput out = run_layers(layers, h, Tensor(), in);
  out.pooler_output = (*post_layernorm)(out.last_hidden_state.select(1, 0));
  return out;
}

CLIPModel::CLIPModel(const CLIPConfig& c) : config_(c) {
  text_model = register_module("text_model", make_shared<CLIPTextTransformer>(c.text_config));
  vision_model = register_module("vision_model", make_shared<CLIPVisionTransformer>(c.vision_config));
  visual_projection = register_module("visual_projection",
                                      make_shared<nn::Linear>(c.vision_config.hidden_size, c.projection_dim, false));
  text_projection = register_module("text_projection", make_shared<nn::Linear>(c.text_config.hidden_size, c.projection_dim, false));
  register_parameter("logit_scale", logit_scale, Tensor::scalar(c.logit_scale_init_value));
}

Tensor CLIPModel::get_text_features(const ModelInputs& in) {
  return (*text_projection)(text_model->forward(in).pooler_output);
}
Tensor CLIPModel::get_image_features(const ModelInputs& in) {
  return (*visual_projection)(vision_model->forward(in).pooler_output);
}

namespace {
Tensor l2_normalize(const Tensor& x) { return x / ops::sqrt(ops::sum(x * x, {-1}, true)); }
}  // namespace

ModelOutput CLIPModel::forward(const ModelInputs& in) {
  const bool text = in.input_ids.defined(), vision = in.pixel_values.defined();
  if (!text && !vision) throw ValueError("CLIPModel: give 'input_ids' and/or 'pixel_values'");
  ModelOutput out;
  if (text) {
    out.text_model_output = make_shared<ModelOutput>(text_model->forward(in));
    out.text_embeds = l2_normalize((*text_projection)(out.text_model_output->pooler_output));
  }
  if (vision) {
    out.vision_model_output = make_shared<ModelOutput>(vision_model->forward(in));
    out.image_embeds = l2_normalize((*visual_projection)(out.vision_model_output->pooler_output));
  }
  if (text && vision) {
    const double scale = std::exp(logit_scale.to(kF32).item());
    out.logits_per_text = ops::matmul(out.text_embeds, out.image_embeds.transpose(0, 1)) * scale;
    out.logits_per_image = out.logits_per_text.transpose(0, 1).contiguous();
    if (in.return_loss) {
      const int64_t n = out.logits_per_text.size(0);
      if (n == out.logits_per_text.size(1)) {
        Tensor target = Tensor::arange(n);
        out.loss = (ops::cross_entropy(out.logits_per_text, target) + ops::cross_entropy(out.logits_per_image, target)) / 2.0;
      }
    }
  }
  return out;
}

}  // namespace cppformers
