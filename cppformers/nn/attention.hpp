#pragma once
// Eager scaled dot-product attention over heads, shared by every model:
//   probs = softmax(q @ k^T * scale + bias), out = dropout(probs) @ v
// q: [B, H, Sq, D], k/v: [B, H, Sk, D]; bias (additive, e.g. a padding or causal mask) broadcasts
// to [B, H, Sq, Sk] and may be undefined. When `probs_out` is given it receives the
// attention probabilities (HF's `attentions` output).
#include "cppformers/core/tensor.hpp"

namespace cppformers::nn {

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& bias, double scale, double dropout_p = 0.0,
                                    bool training = false, Tensor* probs_out = nullptr);

// [B, S, H*D] -> [B, H, S, D] and back.
Tensor split_heads(const Tensor& x, int64_t num_heads);
Tensor merge_heads(const Tensor& x);

// HF's extended attention mask: [B, S] of 1 (attend) / 0 (masked) -> additive [B, 1, 1, S]
// with 0 and the dtype's lowest value (torch.finfo(float32).min).
Tensor padding_mask_bias(const Tensor& attention_mask);

}  // namespace cppformers::nn
