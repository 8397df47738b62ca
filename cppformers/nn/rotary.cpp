#include "cppformers/nn/rotary.hpp"

#include <algorithm>
#include <cmath>

#include "cppformers/core/logging.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers::nn {

using nlohmann::json;

RopeConfig RopeConfig::from_json(const json& j, int64_t head_dim, const std::string& file) {
  using io::json_get;
  RopeConfig c;
  c.theta = json_get<double>(j, "rope_theta", c.theta, file);
  if (!(c.theta > 0) || !std::isfinite(c.theta))
    throw FormatError(file + ": key 'rope_theta' must be a positive number, got " + j["rope_theta"].dump());
  const double partial = json_get<double>(j, "partial_rotary_factor", 1.0, file);
  c.dim = int64_t(double(head_dim) * partial);
  if (c.dim <= 0 || c.dim % 2)
    throw FormatError(file + ": rotary dimension " + std::to_string(c.dim) + " (head_dim " + std::to_string(head_dim) +
                      " x partial_rotary_factor) must be positive and even");
  c.max_position_embeddings = json_get<int64_t>(j, "max_position_embeddings", c.max_position_embeddings, file);
  c.original_max_position_embeddings =
      json_get<int64_t>(j, "original_max_position_embeddings", c.max_position_embeddings, file);
  if (!j.contains("rope_scaling") || j["rope_scaling"].is_null()) return c;
  const json& s = j["rope_scaling"];
  if (!s.is_object()) throw FormatError(file + ": key 'rope_scaling' should be an object or null");
  const std::string where = file + " (rope_scaling)";
  c.rope_type = json_get<std::string>(s, "rope_type", json_get<std::string>(s, "type", "default", where), where);
  if (c.rope_type == "su") c.rope_type = "longrope";
  // The keys each rope_type requires, as transformers 4.45's rope_config_validation (a KeyError there).
  {
    std::vector<const char*> required = {"rope_type"};
    if (c.rope_type == "linear" || c.rope_type == "dynamic" || c.rope_type == "yarn") required.push_back("factor");
    if (c.rope_type == "longrope") required.insert(required.end(), {"short_factor", "long_factor"});
    if (c.rope_type == "llama3")
      required.insert(required.end(), {"factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"});
    std::string missing;
    for (const char* k : required) {
      const bool has = std::string(k) == "rope_type" ? (s.contains("rope_type") || s.contains("type")) : s.contains(k);
      if (!has) missing += (missing.empty() ? "'" : ", '") + std::string(k) + "'";
    }
    if (!missing.empty())
      throw FormatError(where + ": missing required key" + (missing.find(',') == std::string::npos ? " " : "s ") +
                        missing + " for rope_type '" + c.rope_type + "'");
  }
  c.factor = json_get<double>(s, "factor", 1.0, where);
  c.low_freq_factor = json_get<double>(s, "low_freq_factor", c.low_freq_factor, where);
  c.high_freq_factor = json_get<double>(s, "high_freq_factor", c.high_freq_factor, where);
  c.original_max_position_embeddings =
      json_get<int64_t>(s, "original_max_position_embeddings", c.original_max_position_embeddings, where);
  if (s.contains("attention_factor") && !s["attention_factor"].is_null())
    c.attention_factor = json_get<double>(s, "attention_factor", 1.0, where);
  // `or 32` / `or 1`: a null or zero value takes the default
  const double bf = json_get<double>(s, "beta_fast", 0.0, where), bs = json_get<double>(s, "beta_slow", 0.0, where);
  if (bf != 0) c.beta_fast = bf;
  if (bs != 0) c.beta_slow = bs;
  auto doubles = [&](const char* key) {
    std::vector<double> out;
    if (!s.contains(key) || s[key].is_null()) return out;
    if (!s[key].is_array()) throw FormatError(where + ": key '" + key + "' should be a list of numbers");
    for (const json& v : s[key]) {
      if (!v.is_number()) throw FormatError(where + ": key '" + key + "' should be a list of numbers");
      out.push_back(v.get<double>());
    }
    return out;
  };
  c.short_factor = doubles("short_factor");
  c.long_factor = doubles("long_factor");
  static const char* known[] = {"default", "linear", "dynamic", "yarn", "longrope", "llama3"};
  if (std::find_if(std::begin(known), std::end(known), [&](const char* k) { return c.rope_type == k; }) == std::end(known))
    throw NotSupportedError(where + ": rope_type '" + c.rope_type + "' is not supported (known: default, linear, dynamic, yarn, longrope, llama3)");
  // transformers only warns for a factor below 1; zero, negative or non-finite factors give NaN or
  // infinite frequencies, so they are errors here.
  if (s.contains("factor") && !s["factor"].is_null()) {
    if (!(c.factor > 0) || !std::isfinite(c.factor))
      throw FormatError(where + ": 'factor' must be a positive number, got " + s["factor"].dump());
    if (c.factor < 1.0 && c.rope_type != "default")
      log_warning(where + ": `rope_scaling`'s factor field must be a float >= 1, got " + s["factor"].dump());
  }
  if (c.rope_type == "longrope" && (int64_t(c.short_factor.size()) != c.dim / 2 || int64_t(c.long_factor.size()) != c.dim / 2))
    throw FormatError(where + ": longrope needs 'short_factor' and 'long_factor' of length " + std::to_string(c.dim / 2));
  return c;
}

