#pragma once
// The attention and MLP blocks of decoder-only LLMs (Llama, Mistral, Qwen2, Gemma, Gemma-2,
// Phi-3, ...): grouped-query attention with rotary embeddings, bias flags, optional logit
// soft-capping, a KV cache; and the gated MLP. What differs between those models is config.
#include <memory>
#include <string>

#include "cppformers/nn/kv_cache.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers::nn {

struct AttentionConfig {
  int64_t hidden_size = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0;
  bool q_bias = false, k_bias = false, v_bias = false, o_bias = false;
  bool fused_qkv = false;     // one "qkv_proj" [q; k; v] (Phi-3) instead of q_proj/k_proj/v_proj
  double scale = 0;           // softmax scale; 0 means head_dim^-0.5
  double logit_softcap = 0;   // > 0: scores = tanh(scores / cap) * cap (Gemma-2)
  double dropout = 0;         // attention-probability dropout when training
};

// Attention over heads with grouped-query sharing: q [B, H, S, D]; k, v [B, Hkv, T, D] with
// H a multiple of Hkv (query head h uses kv head h / (H / Hkv), as repeat_kv); bias additive,
// broadcastable to [B, 1, S, T]. Returns [B, H, S, D]; probs_out receives [B, H, S, T].
Tensor grouped_query_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                               double scale, double softcap = 0, double dropout_p = 0, bool training = false,
                               Tensor* probs_out = nullptr);

// The additive mask of a causal decoder: [B, 1, S, past + S] with 0 where query i (cache slot
// past + i) may see key j, and float32's lowest value elsewhere: j > past + i (the future),
// attention_mask[b, j] == 0 (padding; attention_mask [B, past + S] may be undefined) and, with
// sliding_window > 0, j <= past + i - sliding_window.
Tensor causal_mask_bias(const Tensor& attention_mask, int64_t batch, int64_t seq, int64_t past,
                        int64_t sliding_window = 0);

class DecoderAttention : public Module {
 public:
  explicit DecoderAttention(const AttentionConfig& c);
  // x [B, S, hidden]; cos/sin from RotaryEmbedding (undefined: no rotary); bias from
  // causal_mask_bias. With a cache, keys/values are appended to layer `layer_idx` and attention
  // covers every cached position. The residual (if given) is added by the output projection.
  Tensor forward(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& bias, KVCache* cache,
                 int64_t layer_idx, Tensor* probs_out = nullptr, const Tensor& residual = Tensor());
  AttentionConfig config;
  std::shared_ptr<Linear> q_proj, k_proj, v_proj, qkv_proj, o_proj;
};

// down_proj(act(gate_proj(x)) * up_proj(x)); with fused_gate_up one "gate_up_proj" [gate; up].
class GatedMLP : public Module {
 public:
  GatedMLP(int64_t hidden_size, int64_t intermediate_size, std::string activation, bool bias = false,
           bool fused_gate_up = false);
  Tensor forward(const Tensor& x, const Tensor& residual = Tensor()) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::shared_ptr<Linear> gate_proj, up_proj, gate_up_proj, down_proj;
  int64_t intermediate_size;
  std::string activation;
};

}  // namespace cppformers::nn
