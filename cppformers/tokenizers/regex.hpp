#pragma once
// PCRE2 (UTF + Unicode properties + JIT) behind a small interface: the patterns that
// tokenizer.json files carry (written for Oniguruma) are compiled once and matched many times.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppformers::tokenizers {

class Regex {
 public:
  // Throws FormatError (naming `where`) if the pattern does not compile.
  explicit Regex(const std::string& pattern, const std::string& where = "regex");
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // All non-overlapping matches, left to right, as byte ranges. Empty matches are reported and
  // the search then moves on by one character.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;
  // The same, appended to `out` (no allocation once `out` has grown).
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  const std::string& pattern() const { return pattern_; }

  static std::string escape(std::string_view literal);

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code*
};

}  // namespace cppformers::tokenizers
