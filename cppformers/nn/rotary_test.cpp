#include "cppformers/nn/rotary.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/nn/kv_cache.hpp"

namespace cppformers::nn {
namespace {

RopeConfig from(const std::string& text, int64_t head_dim) {
  return RopeConfig::from_json(nlohmann::json::parse(text), head_dim, "config.json");
}

TEST(Rope, DefaultAndLinearInvFreq) {
  RopeConfig c = from(R"({"rope_theta": 10000.0, "max_position_embeddings": 128})", 8);
  auto [inv, scale] = rope_inv_freq(c);
  ASSERT_EQ(inv.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(inv[i], float(1.0 / std::pow(10000.0, 2.0 * i / 8)));
  EXPECT_EQ(scale, 1.0f);
  RopeConfig lin = from(R"({"rope_theta": 10000.0, "rope_scaling": {"type": "linear", "factor": 4.0}})", 8);
  auto [inv_l, s_l] = rope_inv_freq(lin);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(inv_l[i], inv[i] / 4.0f);
  // partial rotary
  EXPECT_EQ(from(R"({"partial_rotary_factor": 0.5})", 16).dim, 8);
  EXPECT_THROW(from(R"({"rope_scaling": {"rope_type": "weird", "factor": 2}})", 8), NotSupportedError);
}

TEST(Rope, Llama3BandsAndYarn) {
  // theta 500000, dim 128, original context 64 with factors 1 / 4: all three bands occur
  RopeConfig c = from(R"({"rope_theta": 500000.0, "max_position_embeddings": 256, "rope_scaling":
      {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
       "original_max_position_embeddings": 64}})", 128);
  auto [inv, s] = rope_inv_freq(c);
  RopeConfig d = c;
  d.rope_type = "default";
  auto [base, s0] = rope_inv_freq(d);
  int high = 0, low = 0, mid = 0;
  for (size_t i = 0; i < inv.size(); ++i) {
    const double wavelen = 2 * M_PI / base[i];
    if (wavelen < 16) {  // high frequencies untouched
      EXPECT_EQ(inv[i], base[i]);
      ++high;
    } else if (wavelen > 64) {  // low frequencies divided by the factor
      EXPECT_NEAR(inv[i], base[i] / 8.0, 1e-6 * base[i]);
      ++low;
    } else {  // smooth interpolation in between
      const double smooth = (64 / wavelen - 1) / 3;
      EXPECT_NEAR(inv[i], (1 - smooth) * base[i] / 8 + smooth * base[i], 1e-5 * base[i]);
      ++mid;
    }
  }
  EXPECT_GT(high, 0);
  EXPECT_GT(low, 0);
  EXPECT_GT(mid, 0);
  // yarn: attention factor 0.1 ln(factor) + 1, frequencies between interpolation and extrapolation
  RopeConfig y = from(R"({"rope_theta": 10000.0, "max_position_embeddings": 4096,
      "rope_scaling": {"rope_type": "yarn", "factor": 4.0}})", 64);
  auto [inv_y, s_y] = rope_inv_freq(y);
  EXPECT_NEAR(s_y, 0.1 * std::log(4.0) + 1.0, 1e-6);
  RopeConfig yd = y;
  yd.rope_type = "default";
  auto [base_y, sy0] = rope_inv_freq(yd);
  EXPECT_FLOAT_EQ(inv_y.front(), base_y.front());        // fastest: extrapolated
  EXPECT_FLOAT_EQ(inv_y.back(), base_y.back() / 4.0f);   // slowest: interpolated
}

TEST(Rope, DynamicGrowsBaseBeyondTheContext) {
  RotaryEmbedding r(from(R"({"rope_theta": 10000.0, "max_position_embeddings": 16,
      "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}})", 8));
  const std::vector<float> before = r.inv_freq();
  r.forward(Tensor::from_vector<int64_t>({0, 5}, {1, 2}));
  EXPECT_EQ(r.inv_freq(), before);
  r.forward(Tensor::from_vector<int64_t>({31}, {1, 1}));  // seq_len 32 > 16
  const double base = 10000.0 * std::pow(2.0 * 32 / 16 - 1, 8.0 / 6.0);
  EXPECT_NEAR(r.inv_freq()[1], 1.0 / std::pow(base, 2.0 / 8), 1e-6);
  r.forward(Tensor::from_vector<int64_t>({3}, {1, 1}));  // back under the context: reset
  EXPECT_EQ(r.inv_freq(), before);
}

// As transformers 4.45's rope_config_validation: missing required keys per rope_type raise
// (naming the file and key); a factor below 1 only warns; zero/negative factors and rope_theta
// (NaN frequencies) are errors here.
TEST(Rope, ValidatesRopeScalingKeysAndValues) {
  auto error = [](const std::string& json) {
    try {
      from(json, 8);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error(R"({"rope_scaling": {}})"), "config.json (rope_scaling): missing required key 'rope_type' for rope_type 'default'");
  EXPECT_EQ(error(R"({"rope_scaling": {"rope_type": "linear"}})"),
            "config.json (rope_scaling): missing required key 'factor' for rope_type 'linear'");
  EXPECT_EQ(error(R"({"rope_scaling": {"type": "dynamic"}})"),
            "config.json (rope_scaling): missing required key 'factor' for rope_type 'dynamic'");
  EXPECT_EQ(error(R"({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}})"),
            "config.json (rope_scaling): missing required keys 'original_max_position_embeddings', 'low_freq_factor', "
            "'high_freq_factor' for rope_type 'llama3'");
  EXPECT_EQ(error(R"({"rope_scaling": {"rope_type": "longrope", "factor": 4.0}})"),
            "config.json (rope_scaling): missing required keys 'short_factor', 'long_factor' for rope_type 'longrope'");
  EXPECT_EQ(error(R"({"rope_scaling": {"rope_type": "yarn", "factor": 0}})"),
            "config.json (rope_scaling): 'factor' must be a positive number, got 0");
  EXPECT_EQ(error(R"({"rope_scaling": {"rope_type": "linear", "factor": -2.0}})"),
            "config.json (rope_scaling): 'factor' must be a positive number, got -2.0");
  EXPECT_EQ(error(R"({"rope_theta": 0})"), "config.json: key 'rope_theta' must be a positive number, got 0");
  EXPECT_EQ(error(R"({"rope_theta": -10000.0})"), "config.json: key 'rope_theta' must be a positive number, got -10000.0");
  // transformers warns for a factor below 1 and goes on
  EXPECT_EQ(from(R"({"rope_scaling": {"rope_type": "dynamic", "factor": 0.5}})", 8).factor, 0.5);
  EXPECT_EQ(from(R"({"rope_scaling": {"rope_type": "default"}})", 8).rope_type, "default");
}

TEST(Rope, CosSinLayout) {
  RotaryEmbedding r(from(R"({"rope_theta": 100.0})", 4));
  auto [cos, sin] = r.forward(Tensor::from_vector<int64_t>({0, 3}, {1, 2}));
  ASSERT_EQ(cos.shape(), (Shape{1, 2, 4}));
  auto c = cos.to_vector<float>(), s = sin.to_vector<float>();
  EXPECT_FLOAT_EQ(c[0], 1.0f);
  EXPECT_FLOAT_EQ(s[0], 0.0f);
  const float f1 = 1.0f / std::pow(100.0f, 0.5f);
  EXPECT_FLOAT_EQ(c[4 + 1], std::cos(3 * f1));
  EXPECT_FLOAT_EQ(c[4 + 3], std::cos(3 * f1));  // halves repeat
  EXPECT_FLOAT_EQ(s[4 + 2], std::sin(3.0f));
}

TEST(KVCache, AppendGrowReorder) {
  KVCache cache(3);
  auto kv = [](float base, int64_t S) {
    std::vector<float> v;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t d = 0; d < 2; ++d) v.push_back(base + 100 * b + 10 * s + d);
    return Tensor::from_vector(v, {2, 1, S, 2});
  };
  auto [k1, v1] = cache.update(0, kv(0, 2), kv(1000, 2));
  EXPECT_EQ(k1.shape(), (Shape{2, 1, 2, 2}));
  EXPECT_EQ(cache.length(0), 2);
  EXPECT_EQ(cache.length(1), 0);
  auto [k2, v2] = cache.update(0, kv(5, 2), kv(1005, 2));  // past the capacity: grows
  EXPECT_EQ(k2.shape(), (Shape{2, 1, 4, 2}));
  auto k = k2.to_vector<float>();
  EXPECT_EQ(k[0], 0);
  EXPECT_EQ(k[4], 5);       // slot 2 = first new key
  EXPECT_EQ(k[8], 100);     // batch row 1
  cache.reorder(Tensor::from_vector<int64_t>({1, 1}, {2}));
  auto [k3, v3] = cache.update(0, kv(7, 1), kv(1007, 1));
  auto kr = k3.to_vector<float>();
  EXPECT_EQ(kr[0], 100);    // row 0 now holds row 1's past
  EXPECT_EQ(kr[8], 7);      // then the new key of row 0
  EXPECT_EQ(v3.to_vector<float>()[0], 1100);
  cache.crop(1);
  EXPECT_EQ(cache.length(0), 1);
  EXPECT_THROW(cache.update(0, kv(0, 1), Tensor::zeros({2, 1, 2, 2})), ValueError);
}

}  // namespace
}  // namespace cppformers::nn
