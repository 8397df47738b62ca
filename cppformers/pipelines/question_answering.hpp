#pragma once
// question-answering, as transformers' QuestionAnsweringPipeline (4.45) on its legacy SQuAD
// feature path (the one Python takes with a slow tokenizer, which produced the goldens in
// ../shared/fixtures/pipelines/question_answering):
// - the context is split on whitespace into words, each word tokenized on its own (no special
//   tokens); the question is cut to max_question_len tokens;
// - windows of max_seq_len tokens ([CLS] question [SEP] context [SEP], the tokenizer's own pair
//   template), window k covering context tokens [k*doc_stride, k*doc_stride + room): doc_stride
//   is the step between window starts;
// - per window softmax of start / end logits in float32 with every non-context token at -10000
//   (context tokens that are special ids, e.g. [UNK], included), then the [CLS] probability
//   zeroed; score = p_start * p_end for start <= end < start + max_answer_len;
// - answer = the whitespace words from the start word to the end word joined by single spaces;
//   start = first character of the start word; end = the last character the legacy code maps
//   to the end word (whitespace belongs to the word before it).
#include <optional>
#include <string>
#include <vector>

#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

struct QAAnswer {
  double score = 0;
  int64_t start = 0, end = 0;  // character (code point) offsets in the context
  std::string answer;
  json to_json() const { return {{"score", score}, {"start", start}, {"end", end}, {"answer", answer}}; }
};

struct QuestionAnsweringOptions {
  int64_t top_k = 1;
  std::optional<int64_t> doc_stride;   // default min(max_seq_len / 2, 128)
  int64_t max_answer_len = 15;
  std::optional<int64_t> max_seq_len;  // default min(model_max_length, 384)
  int64_t max_question_len = 64;
  bool handle_impossible_answer = false;
  int64_t batch_size = 0;  // windows per forward; 0: the pipeline's
};

class QuestionAnsweringPipeline : public Pipeline {
 public:
  QuestionAnsweringPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer, int64_t batch_size);

  // The best answers (at most top_k, best first; the null answer {score, 0, 0, ""} included
  // when handle_impossible_answer is set).
  std::vector<QAAnswer> operator()(const std::string& question, const std::string& context,
                                   const QuestionAnsweringOptions& o = {});

  // Python's pipe({"question", "context"} or a list of them, top_k=..., doc_stride=...,
  // max_answer_len=..., max_seq_len=..., max_question_len=..., handle_impossible_answer=...);
  // also question=/context= keyword arguments. One answer is a dict, several a list.
  json call(const json& inputs, const json& kwargs = json::object()) override;
};

}  // namespace cppformers
