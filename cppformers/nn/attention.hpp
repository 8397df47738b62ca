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

// A few queries against cached keys and values (decoding): q [B, H, S, D], k/v [B, Hkv, T, D]
// (query head h reads kv head h / (H / Hkv)), bias broadcastable to [B, H, S, T]. Each query
// row's scores, softmax and context come straight from the cache's rows; two general products
// per step would build a oneDNN primitive for every new key length (it grows by one each step):
// ~170 us per step for GPT-2-small plus ~30 us per layer. Same arithmetic as the general path
// (f32 products, softmax(scores * scale + bias)), in another summation order. Returns the
// context [B, H, S, D] (a view of [B, S, H, D]), or an undefined tensor where it does not apply:
// more than 8 query rows per kv head, gradients, dropout, autocast, softcap, other layouts.
Tensor few_query_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                           double softcap, double dropout_p, bool training, Tensor* probs_out);

// [B, S, H*D] -> [B, H, S, D] and back.
Tensor split_heads(const Tensor& x, int64_t num_heads);
Tensor merge_heads(const Tensor& x);

// HF's extended attention mask: [B, S] of 1 (attend) / 0 (masked) -> additive [B, 1, 1, S]
// with 0 and the dtype's lowest value (torch.finfo(float32).min).
Tensor padding_mask_bias(const Tensor& attention_mask);

}  // namespace cppformers::nn
