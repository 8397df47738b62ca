#include "cppformers/nn/attention.hpp"

#include <limits>
#include <vector>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/autocast.hpp"
#include "cppformers/ops/cpu/vec.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers::nn {

namespace {
constexpr int64_t kFewQueryRows = 8;  // query rows per kv head (rep * S) taken this way
}  // namespace

Tensor few_query_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                           double softcap, double dropout_p, bool training, Tensor* probs_out) {
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) return {};
  const int64_t B = q.size(0), H = q.size(1), S = q.size(2), D = q.size(3);
  const int64_t Hkv = k.size(1), T = k.size(2), Dv = v.size(3);
  if (Hkv <= 0 || H % Hkv || k.size(0) != B || v.size(0) != B || v.size(1) != Hkv || v.size(2) != T ||
      k.size(3) != D)
    return {};  // broadcasts and mismatches: the general path handles or rejects them
  const int64_t rep = H / Hkv;
  if (rep * S > kFewQueryRows || T == 0 || softcap > 0 || (training && dropout_p > 0) || ops::autocast_bf16() ||
      autograd::needs_grad({&q, &k, &v, &bias}))
    return {};
  for (const Tensor* t : {&q, &k, &v})
    if (t->dtype() != kF32 || t->strides()[3] != 1) return {};
  Tensor b;
  if (bias.defined()) {
    if (bias.dim() != 4) return {};
    b = (bias.dtype() == kF32 ? bias : bias.to(kF32)).expand({B, H, S, T});
    if (b.strides()[3] != 1 && T > 1) b = b.contiguous();
  }
  Tensor out = Tensor::empty({B, S, H, Dv}, kF32).transpose(1, 2);  // the merged-heads layout
  Tensor probs = probs_out ? Tensor::empty({B, H, S, T}, kF32) : Tensor();
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const float* pb = b.defined() ? b.data<float>() : nullptr;
  float* po = out.data<float>();
  float* pp = probs.defined() ? probs.data<float>() : nullptr;
  const Shape &qs = q.strides(), &ks = k.strides(), &vs = v.strides(), &os = out.strides();
  const Shape bs = b.defined() ? b.strides() : Shape(4, 0);
  const int64_t rows = B * H * S;
#pragma omp parallel if (rows * T * (D + Dv) >= (int64_t{1} << 15))
  {
    std::vector<float> scratch(probs.defined() ? 0 : size_t(T));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t bi = r / (H * S), h = r / S % H, s = r % S, hk = h / rep;
      float* p = pp ? pp + r * T : scratch.data();
      cpu::dot_rows(pq + bi * qs[0] + h * qs[1] + s * qs[2], pk + bi * ks[0] + hk * ks[1], ks[2], T, D, p);
      cpu::scaled_softmax_row(p, pb ? pb + bi * bs[0] + h * bs[1] + s * bs[2] : nullptr, float(scale), p, T);
      cpu::weighted_row_sum(p, pv + bi * vs[0] + hk * vs[1], vs[2], T, Dv, po + bi * os[0] + h * os[1] + s * os[2]);
    }
  }
  if (probs_out) *probs_out = probs;
  return out;
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& bias, double scale, double dropout_p,
                                    bool training, Tensor* probs_out) {
  if (Tensor few = few_query_attention(q, k, v, bias, scale, 0, dropout_p, training, probs_out); few.defined())
    return few;
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
