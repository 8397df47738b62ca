#include "cppformers/models/wav2vec2/modeling.hpp"

#include <cmath>
#include <limits>

#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

using std::make_shared;

Wav2Vec2ConvLayer::Wav2Vec2ConvLayer(const Wav2Vec2Config& c, size_t i)
    : stride(c.conv_stride[i]), act(c.feat_extract_activation) {
  const int64_t cin = i == 0 ? 1 : c.conv_dim[i - 1], cout = c.conv_dim[i];
  conv = register_module("conv", make_shared<ConvWeights>(Shape{cout, cin, c.conv_kernel[i]}, c.conv_bias));
  if (c.feat_extract_norm == "layer") {
    layer_norm = register_module("layer_norm", make_shared<nn::LayerNorm>(cout, 1e-5));
  } else if (i == 0) {
    layer_norm = register_module("layer_norm", make_shared<nn::LayerNorm>(cout, 1e-5));  // GroupNorm(C, C): same params
    group_norm = true;
  }
}

Tensor Wav2Vec2ConvLayer::forward(const Tensor& x) {
  Tensor h = conv1d(x, conv->weight, conv->bias, stride, 0);
  if (layer_norm && !group_norm) {
    h = (*layer_norm)(h.transpose(1, 2)).transpose(1, 2);
  } else if (group_norm) {  // each channel normalised over time
    const int64_t C = h.size(1);
    h = ops::layer_norm(h, Tensor(), Tensor(), layer_norm->eps) * layer_norm->weight.to(kF32).view({C, 1}) +
        layer_norm->bias.to(kF32).view({C, 1});
  }
  return nn::activation(act, h);
}

