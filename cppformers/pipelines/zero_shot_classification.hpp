#pragma once
// zero-shot-classification with an NLI model, as transformers' ZeroShotClassificationPipeline.
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

struct ZeroShotResult {
  std::string sequence;
  std::vector<std::string> labels;  // sorted by score, descending
  std::vector<double> scores;
  json to_json() const { return {{"sequence", sequence}, {"labels", labels}, {"scores", scores}}; }
};

class ZeroShotClassificationPipeline : public Pipeline {
 public:
  ZeroShotClassificationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer, int64_t batch_size);
  ZeroShotResult classify(const std::string& sequence, const std::vector<std::string>& candidate_labels,
                          const std::string& hypothesis_template = "This example is {}.", bool multi_label = false);
  json call(const json& inputs, const json& kwargs = json::object()) override;

  int64_t entailment_id() const;  // the first label starting with "entail" (case-insensitive), else -1
};

}  // namespace cppformers
