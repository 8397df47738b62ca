#pragma once
// Tokenizer training, as the Rust `tokenizers` library does it and as Python's
// `PreTrainedTokenizerFast.train_new_from_iterator` drives it:
//
//   WordCounts words = count_training_words(tokenizer_json, texts);   // normalizer + pre-tokenizer
//   BpeTrainResult r = train_bpe(words, {.vocab_size = 8000});         // BpeTrainer
//   std::string new_json = train_new_from_iterator(old_json_text, texts, {.vocab_size = 8000});
//
// BPE (BpeTrainer): special tokens first, then the alphabet (characters of the words plus
// initial_alphabet, cut to limit_alphabet by frequency, sorted by code point), then one token
// per merge of the most frequent adjacent pair (ties: the smaller pair of ids first), counted over
// the words weighted by their counts, until vocab_size or no pair reaches min_frequency.
// WordPiece (WordPieceTrainer) is the same training with continuing_subword_prefix "##"; the
// vocabulary is the result, without merges.
//
// Where the Rust library iterates a hash map with a random seed (so that two of its own runs can
// differ), this one is deterministic: the ids of the prefixed/suffixed characters ("##a", ...)
// follow code-point order, alphabet ties under limit_alphabet drop the smaller code point first.
// Everything else (merge order, tie-breaking, pair-count bookkeeping, duplicate merges) follows
// the Rust trainer step by step; byte-level BPE, which has no such hash-order dependence, comes
// out identical to it.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cppformers/tokenizers/added_vocabulary.hpp"
#include "cppformers/tokenizers/json_util.hpp"

namespace cppformers::tokenizers {

// Word -> count, kept in first-seen order.
class WordCounts {
 public:
  void add(std::string_view word, uint64_t n = 1);
  void merge(const WordCounts& other);
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<std::pair<std::string, uint64_t>>& entries() const { return entries_; }
  std::optional<uint64_t> count(std::string_view word) const;

 private:
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::pair<std::string, uint64_t>> entries_;
};

struct BpeTrainerOptions {
  size_t vocab_size = 30000;
  uint64_t min_frequency = 0;
  // Added to the vocabulary first, in this order (only `content` matters to training).
  std::vector<AddedToken> special_tokens;
  std::optional<size_t> limit_alphabet;
  std::vector<char32_t> initial_alphabet;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  std::optional<size_t> max_token_length;  // in characters
  // The id order of the prefixed/suffixed characters ("##a", ...), which the Rust trainer takes
  // from its hash map's iteration order: these strings get their ids first, in this order (to
  // reproduce one particular Rust run); any others follow in code-point order.
  std::vector<std::string> decorated_alphabet_order;
  bool show_progress = false;  // a progress line on stderr
};

struct BpeTrainResult {
  std::vector<std::string> vocab;                           // id -> token
  std::vector<std::pair<std::string, std::string>> merges;  // by rank
  std::optional<std::string> continuing_subword_prefix, end_of_word_suffix;
};

BpeTrainResult train_bpe(const WordCounts& words, const BpeTrainerOptions& options);
// WordPieceTrainer: train_bpe with continuing_subword_prefix "##" unless options set one.
BpeTrainResult train_wordpiece(const WordCounts& words, BpeTrainerOptions options);

// The 256 characters of the byte-level alphabet (pre_tokenizers.ByteLevel.alphabet()).
std::vector<char32_t> byte_level_alphabet();

// Counts the words training sees in `texts`: each text normalized by tokenizer_json's
// normalizer and cut by its pre-tokenizer (added tokens are not split out, as in the Rust
// library's Tokenizer::train). Texts are processed on all cores; counts keep first-seen order.
WordCounts count_training_words(const json& tokenizer_json, const std::vector<std::string>& texts,
                                const std::string& name = "tokenizer.json");

struct TrainNewOptions {
  size_t vocab_size = 30000;
  uint64_t min_frequency = 0;
  std::optional<size_t> limit_alphabet;
  std::vector<char32_t> initial_alphabet;       // added to ByteLevel's when the pre-tokenizer has it
  std::vector<AddedToken> new_special_tokens;   // appended to the old special tokens
  std::map<std::string, std::string> special_tokens_map;  // old content -> new content
  std::optional<std::string> continuing_subword_prefix;   // BPE: default the old model's
  std::optional<std::string> end_of_word_suffix;          // BPE: default the old model's
  std::optional<size_t> max_token_length;
  bool show_progress = false;
};

// Python's train_new_from_iterator on a tokenizer.json (its text): a tokenizer with the same
// normalizer, pre-tokenizer, post-processor (special-token ids updated), decoder and model
// options, with a vocabulary (and merges) trained on `texts`, and the old special tokens (and
// new_special_tokens) as its added tokens. Returns the new tokenizer.json text (pretty, the
// Rust library's key order). BPE and WordPiece models; others throw FormatError.
std::string train_new_from_iterator(const std::string& tokenizer_json_text, const std::vector<std::string>& texts,
                                    const TrainNewOptions& options, const std::string& name = "tokenizer.json");

// The same for a tokenizer folder: reads FROM/tokenizer.json, writes OUT/tokenizer.json and
// copies tokenizer_config.json / special_tokens_map.json (the ids of added_tokens_decoder
// renumbered to the new vocabulary).
void train_new_tokenizer_folder(const std::string& from_dir, const std::vector<std::string>& texts,
                                const TrainNewOptions& options, const std::string& out_dir);

}  // namespace cppformers::tokenizers
