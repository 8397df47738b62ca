#pragma once
// Added tokens (tokenizer.json "added_tokens"): matched in the raw text (normalized: false) or in
// the normalized text (normalized: true) before the model runs, with single_word / lstrip /
// rstrip handling, leftmost-longest as the Rust library's Aho-Corasick matcher.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cppformers/tokenizers/json_util.hpp"
#include "cppformers/tokenizers/pre_tokenized_string.hpp"

namespace cppformers::tokenizers {

class Model;
class Normalizer;

struct AddedToken {
  uint32_t id = 0;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

class AddedVocabulary {
 public:
  // tokens in file order; ids: from the model vocabulary when it has the content, else the file's.
  void build(std::vector<AddedToken> tokens, const Model& model, const Normalizer* normalizer);

  // Splits the input on added tokens, normalizing the rest (Rust `extract_and_normalize`).
  PreTokenizedString extract_and_normalize(const Normalizer* normalizer, const std::string& text) const;

  std::optional<uint32_t> token_to_id(std::string_view content) const;
  std::optional<std::string> id_to_token(uint32_t id) const;
  bool is_special(std::string_view content) const { return special_set_.count(std::string(content)) > 0; }
  const std::vector<AddedToken>& tokens() const { return all_; }

  // The pieces of s cut by the added tokens matched in raw (normalized: false) or in normalized
  // text: (token id or none, byte range), covering s in order. Empty when none can match.
  using Pieces = std::vector<std::pair<std::optional<uint32_t>, Offsets>>;
  bool has_raw() const { return !raw_.empty(); }
  bool has_normalized() const { return !normalized_.empty(); }
  Pieces find_raw(std::string_view s) const { return raw_.find(s, *this); }
  Pieces find_normalized(std::string_view s) const { return normalized_.find(s, *this); }

 private:
  // A byte trie with leftmost-longest search.
  struct Matcher {
    struct Node {
      std::unordered_map<unsigned char, int> next;
      int pattern = -1;
    };
    std::vector<Node> nodes{1};
    std::vector<uint32_t> ids;  // pattern -> token id
    bool first[256] = {};
    void add(const std::string& s, uint32_t id);
    // (token id or none, byte range) pieces covering s
    std::vector<std::pair<std::optional<uint32_t>, Offsets>> find(std::string_view s, const AddedVocabulary& v) const;
    bool empty() const { return ids.empty(); }
  };
  std::vector<Split> split_with(NormalizedString&& s, const Matcher& m) const;

  std::vector<AddedToken> all_;
  std::unordered_map<std::string, uint32_t> content_to_id_;
  std::unordered_map<uint32_t, size_t> id_to_index_;
  std::unordered_set<std::string> special_set_;
  Matcher raw_, normalized_;
};

}  // namespace cppformers::tokenizers
