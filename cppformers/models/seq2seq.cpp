#include "cppformers/models/seq2seq.hpp"

#include <limits>

#include "cppformers/ops/ops.hpp"

namespace cppformers {

void Seq2SeqState::expand(int64_t k) {
  if (k <= 1) return;
  const int64_t B = encoder_hidden.size(0);
  std::vector<int64_t> idx;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < k; ++j) idx.push_back(b);
  Tensor index = Tensor::from_vector(idx, {B * k});
  encoder_hidden = ops::index_select(encoder_hidden, 0, index);
  if (encoder_mask.defined()) encoder_mask = ops::index_select(encoder_mask, 0, index);
  for (auto& [kk, vv] : cross_kv) kk = ops::index_select(kk, 0, index), vv = ops::index_select(vv, 0, index);
}

void Seq2SeqState::reorder(const Tensor& index) {
  if (self_cache->num_layers()) self_cache->reorder(index);
  // cross-attention keys/values are the same for every beam of a prompt: beams never move
  // across prompts, so they need no reordering
}

Tensor shift_tokens_right(const Tensor& labels, int64_t pad, int64_t start) {
  auto v = labels.to_vector<int64_t>();
  const int64_t B = labels.size(0), S = labels.size(1);
  std::vector<int64_t> out(v.size());
  for (int64_t b = 0; b < B; ++b) {
    out[size_t(b * S)] = start;
    for (int64_t s = 1; s < S; ++s) {
      const int64_t x = v[size_t(b * S + s - 1)];
      out[size_t(b * S + s)] = x == -100 ? pad : x;
    }
  }
  return Tensor::from_vector(out, {B, S});
}

Tensor decoder_mask_bias(int64_t B, int64_t Sq, int64_t past, const Tensor& mask) {
  const int64_t Sk = past + Sq;
  const float lowest = std::numeric_limits<float>::lowest();
  std::vector<int64_t> m;
  if (mask.defined()) {
    if (mask.dim() != 2 || mask.size(0) != B || mask.size(1) != Sk)
      throw ValueError("decoder_attention_mask has shape " + shape_str(mask.shape()) + ", expected [" +
                       std::to_string(B) + ", " + std::to_string(Sk) + "]");
    m = mask.to_vector<int64_t>();
  }
  Tensor out = Tensor::zeros({m.empty() ? 1 : B, 1, Sq, Sk});
  float* p = out.data<float>();
  const int64_t rows = m.empty() ? 1 : B;
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t i = 0; i < Sq; ++i)
      for (int64_t j = 0; j < Sk; ++j) {
        const bool masked = j > past + i || (!m.empty() && m[size_t(b * Sk + j)] == 0);
        p[(b * Sq + i) * Sk + j] = masked ? lowest : 0.0f;
      }
  return out;
}

Tensor seq2seq_lm_loss(const Tensor& logits, const Tensor& labels) {
  const int64_t V = logits.size(-1);
  return ops::cross_entropy(logits.reshape({-1, V}), labels.reshape({-1}), -100);
}

}  // namespace cppformers
