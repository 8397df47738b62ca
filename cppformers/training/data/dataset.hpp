#pragma once
// Dataset: examples read from CSV / TSV / JSON lines (a text column, an optional text-pair
// column and a label column; string labels mapped to ids), tokenized in batches with an
// AutoTokenizer (which encodes each batch on all cores), shuffled with a seed and split into
// train/validation with optional stratification, as `datasets` offers them.
//
// Token classification data (JSON lines {"tokens": [...], "ner_tags": [...]}) keeps the words
// and one label per word; tokenize() aligns them to tokens (the first token of each word gets
// the word's label, the rest -100), as transformers' run_ner does.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cppformers/tokenizers/auto_tokenizer.hpp"

namespace cppformers {

struct Example {
  std::string text;
  std::optional<std::string> text_pair;
  int64_t label = -100;             // class id (-100: none)
  std::vector<std::string> words;   // token classification: the pre-split words
  std::vector<int64_t> word_labels; // one per word (-100: ignored)
  // Set by tokenize():
  std::vector<int64_t> input_ids, attention_mask, token_type_ids, special_tokens_mask;
  std::vector<int64_t> labels;      // per token (token classification); empty otherwise
};

struct DataFileOptions {
  std::string format;                    // "csv", "tsv", "jsonl"; empty: from the extension
  std::string text_column = "text";
  std::string text_pair_column;          // empty: single texts
  std::string label_column = "label";    // empty: no labels; for token data, a list per row
  std::string tokens_column;             // non-empty: token classification (list of words)
  // Maps label names to ids (typically the train set's label_names()); a name not in it is an
  // error. Empty: integer labels are kept, string labels get ids in sorted order.
  std::vector<std::string> label_names;
  bool labels_required = true;           // a missing label column is an error
};

class Dataset {
 public:
  Dataset() = default;
  explicit Dataset(std::vector<Example> examples, std::vector<std::string> label_names = {});

  // By extension: .csv, .tsv/.tab, .jsonl/.json (JSON lines). IOError / FormatError name the
  // file, the line and the column.
  static Dataset from_file(const std::string& path, const DataFileOptions& options = {});

  size_t size() const { return examples_.size(); }
  bool empty() const { return examples_.empty(); }
  const Example& operator[](size_t i) const { return examples_.at(i); }
  Example& operator[](size_t i) { return examples_.at(i); }
  const std::vector<Example>& examples() const { return examples_; }

  // id -> name of the labels (empty when labels were integers without names).
  const std::vector<std::string>& label_names() const { return label_names_; }
  // The number of classes: label_names().size(), else 1 + the largest label.
  int64_t num_labels() const;
  std::map<int64_t, std::string> id2label() const;

  Dataset select(const std::vector<size_t>& indices) const;
  // A permutation drawn from mt19937_64(seed) (Fisher-Yates): the same seed, the same order.
  Dataset shuffle(uint64_t seed) const;
  struct Split;
  // test_size in (0, 1) is a fraction, >= 1 a count. stratify: each label keeps its share in
  // both parts (classification labels only).
  Split train_test_split(double test_size, uint64_t seed = 42, bool stratify = false) const;

  // Calls fn on consecutive batches of examples (in place), as datasets' map(batched=True).
  Dataset& map(const std::function<void(std::span<Example>)>& fn, size_t batch_size = 1000);
  // Tokenizes every example (text, text_pair or words) in batches; no padding (collators pad).
  Dataset& tokenize(const AutoTokenizer& tok, const tokenizers::CallOptions& options, size_t batch_size = 1000);
  // The same with truncation on (to the tokenizer's model_max_length).
  Dataset& tokenize(const AutoTokenizer& tok, size_t batch_size = 1000);

 private:
  std::vector<Example> examples_;
  std::vector<std::string> label_names_;
};

struct Dataset::Split {
  Dataset train, test;
};

// Parses CSV text (RFC 4180: quoted fields with "" escapes and embedded newlines) with the
// given delimiter into rows of fields. `file` names the source in errors.
std::vector<std::vector<std::string>> parse_delimited(const std::string& text, char delimiter, const std::string& file);

}  // namespace cppformers
