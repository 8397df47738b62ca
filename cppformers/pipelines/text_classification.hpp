#pragma once
// text-classification / sentiment-analysis, as transformers' TextClassificationPipeline.
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

struct LabelScore {
  std::string label;
  double score;
  json to_json() const { return {{"label", label}, {"score", score}}; }
};

class TextClassificationPipeline : public Pipeline {
 public:
  TextClassificationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer, int64_t batch_size);

  // Every label of each text (or {text, text_pair}), sorted by score (descending).
  // function_to_apply: "" (the model's default: softmax, or sigmoid for one label / multi-label),
  // "softmax", "sigmoid", "none". A "calibration_temperature" T in the model's config.json
  // (temperature scaling, `cppformers train --calibrate`) makes the scores softmax / sigmoid of
  // logits / T; "none" still returns the raw logits.
  std::vector<std::vector<LabelScore>> classify(const std::vector<tokenizers::EncodeInput>& inputs,
                                                const std::string& function_to_apply = "",
                                                bool truncation = false, int64_t batch_size = 0);
  std::vector<LabelScore> operator()(const std::string& text, int64_t top_k = 1);

  // Python's pipe(inputs, top_k=..., function_to_apply=..., truncation=..., batch_size=...).
  json call(const json& inputs, const json& kwargs = json::object()) override;
};

}  // namespace cppformers
