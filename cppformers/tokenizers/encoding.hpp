#pragma once
// Encoding: the output of a tokenizer for one input (or pair), with the same fields and the same
// truncation / merging / padding rules as the Rust library's `Encoding`.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cppformers::tokenizers {

using Offsets = std::pair<size_t, size_t>;

struct Token {
  uint32_t id;
  std::string value;
  Offsets offsets;
};

enum class TruncationDirection { Left, Right };
enum class PaddingDirection { Left, Right };
enum class TruncationStrategy { LongestFirst, OnlyFirst, OnlySecond };

struct TruncationParams {
  size_t max_length = 512;
  TruncationStrategy strategy = TruncationStrategy::LongestFirst;
  size_t stride = 0;
  TruncationDirection direction = TruncationDirection::Right;
};

struct PaddingParams {
  bool fixed = false;           // false: pad to the longest of the batch
  size_t fixed_length = 0;
  PaddingDirection direction = PaddingDirection::Right;
  size_t pad_to_multiple_of = 0;  // 0: none
  uint32_t pad_id = 0;
  uint32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

class Encoding {
 public:
  std::vector<uint32_t> ids;
  std::vector<uint32_t> type_ids;
  std::vector<std::string> tokens;
  std::vector<std::optional<uint32_t>> words;
  std::vector<Offsets> offsets;
  std::vector<uint32_t> special_tokens_mask;
  std::vector<uint32_t> attention_mask;
  std::vector<Encoding> overflowing;
  std::map<size_t, std::pair<size_t, size_t>> sequence_ranges;  // seq id -> [start, end)

  size_t size() const { return ids.size(); }
  bool empty() const { return ids.empty(); }

  static Encoding from_tokens(const std::vector<Token>& tokens, uint32_t type_id);
  void push(uint32_t id, std::string token, Offsets off, std::optional<uint32_t> word, uint32_t type_id,
            uint32_t special, uint32_t attention);

  // Also marks the overflowing parts (the goldens of 0.22.2 show them with their own ranges).
  void set_sequence_id(size_t id) {
    sequence_ranges[id] = {0, size()};
    for (auto& o : overflowing) o.set_sequence_id(id);
  }
  void set_type_ids(uint32_t type_id) { type_ids.assign(size(), type_id); }
  std::vector<std::optional<uint32_t>> sequence_ids() const;

  // Throws ValueError when stride >= max_len (> 0).
  void truncate(size_t max_len, size_t stride, TruncationDirection direction);
  void merge_with(Encoding pair, bool growing_offsets);
  static Encoding merge(std::vector<Encoding> encodings, bool growing_offsets);
  void pad(size_t target_length, uint32_t pad_id, uint32_t pad_type_id, const std::string& pad_token,
           PaddingDirection direction);
};

// Truncates a single encoding or a pair per `params` (the Rust `truncate_encodings`).
void truncate_encodings(Encoding& encoding, Encoding* pair, const TruncationParams& params);
// Pads a batch per `params` (the Rust `pad_encodings`).
void pad_encodings(std::vector<Encoding>& encodings, const PaddingParams& params);

}  // namespace cppformers::tokenizers