Wav2Vec2EncoderLayer::Wav2Vec2EncoderLayer(const Wav2Vec2Config& c) : stable(c.do_stable_layer_norm), act(c.hidden_act) {
  attention = register_module("attention", make_shared<ProjAttention>(c.hidden_size, c.num_attention_heads));
  layer_norm = register_module("layer_norm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  intermediate_dense = register_module("feed_forward.intermediate_dense", make_shared<nn::Linear>(c.hidden_size, c.intermediate_size));
  output_dense = register_module("feed_forward.output_dense", make_shared<nn::Linear>(c.intermediate_size, c.hidden_size));
  final_layer_norm = register_module("final_layer_norm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
}

Tensor Wav2Vec2EncoderLayer::forward(const Tensor& x, const Tensor& bias, Tensor* probs) {
  auto ff = [&](const Tensor& h, const Tensor& residual) {
    return output_dense->forward(nn::activation(act, (*intermediate_dense)(h)), {.residual = residual});
  };
  if (stable) {
    Tensor h = x + attention->forward((*layer_norm)(x), bias, probs);
    return ff((*final_layer_norm)(h), h);
  }
  Tensor h = (*layer_norm)(x + attention->forward(x, bias, probs));
  return (*final_layer_norm)(ff(h, h));
}

Wav2Vec2Model::Wav2Vec2Model(const Wav2Vec2Config& c) : config_(c) {
  for (size_t i = 0; i < c.conv_dim.size(); ++i)
    conv_layers.push_back(register_module("feature_extractor.conv_layers." + std::to_string(i), make_shared<Wav2Vec2ConvLayer>(c, i)));
  fp_layer_norm = register_module("feature_projection.layer_norm", make_shared<nn::LayerNorm>(c.conv_dim.back(), c.layer_norm_eps));
  fp_projection = register_module("feature_projection.projection", make_shared<nn::Linear>(c.conv_dim.back(), c.hidden_size));
  pos_conv = register_module("encoder.pos_conv_embed.conv",
                             make_shared<ConvWeights>(Shape{c.hidden_size, c.hidden_size / c.num_conv_pos_embedding_groups,
                                                            c.num_conv_pos_embeddings},
                                                      true, true));
  encoder_layer_norm = register_module("encoder.layer_norm", make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layers.push_back(register_module("encoder.layers." + std::to_string(i), make_shared<Wav2Vec2EncoderLayer>(c)));
}

ModelOutput Wav2Vec2Model::forward(const ModelInputs& in) {
  const Tensor& iv = in.input_values;
  if (!iv.defined() || iv.dim() != 2)
    throw ValueError("Wav2Vec2Model: 'input_values' must be a [batch, samples] float tensor");
  const int64_t B = iv.size(0);
  if (config_.output_length(iv.size(1)) <= 0)
    throw ValueError("Wav2Vec2Model: input of " + std::to_string(iv.size(1)) + " samples is too short for the feature encoder");
  Tensor x = iv.to(kF32).unsqueeze(1);
  for (auto& l : conv_layers) x = l->forward(x);
  Tensor feats = x.transpose(1, 2);  // [B, T, C]
  const int64_t T = feats.size(1);
  Tensor frame_mask;  // [B, T] of 1/0
  if (in.attention_mask.defined()) {
    auto am = in.attention_mask.to_vector<int64_t>();
    const int64_t L = in.attention_mask.size(1);
    std::vector<float> fm(static_cast<size_t>(B * T), 0.0f);
    for (int64_t b = 0; b < B; ++b) {
      int64_t len = 0;
      for (int64_t s = 0; s < L; ++s) len += am[size_t(b * L + s)];
      const int64_t n = std::min(T, config_.output_length(len));
      for (int64_t t = 0; t < n; ++t) fm[size_t(b * T + t)] = 1.0f;
    }
    frame_mask = Tensor::from_vector(fm, {B, T});
  }
  Tensor h = (*fp_projection)((*fp_layer_norm)(feats));
  Tensor bias;
  if (frame_mask.defined()) {
    h = h * frame_mask.unsqueeze(-1);
    bias = nn::padding_mask_bias(frame_mask);
  }
  // positional convolution (weight norm), "same" padding: one frame dropped for an even kernel
  const int64_t K = config_.num_conv_pos_embeddings;
  Tensor pos = conv1d(h.transpose(1, 2), pos_conv->effective_weight(), pos_conv->bias, 1, K / 2,
                      config_.num_conv_pos_embedding_groups);
  if (K % 2 == 0) pos = pos.narrow(2, 0, pos.size(2) - 1);
  h = h + nn::activation(config_.feat_extract_activation, pos).transpose(1, 2);
  if (!config_.do_stable_layer_norm) h = (*encoder_layer_norm)(h);
  ModelOutput out;
  for (auto& l : layers) {
    if (in.output_hidden_states) out.hidden_states.push_back(h);
    Tensor probs;
    h = l->forward(h, bias, in.output_attentions ? &probs : nullptr);
    if (in.output_attentions) out.attentions.push_back(probs);
  }
  if (config_.do_stable_layer_norm) h = (*encoder_layer_norm)(h);
  if (in.output_hidden_states) out.hidden_states.push_back(h);
  out.last_hidden_state = h;
  return out;
}

Wav2Vec2ForCTC::Wav2Vec2ForCTC(const Wav2Vec2Config& c) {
  wav2vec2 = register_module("wav2vec2", make_shared<Wav2Vec2Model>(c));
  lm_head = register_module("lm_head", make_shared<nn::Linear>(c.hidden_size, c.vocab_size));
}

ModelOutput Wav2Vec2ForCTC::forward(const ModelInputs& in) {
  ModelOutput out = wav2vec2->forward(in);
  out.logits = (*lm_head)(out.last_hidden_state);
  out.last_hidden_state = Tensor();
  if (in.labels.defined()) {
    const auto& c = wav2vec2->w2v_config();
    const int64_t B = in.input_values.size(0), L = in.input_values.size(1);
    std::vector<int64_t> lengths(static_cast<size_t>(B), c.output_length(L));
    if (in.attention_mask.defined()) {
      auto am = in.attention_mask.to_vector<int64_t>();
      for (int64_t b = 0; b < B; ++b) {
        int64_t len = 0;
        for (int64_t s = 0; s < L; ++s) len += am[size_t(b * L + s)];
        lengths[size_t(b)] = c.output_length(len);
      }
    }
    out.loss = ctc_loss(ops::log_softmax(out.logits, -1), in.labels, lengths, c.pad_token_id.value_or(0),
                        c.ctc_loss_reduction, c.ctc_zero_infinity);
  }
  return out;
}

Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const std::vector<int64_t>& input_lengths, int64_t blank,
                const std::string& reduction, bool zero_infinity) {
  const Tensor lp = log_probs.to(kF32).contiguous();
  const int64_t B = lp.size(0), T = lp.size(1), V = lp.size(2);
  auto tg = targets.to_vector<int64_t>();
  const int64_t N = targets.size(1);
  const float* p = lp.data<float>();
  const double ninf = -std::numeric_limits<double>::infinity();
  auto lse = [&](double a, double b) {
    if (a == ninf) return b;
    if (b == ninf) return a;
    const double m = std::max(a, b);
    return m + std::log(std::exp(a - m) + std::exp(b - m));
  };
  double total = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int64_t> lab;
    for (int64_t n = 0; n < N; ++n)
      if (tg[size_t(b * N + n)] >= 0) lab.push_back(tg[size_t(b * N + n)]);
    const int64_t S = 2 * int64_t(lab.size()) + 1, Tb = std::min(T, input_lengths[size_t(b)]);
    auto sym = [&](int64_t s) { return s % 2 == 0 ? blank : lab[size_t(s / 2)]; };
    std::vector<double> alpha(static_cast<size_t>(S), ninf), next(static_cast<size_t>(S));
    auto lpat = [&](int64_t t, int64_t v) { return double(p[(b * T + t) * V + v]); };
    alpha[0] = lpat(0, blank);
    if (S > 1) alpha[1] = lpat(0, sym(1));
    for (int64_t t = 1; t < Tb; ++t) {
      for (int64_t s = 0; s < S; ++s) {
        double a = alpha[size_t(s)];
        if (s >= 1) a = lse(a, alpha[size_t(s - 1)]);
        if (s >= 2 && sym(s) != blank && sym(s) != sym(s - 2)) a = lse(a, alpha[size_t(s - 2)]);
        next[size_t(s)] = a == ninf ? ninf : a + lpat(t, sym(s));
      }
      alpha.swap(next);
    }
    double ll = alpha[size_t(S - 1)];
    if (S > 1) ll = lse(ll, alpha[size_t(S - 2)]);
    double loss = -ll;
    if (std::isinf(loss) && zero_infinity) loss = 0;
    total += reduction == "mean" ? loss / double(std::max<size_t>(1, lab.size())) : loss;
  }
  if (reduction == "mean") total /= double(B);
  return Tensor::scalar(total);
}

}  // namespace cppformers
