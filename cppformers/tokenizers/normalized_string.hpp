#pragma once
// NormalizedString: an original string, its normalized version, and for every byte of the
// normalized one the byte range of the original it came from — the same bookkeeping as the Rust
// `tokenizers` library, so offsets come out identical. Also the split patterns and behaviours.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

class Regex;
using Offsets = std::pair<size_t, size_t>;

// One piece of a string cut by a pattern: a byte range and whether it is a match.
struct PatternMatch {
  size_t start, end;
  bool is_match;
};

// Something to split or replace on. Its find() covers the whole string with matches and
// non-matches, in order, exactly like the Rust `Pattern::find_matches`.
class Pattern {
 public:
  static Pattern regex(const Regex& re);
  static Pattern literal(std::string s);
  static Pattern character(char32_t c);
  static Pattern predicate(std::function<bool(char32_t)> f);
  Pattern inverted() const;

  std::vector<PatternMatch> find(std::string_view s) const;

 private:
  enum class Kind { Regex, Literal, Char, Predicate } kind_ = Kind::Literal;
  const Regex* regex_ = nullptr;
  std::string literal_;
  char32_t ch_ = 0;
  std::function<bool(char32_t)> pred_;
  bool invert_ = false;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
// Parses "Removed", "Isolated", ...; throws FormatError naming `where` otherwise.
SplitBehavior parse_split_behavior(const std::string& s, const std::string& where);

class NormalizedString {
 public:
  NormalizedString() = default;
  explicit NormalizedString(std::string s);

  const std::string& get() const { return normalized_; }
  const std::string& get_original() const { return original_; }
  bool empty() const { return normalized_.empty(); }
  size_t len() const { return normalized_.size(); }
  size_t len_original() const { return original_.size(); }
  Offsets offsets_original() const { return {original_shift_, original_shift_ + original_.size()}; }
  const std::vector<Offsets>& alignments() const { return alignments_; }

  // Normalized byte range -> original byte range (relative to this string's original).
  std::optional<Offsets> convert_normalized_range(size_t start, size_t end) const;
  // A sub-string by normalized byte range (must be on char boundaries).
  std::optional<NormalizedString> slice(size_t start, size_t end) const;

  void transform_range(size_t start, size_t end, const std::vector<unicode::CharChange>& dest,
                       size_t initial_offset);
  void transform(const std::vector<unicode::CharChange>& dest, size_t initial_offset) {
    transform_range(0, normalized_.size(), dest, initial_offset);
  }

  void nfd() { apply_form(unicode::Form::NFD); }
  void nfkd() { apply_form(unicode::Form::NFKD); }
  void nfc() { apply_form(unicode::Form::NFC); }
  void nfkc() { apply_form(unicode::Form::NFKC); }
  void lowercase();
  void filter(const std::function<bool(char32_t)>& keep);
  void map(const std::function<char32_t(char32_t)>& f);
  void prepend(std::string_view s);
  void append(std::string_view s);
  void lrstrip(bool left, bool right);
  void replace(const Pattern& pattern, std::string_view content);

  std::vector<NormalizedString> split(const Pattern& pattern, SplitBehavior behavior) const;

 private:
  void apply_form(unicode::Form form);

  std::string original_;
  std::string normalized_;
  std::vector<Offsets> alignments_;  // one per byte of normalized_
  size_t original_shift_ = 0;
};

}  // namespace cppformers::tokenizers