namespace {

// base ** (arange(0, dim, 2).float() / dim), elementwise in f32 as torch evaluates it.
std::vector<float> pos_freqs(double base, int64_t dim) {
  std::vector<float> out;
  const float b = float(base);
  for (int64_t i = 0; i < dim; i += 2) out.push_back(std::pow(b, float(i) / float(dim)));
  return out;
}

}  // namespace

std::pair<std::vector<float>, float> rope_inv_freq(const RopeConfig& c, int64_t seq_len) {
  const int64_t dim = c.dim;
  std::vector<float> inv;
  float scaling = 1.0f;
  if (c.rope_type == "dynamic") {
    const double max_pos = double(c.max_position_embeddings);
    const double sl = seq_len > c.max_position_embeddings ? double(seq_len) : max_pos;
    const double base = c.theta * std::pow((c.factor * sl / max_pos) - (c.factor - 1), double(dim) / double(dim - 2));
    for (float p : pos_freqs(base, dim)) inv.push_back(1.0f / p);
    return {inv, scaling};
  }
  if (c.rope_type == "yarn") {
    const double factor = c.factor;
    const double attn = c.attention_factor ? *c.attention_factor : 0.1 * std::log(factor) + 1.0;
    auto correction_dim = [&](double rot) {
      return (double(dim) * std::log(double(c.max_position_embeddings) / (rot * 2 * M_PI))) / (2 * std::log(c.theta));
    };
    double low = std::max(std::floor(correction_dim(c.beta_fast)), 0.0);
    double high = std::min(std::ceil(correction_dim(c.beta_slow)), double(dim - 1));
    if (low == high) high += 0.001;
    const std::vector<float> pf = pos_freqs(c.theta, dim);
    for (int64_t i = 0; i < dim / 2; ++i) {
      const float extra = 1.0f / pf[size_t(i)];
      const float inter = 1.0f / (float(factor) * pf[size_t(i)]);
      float ramp = (float(i) - float(low)) / (float(high) - float(low));
      ramp = std::clamp(ramp, 0.0f, 1.0f);
      const float ef = 1.0f - ramp;  // inv_freq_extrapolation_factor
      inv.push_back(inter * (1.0f - ef) + extra * ef);
    }
    return {inv, float(attn)};
  }
  if (c.rope_type == "longrope") {
    const bool use_long = seq_len > c.original_max_position_embeddings;
    const std::vector<double>& ext = use_long ? c.long_factor : c.short_factor;
    const std::vector<float> pf = pos_freqs(c.theta, dim);
    for (int64_t i = 0; i < dim / 2; ++i) inv.push_back(1.0f / (float(ext[size_t(i)]) * pf[size_t(i)]));
    double attn;
    if (c.attention_factor) {
      attn = *c.attention_factor;
    } else {
      const double scale = double(c.max_position_embeddings) / double(c.original_max_position_embeddings);
      attn = scale <= 1.0 ? 1.0 : std::sqrt(1 + std::log(scale) / std::log(double(c.original_max_position_embeddings)));
    }
    return {inv, float(attn)};
  }
  for (float p : pos_freqs(c.theta, dim)) inv.push_back(1.0f / p);
  if (c.rope_type == "linear") {
    for (float& f : inv) f = f / float(c.factor);
  } else if (c.rope_type == "llama3") {
    const double factor = c.factor, lo = c.low_freq_factor, hi = c.high_freq_factor;
    const double old_ctx = double(c.original_max_position_embeddings);
    const float low_wavelen = float(old_ctx / lo), high_wavelen = float(old_ctx / hi);
    for (float& f : inv) {
      const float wavelen = (1.0f / f) * float(2 * M_PI);  // torch: reciprocal(t) * scalar
      float scaled = wavelen > low_wavelen ? f / float(factor) : f;
      const float smooth = ((1.0f / wavelen) * float(old_ctx) - float(lo)) / float(hi - lo);
      const float smoothed = (1.0f - smooth) * scaled / float(factor) + smooth * scaled;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      f = medium ? smoothed : scaled;
    }
  }
  return {inv, scaling};
}

