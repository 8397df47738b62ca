#include "cppformers/tokenizers/model_simple.hpp"

#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

WordPiece::WordPiece(const json& j, const std::string& where)
    : unk_token_(get_string_or(j, "unk_token", where, "[UNK]")),
      prefix_(get_string_or(j, "continuing_subword_prefix", where, "##")),
      max_chars_(get_uint_or(j, "max_input_chars_per_word", where, 100)) {
  parse_vocab_map(j, where, vocab_, ids_);
}

std::optional<uint32_t> WordPiece::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
}
std::optional<std::string> WordPiece::id_to_token(uint32_t id) const {
  return ids_.get(vocab_, id);
}

Token WordPiece::unk(const std::string& word) const {
  auto it = vocab_.find(unk_token_);
  if (it == vocab_.end()) throw ValueError("WordPiece: unk_token '" + unk_token_ + "' is not in the vocabulary");
  return {it->second, unk_token_, {0, word.size()}};
}

std::vector<Token> WordPiece::tokenize(const std::string& word) const {
  if (unicode::count_chars(word) > max_chars_) return {unk(word)};
  std::vector<Token> out;
  size_t start = 0;
  std::string sub;
  while (start < word.size()) {
    size_t end = word.size();
    bool found = false;
    while (start < end) {
      sub.clear();
      if (start > 0) sub = prefix_;
      sub.append(word, start, end - start);
      auto it = vocab_.find(sub);
      if (it != vocab_.end()) {
        out.push_back({it->second, sub, {start, end}});
        found = true;
        break;
      }
      // drop the last char of the piece
      size_t k = end - 1;
      while (k > start && (static_cast<unsigned char>(word[k]) & 0xC0) == 0x80) --k;
      end = k;
    }
    if (!found) return {unk(word)};
    start = end;
  }
  return out;
}

WordLevel::WordLevel(const json& j, const std::string& where)
    : unk_token_(get_string_or(j, "unk_token", where, "<unk>")) {
  parse_vocab_map(j, where, vocab_, ids_);
}

std::optional<uint32_t> WordLevel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
}
std::optional<std::string> WordLevel::id_to_token(uint32_t id) const {
  return ids_.get(vocab_, id);
}

std::vector<Token> WordLevel::tokenize(const std::string& word) const {
  auto it = vocab_.find(word);
  if (it != vocab_.end()) return {Token{it->second, word, {0, word.size()}}};
  auto u = vocab_.find(unk_token_);
  if (u == vocab_.end()) throw ValueError("WordLevel: '" + word + "' is not in the vocabulary and unk_token '" + unk_token_ + "' is missing");
  return {Token{u->second, unk_token_, {0, word.size()}}};
}

}  // namespace cppformers::tokenizers
