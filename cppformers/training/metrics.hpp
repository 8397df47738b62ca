#pragma once
// Evaluation metrics with the semantics of the Python packages people use with Trainer:
// accuracy and precision/recall/F1 as scikit-learn computes them (labels: the sorted union of
// true and predicted classes; 0 where a ratio is 0/0), entity-level scores as seqeval's default
// (conlleval) mode, perplexity as exp(mean loss). Label -100 marks ignored positions.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers {

double accuracy(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels);

struct PRF {
  double precision = 0, recall = 0, f1 = 0;
};
// average: "macro", "micro", "weighted", or "binary" (class pos_label only).
PRF precision_recall_f1(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels,
                        const std::string& average = "macro", int64_t pos_label = 1);

// Entity chunks (type, first, last) of one tag sequence (IOB1/IOB2/IOBES tags like "B-PER").
struct Entity {
  std::string type;
  int64_t begin, end;  // inclusive, as seqeval
  bool operator<(const Entity& o) const;
  bool operator==(const Entity& o) const = default;
};
std::vector<Entity> get_entities(const std::vector<std::string>& tags);

struct SeqevalResult {
  double precision = 0, recall = 0, f1 = 0, accuracy = 0;  // overall (micro over entities)
  struct PerType {
    double precision = 0, recall = 0, f1 = 0;
    int64_t number = 0;  // true entities of the type
  };
  std::map<std::string, PerType> per_type;
};
SeqevalResult seqeval(const std::vector<std::vector<std::string>>& predictions,
                      const std::vector<std::vector<std::string>>& references);

double perplexity(double mean_loss);

// What Trainer hands compute_metrics: the model's logits (concatenated over eval batches,
// token dims padded with -100) and the labels.
struct EvalPrediction {
  Tensor predictions;  // f32 logits [N, C] or [N, T, C]
  Tensor label_ids;    // i64 [N] or [N, T]
};
using ComputeMetrics = std::function<std::map<std::string, double>(const EvalPrediction&)>;

// compute_metrics for sequence classification: accuracy, precision, recall, f1 (with `average`).
ComputeMetrics classification_metrics(const std::string& average = "macro");
// compute_metrics for token classification: seqeval's overall precision, recall, f1, accuracy
// over the positions whose label is not -100, tags named by id2label.
ComputeMetrics token_classification_metrics(std::map<int64_t, std::string> id2label);

}  // namespace cppformers
