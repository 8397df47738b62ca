#include "cppformers/models/proj_attention.hpp"

#include <cmath>
#include <limits>

#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

ProjAttention::ProjAttention(int64_t d, int64_t h, bool bias, bool k_bias) : num_heads(h) {
  k_proj = register_module("k_proj", std::make_shared<nn::Linear>(d, d, bias && k_bias));
  v_proj = register_module("v_proj", std::make_shared<nn::Linear>(d, d, bias));
  q_proj = register_module("q_proj", std::make_shared<nn::Linear>(d, d, bias));
  out_proj = register_module("out_proj", std::make_shared<nn::Linear>(d, d, bias));
}

std::pair<Tensor, Tensor> ProjAttention::project_kv(const Tensor& src) const {
  return {nn::split_heads((*k_proj)(src), num_heads), nn::split_heads((*v_proj)(src), num_heads)};
}

Tensor ProjAttention::attend(const Tensor& x, const Tensor& k, const Tensor& v, const Tensor& bias, Tensor* probs) const {
  Tensor q = nn::split_heads((*q_proj)(x), num_heads);
  const double scale = 1.0 / std::sqrt(double(q.size(-1)));
  Tensor ctx = nn::scaled_dot_product_attention(q, k, v, bias, scale, 0.0, false, probs);
  return (*out_proj)(nn::merge_heads(ctx));
}

Tensor ProjAttention::forward(const Tensor& x, const Tensor& bias, Tensor* probs) const {
  auto [k, v] = project_kv(x);
  return attend(x, k, v, bias, probs);
}

ConvWeights::ConvWeights(const Shape& shape, bool has_bias, bool wn) : weight_norm(wn) {
  if (wn) {
    register_parameter("weight_g", weight_g, Tensor::ones({1, 1, shape.back()}));
    register_parameter("weight_v", weight_v, Tensor::empty(shape));
  } else {
    register_parameter("weight", weight, Tensor::empty(shape));
  }
  if (has_bias) register_parameter("bias", bias, Tensor::zeros({shape[0]}));
}

Tensor ConvWeights::effective_weight() const {
  if (!weight_norm) return weight;
  const Tensor v = weight_v.to(kF32).contiguous(), g = weight_g.to(kF32).contiguous();
  const int64_t O = v.size(0), I = v.size(1), K = v.size(2);
  Tensor w = Tensor::empty({O, I, K});
  const float* pv = v.data<float>();
  const float* pg = g.data<float>();
  float* pw = w.data<float>();
  for (int64_t k = 0; k < K; ++k) {
    double ss = 0;
    for (int64_t i = 0; i < O * I; ++i) ss += double(pv[i * K + k]) * pv[i * K + k];
    const double scale = double(pg[k]) / std::sqrt(ss);
    for (int64_t i = 0; i < O * I; ++i) pw[i * K + k] = float(pv[i * K + k] * scale);
  }
  return w;
}

Tensor conv1d(const Tensor& x0, const Tensor& w0, const Tensor& bias, int64_t stride, int64_t padding, int64_t groups) {
  const Tensor x = x0.to(kF32).contiguous(), w = w0.to(kF32).contiguous();
  const int64_t B = x.size(0), Cin = x.size(1), L = x.size(2);
  const int64_t Cout = w.size(0), Cg = w.size(1), K = w.size(2);
  if (Cg * groups != Cin || Cout % groups)
    throw ValueError("conv1d: weight " + shape_str(w.shape()) + " does not fit " + std::to_string(Cin) +
                     " input channels in " + std::to_string(groups) + " groups");
  const int64_t Lout = (L + 2 * padding - K) / stride + 1;
  if (Lout <= 0) throw ValueError("conv1d: input of length " + std::to_string(L) + " is shorter than the kernel");
  const int64_t Og = Cout / groups;
  std::vector<Tensor> outs;
  for (int64_t g = 0; g < groups; ++g) {
    // im2col: [B, Lout, Cg*K]
    Tensor cols = Tensor::empty({B, Lout, Cg * K});
    float* c = cols.data<float>();
    const float* px = x.data<float>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < Lout; ++t)
        for (int64_t ci = 0; ci < Cg; ++ci)
          for (int64_t k = 0; k < K; ++k) {
            const int64_t pos = t * stride + k - padding;
            c[((b * Lout + t) * Cg + ci) * K + k] =
                (pos < 0 || pos >= L) ? 0.0f : px[(b * Cin + g * Cg + ci) * L + pos];
          }
    Tensor wg = w.narrow(0, g * Og, Og).reshape({Og, Cg * K});
    Tensor bg = bias.defined() ? bias.narrow(0, g * Og, Og) : Tensor();
    outs.push_back(ops::linear(cols, wg, bg));  // [B, Lout, Og]
  }
  Tensor y = groups == 1 ? outs[0] : ops::cat(outs, 2);
  return y.transpose(1, 2).contiguous();  // [B, Cout, Lout]
}

Tensor patch_embed(const Tensor& px0, const Tensor& w, const Tensor& bias) {
  const Tensor px = px0.to(kF32).contiguous();
  if (px.dim() != 4) throw ValueError("pixel_values must be [batch, channels, height, width], got " + shape_str(px.shape()));
  const int64_t B = px.size(0), C = px.size(1), H = px.size(2), W = px.size(3);
  const int64_t D = w.size(0), P = w.size(2);
  if (w.size(1) != C)
    throw ValueError("pixel_values has " + std::to_string(C) + " channels, the model expects " + std::to_string(w.size(1)));
  const int64_t nh = H / P, nw = W / P;
  // [B, C, nh, P, nw, P] -> [B, nh, nw, C, P, P]
  Tensor patches = px.view({B, C, nh, P, nw, P}).permute({0, 2, 4, 1, 3, 5}).reshape({B, nh * nw, C * P * P});
  return ops::linear(patches, w.reshape({D, C * P * P}), bias);
}

Tensor causal_mask_bias(int64_t S) {
  Tensor m = Tensor::zeros({1, 1, S, S});
  float* p = m.data<float>();
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = i + 1; j < S; ++j) p[i * S + j] = std::numeric_limits<float>::lowest();
  return m;
}

}  // namespace cppformers