RotaryEmbedding::RotaryEmbedding(RopeConfig c) : c_(std::move(c)) {
  std::tie(inv_freq_, scaling_) = rope_inv_freq(c_, 0);
  original_inv_freq_ = inv_freq_;
  max_seq_len_cached_ = c_.max_position_embeddings;
}

std::pair<Tensor, Tensor> RotaryEmbedding::forward(const Tensor& position_ids) {
  if (position_ids.dim() != 2) throw ValueError("RotaryEmbedding: position_ids must be [batch, seq], got " + shape_str(position_ids.shape()));
  const std::vector<int64_t> pos = position_ids.to_vector<int64_t>();
  int64_t max_pos = -1;
  for (int64_t p : pos) max_pos = std::max(max_pos, p);
  const int64_t seq_len = max_pos + 1;
  if (c_.rope_type == "dynamic") {
    if (seq_len > max_seq_len_cached_) {
      std::tie(inv_freq_, scaling_) = rope_inv_freq(c_, seq_len);
      max_seq_len_cached_ = seq_len;
    }
    if (seq_len < c_.max_position_embeddings && max_seq_len_cached_ > c_.max_position_embeddings) {
      inv_freq_ = original_inv_freq_;
      max_seq_len_cached_ = c_.max_position_embeddings;
    }
  } else if (c_.rope_type == "longrope") {
    std::tie(inv_freq_, scaling_) = rope_inv_freq(c_, seq_len);
  }
  const int64_t B = position_ids.size(0), S = position_ids.size(1), half = c_.dim / 2, R = c_.dim;
  Tensor cos = Tensor::empty({B, S, R}, kF32), sin = Tensor::empty({B, S, R}, kF32);
  float *pc = cos.data<float>(), *ps = sin.data<float>();
  for (int64_t r = 0; r < B * S; ++r) {
    const float p = float(pos[size_t(r)]);
    for (int64_t i = 0; i < half; ++i) {
      const float a = inv_freq_[size_t(i)] * p;
      const float cv = std::cos(a) * scaling_, sv = std::sin(a) * scaling_;
      pc[r * R + i] = pc[r * R + i + half] = cv;
      ps[r * R + i] = ps[r * R + i + half] = sv;
    }
  }
  return {cos, sin};
}

}  // namespace cppformers::nn
