#pragma once
// The losses of transformers' task heads, shared by every encoder family.
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

// ForSequenceClassification: regression (MSE) when num_labels == 1, cross-entropy for integer
// labels, BCE-with-logits for float multi-labels; or as config.problem_type says.
Tensor sequence_classification_loss(const PretrainedConfig& cfg, const Tensor& logits, const Tensor& labels);
// ForTokenClassification / ForMaskedLM: cross-entropy over the last dim, ignoring -100.
Tensor token_classification_loss(const Tensor& logits, const Tensor& labels);
// ForQuestionAnswering: positions clamped to [0, seq]; seq is ignored; mean of start and end.
Tensor question_answering_loss(const Tensor& start_logits, const Tensor& end_logits,
                               const Tensor& start_positions, const Tensor& end_positions);

}  // namespace cppformers
