#pragma once
// feature-extraction (transformers' FeatureExtractionPipeline: the last hidden state per token),
// and SentenceTransformer: a sentence-transformers folder (modules.json: Transformer, Pooling
// with cls / mean / max, Normalize) giving one embedding per text.
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

class FeatureExtractionPipeline : public Pipeline {
 public:
  FeatureExtractionPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer, int64_t batch_size);
  // last_hidden_state [1, seq, hidden] of one text.
  Tensor features(const std::string& text, bool truncation = false);
  json call(const json& inputs, const json& kwargs = json::object()) override;
};

class SentenceTransformer {
 public:
  static SentenceTransformer from_pretrained(const std::string& dir);
  // [n, dim] embeddings of `texts`, padded and truncated to max_seq_length, pooled as the
  // folder's Pooling config says and L2-normalised when it has a Normalize module.
  Tensor encode(const std::vector<std::string>& texts, int64_t batch_size = 32);

  std::string pooling = "mean";  // "cls", "mean", "max"
  bool normalize = false;
  int64_t max_seq_length = 512;

 private:
  SentenceTransformer(std::shared_ptr<PreTrainedModel> m, AutoTokenizer t);
  std::shared_ptr<PreTrainedModel> model_;
  AutoTokenizer tokenizer_;
};

}  // namespace cppformers
