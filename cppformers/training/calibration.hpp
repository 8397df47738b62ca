#pragma once
// Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one scalar
// T > 0 fitted on held-out logits so that softmax(logits / T) (or sigmoid(logits / T) for
// multi-label models) minimises the mean negative log-likelihood. Accuracy is unchanged; the
// scores become calibrated probabilities.
//
// The fitted T is stored in the model's config.json as "calibration_temperature" (a field
// Python's transformers keeps but ignores), and cppformers' text-classification pipeline
// divides the logits by it before softmax / sigmoid.
#include <cstdint>
#include <optional>

#include "cppformers/core/tensor.hpp"
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

inline constexpr const char* kCalibrationTemperatureKey = "calibration_temperature";

struct TemperatureScaling {
  double temperature = 1.0;
  double nll_before = 0;  // mean NLL at T = 1
  double nll_after = 0;   // at the fitted T
  int64_t num_examples = 0;
  bool at_bound = false;  // the optimum lies at a bound of [min_temperature, max_temperature]
};

// The mean NLL of softmax(logits / T) against integer labels (logits [N, K], labels [N]; -100
// ignored), or with multi_label of sigmoid(logits / T) against 0/1 targets (labels [N, K]).
double temperature_nll(const Tensor& logits, const Tensor& labels, double temperature, bool multi_label = false);

// Minimises temperature_nll over T in [min_temperature, max_temperature]. The NLL is convex in
// 1/T, so a safeguarded Newton iteration on 1/T (bisection on the sign of the derivative when a
// step leaves the bracket) finds the minimum to machine precision. Throws ValueError for empty
// or malformed inputs.
TemperatureScaling fit_temperature(const Tensor& logits, const Tensor& labels, bool multi_label = false,
                                   double min_temperature = 1e-2, double max_temperature = 1e2);

// Reads / writes config.extra["calibration_temperature"] (saved with the config).
std::optional<double> calibration_temperature(const PretrainedConfig& config);
void set_calibration_temperature(PretrainedConfig& config, double temperature);

}  // namespace cppformers
