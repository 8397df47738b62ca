#pragma once
// Rotary position embeddings (Su et al. 2021) with transformers 4.45's rope_scaling variants:
// default, linear, dynamic (NTK), yarn, longrope (Phi-3) and llama3. inv_freq is computed as
// modeling_rope_utils.py does, in float32 as torch does, and cos/sin carry the variant's
// attention scaling.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/core/tensor.hpp"

namespace cppformers::nn {

struct RopeConfig {
  double theta = 10000.0;  // rope_theta
  int64_t dim = 0;         // rotary dims: int(head_dim * partial_rotary_factor)
  int64_t max_position_embeddings = 2048;
  std::string rope_type = "default";  // default, linear, dynamic, yarn, longrope, llama3
  double factor = 1.0;
  // llama3
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
  // yarn / longrope
  std::optional<double> attention_factor;
  double beta_fast = 32.0, beta_slow = 1.0;
  std::vector<double> short_factor, long_factor;

  // From a config.json object: rope_theta, partial_rotary_factor, max_position_embeddings,
  // original_max_position_embeddings and rope_scaling (its "rope_type", or legacy "type").
  static RopeConfig from_json(const nlohmann::json& j, int64_t head_dim, const std::string& file);
};

// inv_freq ([dim / 2], f32) and the attention scaling of a variant; seq_len matters for dynamic
// (the sequence length to extend to) and longrope (long or short factors).
std::pair<std::vector<float>, float> rope_inv_freq(const RopeConfig& c, int64_t seq_len = 0);

class RotaryEmbedding {
 public:
  explicit RotaryEmbedding(RopeConfig c);
  // cos and sin ([B, S, dim], f32) for integer position_ids [B, S].
  std::pair<Tensor, Tensor> forward(const Tensor& position_ids);
  const RopeConfig& config() const { return c_; }
  const std::vector<float>& inv_freq() const { return inv_freq_; }
  float attention_scaling() const { return scaling_; }

 private:
  RopeConfig c_;
  std::vector<float> inv_freq_, original_inv_freq_;
  float scaling_ = 1.0f;
  int64_t max_seq_len_cached_ = 0;
};

}  // namespace cppformers::nn
