#pragma once
// The multi-head attention of BART, Whisper, CLIP and Wav2Vec2 (q_proj, k_proj, v_proj,
// out_proj): queries from x, keys/values from x (self-attention) or from another sequence
// (cross-attention). Keys/values can be projected once and reused (cross-attention in
// generation). Also the helpers the vision/audio models share (conv1d, patch embedding).
#include <memory>
#include <utility>

#include "cppformers/nn/layers.hpp"

namespace cppformers {

class ProjAttention : public nn::Module {
 public:
  ProjAttention(int64_t embed_dim, int64_t num_heads, bool bias = true, bool k_bias = true);
  // keys/values [B, H, S, D] of a source sequence.
  std::pair<Tensor, Tensor> project_kv(const Tensor& source) const;
  // softmax(q k^T * scale + bias) v with q from x; probs receives the probabilities if asked.
  Tensor attend(const Tensor& x, const Tensor& k, const Tensor& v, const Tensor& bias, Tensor* probs) const;
  Tensor forward(const Tensor& x, const Tensor& bias, Tensor* probs = nullptr) const;

  std::shared_ptr<nn::Linear> k_proj, v_proj, q_proj, out_proj;
  int64_t num_heads;
};

// The parameters of a Conv1d/Conv2d ("weight" [Cout, Cin/groups, *kernel], "bias"), or of one
// under torch's weight_norm(dim=2) ("weight_g" [1, 1, K], "weight_v"), as checkpoints store them.
class ConvWeights : public nn::Module {
 public:
  ConvWeights(const Shape& weight_shape, bool bias, bool weight_norm = false);
  // weight, or weight_g * weight_v / ||weight_v|| (norm over all dims but the kernel's).
  Tensor effective_weight() const;
  Tensor weight, bias, weight_g, weight_v;
  bool weight_norm;
};

// torch.nn.functional.conv1d (inference): x [B, Cin, L], w [Cout, Cin/groups, K], bias [Cout] or undefined.
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t stride, int64_t padding, int64_t groups = 1);
// A Conv2d with kernel == stride == patch (ViT/CLIP patch embedding): pixel_values [B, C, H, W],
// w [D, C, P, P] -> [B, (H/P)*(W/P), D].
Tensor patch_embed(const Tensor& pixel_values, const Tensor& w, const Tensor& bias);
// Additive causal mask [1, 1, S, S] (0 on and below the diagonal, float32 lowest above).
Tensor causal_mask_bias(int64_t S);

}  // namespace cppformers
