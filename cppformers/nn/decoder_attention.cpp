#include "cppformers/nn/decoder_attention.hpp"

#include <cmath>
#include <limits>

#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers::nn {

using std::make_shared;

Tensor grouped_query_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                               double softcap, double dropout_p, bool training, Tensor* probs_out) {
  const int64_t B = q.size(0), H = q.size(1), S = q.size(2), D = q.size(3);
  const int64_t Hkv = k.size(1), T = k.size(2);
  if (Hkv <= 0 || H % Hkv || v.size(1) != Hkv || v.size(2) != T || k.size(3) != D)
    throw ValueError("grouped_query_attention: q " + shape_str(q.shape()) + ", k " + shape_str(k.shape()) + ", v " +
                     shape_str(v.shape()) + " do not fit");
  const int64_t rep = H / Hkv, Dv = v.size(3);
  if (Tensor few = few_query_attention(q, k, v, bias, scale, softcap, dropout_p, training, probs_out); few.defined())
    return few;
  // The query heads that share a kv head are one GEMM: [B, Hkv, rep * S, D] @ [B, Hkv, D, T].
  Tensor qg = q.contiguous().view({B, Hkv, rep * S, D});
  Tensor scores = ops::matmul(qg, k.transpose(-1, -2)).view({B, Hkv, rep, S, T});
  Tensor b5 = bias.defined() ? bias.unsqueeze(2) : Tensor();  // [B, 1, 1, S, T]
  Tensor probs;
  if (softcap > 0) {
    Tensor s = ops::tanh((scores * scale) / softcap) * softcap;
    probs = ops::scaled_masked_softmax(s, 1.0, b5);
  } else {
    probs = ops::scaled_masked_softmax(scores, scale, b5);
  }
  if (probs_out) *probs_out = probs.view({B, H, S, T});
  probs = ops::dropout(probs, dropout_p, training);
  return ops::matmul(probs.view({B, Hkv, rep * S, T}), v).view({B, H, S, Dv});
}

Tensor causal_mask_bias(const Tensor& attention_mask, int64_t batch, int64_t seq, int64_t past, int64_t sliding_window) {
  const int64_t T = past + seq;
  std::vector<int64_t> m;
  if (attention_mask.defined()) {
    if (attention_mask.dim() != 2 || attention_mask.size(0) != batch || attention_mask.size(1) != T)
      throw ValueError("attention_mask " + shape_str(attention_mask.shape()) + " should be [batch, past + seq] = [" +
                       std::to_string(batch) + ", " + std::to_string(T) + "]");
    m = attention_mask.to_vector<int64_t>();
  }
  const float lowest = std::numeric_limits<float>::lowest();
  Tensor bias = Tensor::empty({batch, 1, seq, T}, kF32);
  float* p = bias.data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < seq; ++i) {
      const int64_t abs_i = past + i;
      float* row = p + (b * seq + i) * T;
      for (int64_t j = 0; j < T; ++j) {
        bool ok = j <= abs_i;
        if (ok && !m.empty()) ok = m[size_t(b * T + j)] != 0;
        if (ok && sliding_window > 0) ok = j > abs_i - sliding_window;
        row[j] = ok ? 0.0f : lowest;
      }
    }
  return bias;
}

DecoderAttention::DecoderAttention(const AttentionConfig& c) : config(c) {
  if (c.num_heads <= 0 || c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads || c.head_dim <= 0)
    throw ValueError("attention: num_attention_heads (" + std::to_string(c.num_heads) +
                     ") must be a positive multiple of num_key_value_heads (" + std::to_string(c.num_kv_heads) + ")");
  const int64_t qd = c.num_heads * c.head_dim, kvd = c.num_kv_heads * c.head_dim;
  if (config.scale == 0) config.scale = 1.0 / std::sqrt(double(c.head_dim));
  if (c.fused_qkv) {
    qkv_proj = register_module("qkv_proj", make_shared<Linear>(c.hidden_size, qd + 2 * kvd, c.q_bias));
  } else {
    q_proj = register_module("q_proj", make_shared<Linear>(c.hidden_size, qd, c.q_bias));
    k_proj = register_module("k_proj", make_shared<Linear>(c.hidden_size, kvd, c.k_bias));
    v_proj = register_module("v_proj", make_shared<Linear>(c.hidden_size, kvd, c.v_bias));
  }
  o_proj = register_module("o_proj", make_shared<Linear>(qd, c.hidden_size, c.o_bias));
}

Tensor DecoderAttention::forward(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& bias,
                                 KVCache* cache, int64_t layer_idx, Tensor* probs_out, const Tensor& residual) {
  const AttentionConfig& c = config;
  const int64_t B = x.size(0), S = x.size(1), D = c.head_dim;
  const int64_t qd = c.num_heads * D, kvd = c.num_kv_heads * D;
  Tensor q, k, v;
  if (qkv_proj) {
    Tensor qkv = (*qkv_proj)(x);
    q = qkv.narrow(-1, 0, qd);
    k = qkv.narrow(-1, qd, kvd);
    v = qkv.narrow(-1, qd + kvd, kvd);
  } else {
    q = (*q_proj)(x);
    k = (*k_proj)(x);
    v = (*v_proj)(x);
  }
  q = q.view({B, S, c.num_heads, D}).transpose(1, 2);
  k = k.view({B, S, c.num_kv_heads, D}).transpose(1, 2);
  v = v.view({B, S, c.num_kv_heads, D}).transpose(1, 2);
  if (cos.defined()) {
    q = ops::apply_rotary(q, cos, sin);
    k = ops::apply_rotary(k, cos, sin);
  }
  if (cache) std::tie(k, v) = cache->update(layer_idx, k, v);
  Tensor ctx = grouped_query_attention(q, k, v, bias, c.scale, c.logit_softcap, c.dropout, is_training(), probs_out);
  Tensor merged = ctx.transpose(1, 2).reshape({B, S, qd});
  return residual.defined() ? o_proj->forward(merged, {.residual = residual}) : (*o_proj)(merged);
}

GatedMLP::GatedMLP(int64_t hidden, int64_t inter, std::string act, bool bias, bool fused_gate_up)
    : intermediate_size(inter), activation(std::move(act)) {
  if (!is_known_activation(activation)) throw NotSupportedError("activation '" + activation + "' is not supported");
  if (fused_gate_up) {
    gate_up_proj = register_module("gate_up_proj", make_shared<Linear>(hidden, 2 * inter, bias));
  } else {
    gate_proj = register_module("gate_proj", make_shared<Linear>(hidden, inter, bias));
    up_proj = register_module("up_proj", make_shared<Linear>(hidden, inter, bias));
  }
  down_proj = register_module("down_proj", make_shared<Linear>(inter, hidden, bias));
}

Tensor GatedMLP::forward(const Tensor& x, const Tensor& residual) const {
  Tensor h;
  if (gate_up_proj) {
    Tensor gu = (*gate_up_proj)(x);
    h = ops::mul(gu.narrow(-1, intermediate_size, intermediate_size),
                 nn::activation(activation, gu.narrow(-1, 0, intermediate_size)));
  } else {
    const ops::Activation fused = fusable_activation(activation);
    Tensor g = fused != ops::Activation::kNone ? gate_proj->forward(x, {.activation = fused})
                                               : nn::activation(activation, (*gate_proj)(x));
    h = ops::mul(g, (*up_proj)(x));
  }
  return residual.defined() ? down_proj->forward(h, {.residual = residual}) : (*down_proj)(h);
}

}  // namespace cppformers::nn
