#pragma once
// token-classification / ner, as transformers' TokenClassificationPipeline (4.45).
//
// Parity notes (see ../shared/fixtures/pipelines/README.md):
// - aggregation "none" / "simple" follow Python exactly as it ran with BERT's slow tokenizer:
//   `word` is the token itself ("##lf") or convert_tokens_to_string of a group ("is wo"),
//   and start / end are null unless the caller passes offset_mapping.
// - "first" / "average" / "max" and `stride` (which Python only offers with a fast tokenizer)
//   follow Python's fast-tokenizer path: words are the tokenizer's word ids, start / end come
//   from the tokenizer's character offsets (code points), an [UNK] token's word is the text it
//   covers, and overlapping windows (stride) are merged as aggregate_overlapping_entities does.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

// One entity: a token (aggregation "none": `entity` and `index` set) or a group of tokens
// (other strategies: `entity_group`, no index). Scores are float32, as Python's numpy.float32.
struct TokenEntity {
  std::string entity;                 // label ("B-PER") or, when grouped, the group ("PER")
  bool grouped = false;               // key "entity_group" instead of "entity", no "index"
  float score = 0;
  std::optional<int64_t> index;       // token position, [CLS] counted
  std::string word;
  std::optional<int64_t> start, end;  // character offsets (code points), null when unknown
  json to_json() const;
};

struct TokenClassificationOptions {
  std::string aggregation_strategy = "none";  // none, simple, first, average, max
  std::optional<std::vector<std::string>> ignore_labels;  // default {"O"}
  // (start, end) per token of the (truncated) encoding, [CLS]/[SEP] included, as Python's kwarg.
  std::optional<std::vector<std::pair<int64_t, int64_t>>> offset_mapping;
  std::optional<int64_t> stride;  // overflowing windows with this many overlapping tokens
  int64_t batch_size = 0;         // 0: the pipeline's
};

class TokenClassificationPipeline : public Pipeline {
 public:
  TokenClassificationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer, int64_t batch_size);

  std::vector<TokenEntity> operator()(const std::string& text, const TokenClassificationOptions& o = {});
  // One list per text (offset_mapping, if given, holds one mapping per text or one for all texts).
  std::vector<std::vector<TokenEntity>> classify(const std::vector<std::string>& texts,
                                                 const TokenClassificationOptions& o = {},
                                                 const std::vector<std::vector<std::pair<int64_t, int64_t>>>&
                                                     offset_mappings = {});

  // Python's pipe(inputs, aggregation_strategy=..., ignore_labels=..., offset_mapping=..., stride=...,
  // grouped_entities=..., ignore_subwords=..., batch_size=...).
  json call(const json& inputs, const json& kwargs = json::object()) override;

  // transformers' convert_tokens_to_string for this tokenizer (WordPiece: joined with spaces,
  // " ##" removed; others: the tokenizer's decoder).
  std::string tokens_to_string(const std::vector<std::string>& tokens, const std::vector<uint32_t>& ids) const;

 private:
  std::string wordpiece_prefix_;  // "##" for WordPiece tokenizers, else ""
};

}  // namespace cppformers
