#pragma once
// fill-mask, as transformers' FillMaskPipeline.
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

struct MaskFill {
  double score;
  int64_t token;
  std::string token_str, sequence;
  json to_json() const { return {{"score", score}, {"token", token}, {"token_str", token_str}, {"sequence", sequence}}; }
};

class FillMaskPipeline : public Pipeline {
 public:
  FillMaskPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer, int64_t batch_size);
  // One list of candidates per mask token in `text` (top_k each; restricted to `targets` if given).
  std::vector<std::vector<MaskFill>> fill(const std::string& text, int64_t top_k = 5,
                                          const std::vector<std::string>& targets = {}, bool truncation = false);
  json call(const json& inputs, const json& kwargs = json::object()) override;

 private:
  std::vector<int64_t> target_ids(const std::vector<std::string>& targets) const;
};

}  // namespace cppformers
