#include "cppformers/nn/attention.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cppformers/autograd/node.hpp"
#include "cppformers/nn/decoder_attention.hpp"
#include "cppformers/nn/kv_cache.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers::nn {
namespace {

// softmax(q k^T * scale + bias) v by loops in double, query head h reading kv head h / (H / Hkv).
std::vector<double> naive(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                          std::vector<double>* probs) {
  const int64_t B = q.size(0), H = q.size(1), S = q.size(2), D = q.size(3), Hkv = k.size(1), T = k.size(2);
  const int64_t Dv = v.size(3), rep = H / Hkv;
  const Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous(), bc = bias.expand({B, H, S, T}).contiguous();
  const float *pq = qc.data<float>(), *pk = kc.data<float>(), *pv = vc.data<float>(), *pb = bc.data<float>();
  std::vector<double> out(size_t(B * H * S * Dv));
  probs->assign(size_t(B * H * S * T), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t hk = h / rep;
        std::vector<double> sc(static_cast<size_t>(T));
        double mx = -INFINITY, sum = 0;
        for (int64_t t = 0; t < T; ++t) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d) dot += double(pq[((b * H + h) * S + s) * D + d]) * pk[((b * Hkv + hk) * T + t) * D + d];
          sc[size_t(t)] = dot * scale + pb[((b * H + h) * S + s) * T + t];
          mx = std::max(mx, sc[size_t(t)]);
        }
        for (double& x : sc) sum += (x = std::exp(x - mx));
        for (int64_t t = 0; t < T; ++t) (*probs)[size_t(((b * H + h) * S + s) * T + t)] = sc[size_t(t)] / sum;
        for (int64_t d = 0; d < Dv; ++d) {
          double acc = 0;
          for (int64_t t = 0; t < T; ++t) acc += sc[size_t(t)] / sum * pv[((b * Hkv + hk) * T + t) * Dv + d];
          out[size_t(((b * H + h) * S + s) * Dv + d)] = acc;
        }
      }
  return out;
}

// Queries, keys and values laid out as a decoder makes them: q a transposed view of a projection,
// k and v views of a KV cache holding more positions than are filled; a left-padded batch. A few
// query rows per kv head take the decoding kernel, more take the general products; both must match
// the loops above, and the gradient path (the general one) too.
TEST(GroupedQueryAttention, FewAndManyQueriesAgainstLoopsOnCacheViews) {
  ops::manual_seed(7);  // grad mode on: no input requires grad but qg below
  const int64_t B = 2, H = 4, Hkv = 2, D = 8, past = 5;
  for (int64_t S : {1, 3, 5}) {  // rep * S = 2, 6 (decoding kernel), 10 (general)
    const int64_t T = past + S;
    KVCache cache(T + 4);
    cache.update(0, ops::randn({B, Hkv, past, D}), ops::randn({B, Hkv, past, D}));
    Tensor q = ops::randn({B, S, H, D}).transpose(1, 2);
    auto [k, v] = cache.update(0, ops::randn({B, S, Hkv, D}).transpose(1, 2), ops::randn({B, S, Hkv, D}).transpose(1, 2));
    ASSERT_FALSE(k.is_contiguous());
    std::vector<int64_t> mask(size_t(B * T), 1);
    mask[size_t(T)] = mask[size_t(T + 1)] = 0;  // the second row is left-padded by two
    const Tensor bias = causal_mask_bias(Tensor::from_vector(mask, {B, T}), B, S, past);
    Tensor probs;
    const Tensor out = grouped_query_attention(q, k, v, bias, 0.3, 0, 0, false, &probs);
    std::vector<double> ref_probs;
    const std::vector<double> ref = naive(q, k, v, bias, 0.3, &ref_probs);
    ASSERT_EQ(out.shape(), (Shape{B, H, S, D}));
    ASSERT_EQ(probs.shape(), (Shape{B, H, S, T}));
    const std::vector<float> got = out.contiguous().to_vector<float>(), got_p = probs.contiguous().to_vector<float>();
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(got[i], ref[i], 1e-5) << "S " << S << " at " << i;
    for (size_t i = 0; i < ref_probs.size(); ++i) ASSERT_NEAR(got_p[i], ref_probs[i], 1e-6) << "S " << S << " at " << i;
    EXPECT_EQ(got_p[size_t(((1 * H + 0) * S + 0) * T + 1)], 0.0f);  // a padded key gets no weight

    Tensor qg = q.detach().contiguous().requires_grad_(true);
    const std::vector<float> general = grouped_query_attention(qg, k, v, bias, 0.3, 0, 0, false, nullptr).contiguous().to_vector<float>();
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(general[i], ref[i], 1e-5) << "S " << S << " at " << i;
  }
}

// The encoder-decoder models' attention (T5, BART, Whisper, ...) takes the same kernel for a
// decoding step: one query row per head against a growing cache, T5's per-head position bias.
TEST(ScaledDotProductAttention, OneQueryWithPerHeadBiasAgainstLoops) {
  ops::manual_seed(11);
  const int64_t B = 2, H = 3, D = 16, T = 9;
  for (int64_t S : {1, 12}) {  // the decoding kernel, then the general products
    KVCache cache(T + 3);
    auto [k, v] = cache.update(0, ops::randn({B, H, T, D}), ops::randn({B, H, T, D}));
    const Tensor q = ops::randn({B, S, H, D}).transpose(1, 2);
    const Tensor bias = ops::randn({1, H, S, T});  // broadcast over the batch
    Tensor probs;
    const Tensor out = scaled_dot_product_attention(q, k, v, bias, 1.0, 0.0, false, &probs);
    std::vector<double> ref_probs;
    const std::vector<double> ref = naive(q, k, v, bias, 1.0, &ref_probs);
    const std::vector<float> got = out.contiguous().to_vector<float>(), got_p = probs.contiguous().to_vector<float>();
    ASSERT_EQ(got.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(got[i], ref[i], 1e-5) << "S " << S << " at " << i;
    for (size_t i = 0; i < ref_probs.size(); ++i) ASSERT_NEAR(got_p[i], ref_probs[i], 1e-6) << "S " << S << " at " << i;
  }
}

}  // namespace
}  // namespace cppformers::nn
