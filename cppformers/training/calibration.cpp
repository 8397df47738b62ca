#include "cppformers/training/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cppformers/core/error.hpp"

namespace cppformers {

namespace {

// The problem in double: rows of logits with an integer label (softmax) or 0/1 targets (sigmoid).
struct Problem {
  int64_t n = 0, k = 0;
  bool multi = false;
  std::vector<double> z;       // [n, k]
  std::vector<int64_t> label;  // [n] (softmax)
  std::vector<double> target;  // [n, k] (sigmoid)
};

Problem make_problem(const Tensor& logits, const Tensor& labels, bool multi) {
  if (!logits.defined() || logits.dim() != 2 || logits.size(0) == 0 || logits.size(1) == 0)
    throw ValueError("fit_temperature: logits should be a non-empty [N, K] tensor");
  if (!labels.defined()) throw ValueError("fit_temperature: labels are missing");
  const int64_t N = logits.size(0), K = logits.size(1);
  const std::vector<float> zf = logits.to_vector<float>();
  const std::vector<double> z(zf.begin(), zf.end());
  Problem p;
  p.k = K;
  p.multi = multi;
  if (multi) {
    if (labels.shape() != logits.shape())
      throw ValueError("fit_temperature: multi-label targets should have the logits' shape " + shape_str(logits.shape()));
    p.z = z;
    const std::vector<float> t = labels.to_vector<float>();
    p.target.assign(t.begin(), t.end());
    p.n = N;
    for (double t : p.target)
      if (!(t >= 0 && t <= 1)) throw ValueError("fit_temperature: multi-label targets should be in [0, 1]");
    return p;
  }
  if (K < 2) throw ValueError("fit_temperature: single-label calibration needs at least 2 classes");
  if (labels.dim() != 1 || labels.size(0) != N)
    throw ValueError("fit_temperature: labels should be [N] = [" + std::to_string(N) + "], got " + shape_str(labels.shape()));
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  for (int64_t i = 0; i < N; ++i) {
    if (y[size_t(i)] == -100) continue;
    if (y[size_t(i)] < 0 || y[size_t(i)] >= K)
      throw ValueError("fit_temperature: label " + std::to_string(y[size_t(i)]) + " is out of range for " +
                       std::to_string(K) + " classes");
    p.z.insert(p.z.end(), z.begin() + i * K, z.begin() + (i + 1) * K);
    p.label.push_back(y[size_t(i)]);
  }
  p.n = int64_t(p.label.size());
  if (p.n == 0) throw ValueError("fit_temperature: every label is -100");
  return p;
}

double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

// The mean NLL at inverse temperature b, and its first and second derivatives in b.
struct Eval {
  double f, d1, d2;
};

Eval evaluate(const Problem& p, double b) {
  double f = 0, d1 = 0, d2 = 0;
  if (p.multi) {
    for (size_t i = 0; i < p.z.size(); ++i) {
      const double z = p.z[i], y = p.target[i], s = sigmoid(b * z);
      f += softplus(b * z) - y * b * z;
      d1 += (s - y) * z;
      d2 += s * (1 - s) * z * z;
    }
    const double m = double(p.z.size());
    return {f / m, d1 / m, d2 / m};
  }
  std::vector<double> e(size_t(p.k));
  for (int64_t i = 0; i < p.n; ++i) {
    const double* z = p.z.data() + i * p.k;
    double mx = z[0];
    for (int64_t c = 1; c < p.k; ++c) mx = std::max(mx, z[c]);
    double sum = 0;
    for (int64_t c = 0; c < p.k; ++c) sum += (e[size_t(c)] = std::exp(b * (z[c] - mx)));
    double mean = 0, sq = 0;
    for (int64_t c = 0; c < p.k; ++c) {
      const double q = e[size_t(c)] / sum;
      mean += q * z[c];
      sq += q * z[c] * z[c];
    }
    f += b * mx + std::log(sum) - b * z[p.label[size_t(i)]];
    d1 += mean - z[p.label[size_t(i)]];
    d2 += std::max(0.0, sq - mean * mean);
  }
  return {f / double(p.n), d1 / double(p.n), d2 / double(p.n)};
}

}  // namespace

double temperature_nll(const Tensor& logits, const Tensor& labels, double temperature, bool multi_label) {
  if (!(temperature > 0)) throw ValueError("temperature_nll: the temperature should be > 0");
  return evaluate(make_problem(logits, labels, multi_label), 1.0 / temperature).f;
}

TemperatureScaling fit_temperature(const Tensor& logits, const Tensor& labels, bool multi_label, double min_t,
                                   double max_t) {
  if (!(min_t > 0 && max_t > min_t)) throw ValueError("fit_temperature: need 0 < min_temperature < max_temperature");
  const Problem p = make_problem(logits, labels, multi_label);
  TemperatureScaling out;
  out.num_examples = p.n;
  out.nll_before = evaluate(p, 1.0).f;
  // Minimise over b = 1/T in [lo, hi]; f is convex in b, so f' is increasing.
  double lo = 1.0 / max_t, hi = 1.0 / min_t;
  double b;
  if (evaluate(p, lo).d1 >= 0) {
    b = lo, out.at_bound = true;
  } else if (evaluate(p, hi).d1 <= 0) {
    b = hi, out.at_bound = true;
  } else {
    b = std::clamp(1.0, lo, hi);
    for (int it = 0; it < 200; ++it) {
      const Eval e = evaluate(p, b);
      if (e.d1 > 0) hi = b;
      else if (e.d1 < 0) lo = b;
      else break;
      double next = e.d2 > 0 ? b - e.d1 / e.d2 : 0.5 * (lo + hi);
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      const double step = std::fabs(next - b);
      b = next;
      if (step <= 1e-15 * b || hi - lo <= 1e-15 * b) break;
    }
  }
  out.temperature = 1.0 / b;
  out.nll_after = evaluate(p, b).f;
  return out;
}

std::optional<double> calibration_temperature(const PretrainedConfig& config) {
  const auto& j = config.extra;
  if (!j.is_object() || !j.contains(kCalibrationTemperatureKey) || j[kCalibrationTemperatureKey].is_null())
    return std::nullopt;
  const auto& v = j[kCalibrationTemperatureKey];
  if (!v.is_number() || !(v.get<double>() > 0))
    throw FormatError(config.source + ": key '" + kCalibrationTemperatureKey + "' should be a positive number");
  return v.get<double>();
}

void set_calibration_temperature(PretrainedConfig& config, double temperature) {
  if (!(temperature > 0 && std::isfinite(temperature)))
    throw ValueError("set_calibration_temperature: the temperature should be a positive number");
  if (!config.extra.is_object()) config.extra = nlohmann::json::object();
  config.extra[kCalibrationTemperatureKey] = temperature;
}

}  // namespace cppformers
