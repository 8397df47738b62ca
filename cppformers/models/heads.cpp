#include "cppformers/models/heads.hpp"

#include "cppformers/ops/ops.hpp"

namespace cppformers {

Tensor sequence_classification_loss(const PretrainedConfig& cfg, const Tensor& logits, const Tensor& labels) {
  const int64_t n = cfg.num_labels();
  std::string kind = cfg.problem_type;
  if (kind.empty())
    kind = n == 1 ? "regression"
                  : (!is_floating(labels.dtype()) ? "single_label_classification" : "multi_label_classification");
  if (kind == "regression")
    return n == 1 ? ops::mse_loss(logits.flatten(), labels.to(kF32).flatten()) : ops::mse_loss(logits, labels.to(kF32));
  if (kind == "single_label_classification")
    return ops::cross_entropy(logits.reshape({-1, n}), labels.reshape({-1}));
  if (kind == "multi_label_classification") return ops::binary_cross_entropy_with_logits(logits, labels);
  throw NotSupportedError(cfg.source + ": 'problem_type' '" + kind + "' is not one of regression, "
                          "single_label_classification, multi_label_classification");
}

Tensor token_classification_loss(const Tensor& logits, const Tensor& labels) {
  return ops::cross_entropy(logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}));
}

Tensor question_answering_loss(const Tensor& start_logits, const Tensor& end_logits,
                               const Tensor& start_positions, const Tensor& end_positions) {
  const int64_t ignored = start_logits.size(1);
  auto clamp = [&](const Tensor& p) {
    Tensor flat = p.reshape({-1}).to(kI64);
    return ops::minimum(ops::maximum(flat, Tensor::scalar(0, kI64)), Tensor::scalar(double(ignored), kI64));
  };
  Tensor s = ops::cross_entropy(start_logits, clamp(start_positions), ignored);
  Tensor e = ops::cross_entropy(end_logits, clamp(end_positions), ignored);
  return (s + e) / 2.0;
}

}  // namespace cppformers
