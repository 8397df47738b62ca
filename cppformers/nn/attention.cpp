#include "cppformers/nn/attention.hpp"

#include <limits>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers::nn {

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& bias, double scale, double dropout_p,
                                    bool training, Tensor* probs_out) {
  Tensor probs = ops::scaled_masked_softmax(ops::matmul(q, k.transpose(-1, -2)), scale, bias);
  if (probs_out) *probs_out = probs;
  if (!autograd::needs_grad({&probs, &v}) && !(training && dropout_p > 0)) {
    // Inference: write the context straight into the merged-heads layout [B, Sq, H, D], so that
    // merge_heads() is a view, not a copy.
    const int64_t B = v.size(0), H = v.size(1), Sq = probs.size(2), D = v.size(3);
    Tensor out = Tensor::empty({B, Sq, H, D}).transpose(1, 2);
    ops::matmul_into(probs, v, out);
    return out;
  }
  probs = ops::dropout(probs, dropout_p, training);
  return ops::matmul(probs, v);
}

Tensor split_heads(const Tensor& x, int64_t num_heads) {
  const int64_t B = x.size(0), S = x.size(1), HD = x.size(2);
  if (HD % num_heads)
    throw ValueError("split_heads: hidden size " + std::to_string(HD) + " is not a multiple of " +
                     std::to_string(num_heads) + " heads");
  return x.view({B, S, num_heads, HD / num_heads}).transpose(1, 2);
}

Tensor merge_heads(const Tensor& x) {
  const int64_t B = x.size(0), H = x.size(1), S = x.size(2), D = x.size(3);
  return x.transpose(1, 2).reshape({B, S, H * D});
}

Tensor padding_mask_bias(const Tensor& attention_mask) {
  if (attention_mask.dim() != 2)
    throw ValueError("attention_mask must be [batch, seq], got " + shape_str(attention_mask.shape()));
  const double lowest = std::numeric_limits<float>::lowest();
  Tensor m = attention_mask.to(kF32);
  // (1 - mask) * min, as HF computes it
  Tensor bias = (ops::sub(Tensor::scalar(1.0), m)) * lowest;
  return bias.unsqueeze(1).unsqueeze(1);
}

}  // namespace cppformers::nn
