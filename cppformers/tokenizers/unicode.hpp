#pragma once
// Unicode helpers for the tokenizers: UTF-8 coding, the character predicates Rust's `char`
// offers (is_whitespace, is_alphanumeric, ...), and normalization forms that report, per output
// character, how it changes the text (the (char, change) stream NormalizedString::transform eats).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppformers::tokenizers::unicode {

// One output character and its change: 0 replaces the current input char, 1 is inserted,
// -N replaces the current one and removes the N following input chars.
using CharChange = std::pair<char32_t, int>;

// Decodes the code point starting at s[i] (s must be valid UTF-8) and advances i.
inline char32_t next_char(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { ++i; return c; }
  if (c < 0xE0) { char32_t r = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F); i += 2; return r; }
  if (c < 0xF0) {
    char32_t r = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    i += 3;
    return r;
  }
  char32_t r = ((c & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
  i += 4;
  return r;
}
// Length in bytes of the UTF-8 sequence led by byte c (valid UTF-8 assumed).
inline size_t char_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }
inline size_t utf8_len(char32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }
void append_utf8(std::string& out, char32_t c);
std::string to_utf8(char32_t c);
std::u32string to_u32(std::string_view s);
size_t count_chars(std::string_view s);

// Index of the first invalid byte, or npos when s is valid UTF-8 (no surrogates, <= U+10FFFF).
size_t find_invalid_utf8(std::string_view s);
// Rust's String::from_utf8_lossy: each maximal invalid subpart becomes U+FFFD.
std::string from_utf8_lossy(std::string_view bytes);

// Rust char predicates.
bool is_whitespace(char32_t c);     // White_Space property
bool is_alphabetic(char32_t c);     // approximation of the Alphabetic property
bool is_numeric(char32_t c);        // Nd | Nl | No
bool is_alphanumeric(char32_t c);   // alphabetic || numeric
bool is_punctuation(char32_t c);    // P*
bool is_other(char32_t c);          // C* (Cc Cf Cs Co Cn)
bool is_mark(char32_t c);           // M*
bool is_mark_nonspacing(char32_t c);  // Mn
bool is_word_char_regex(char32_t c);  // Rust regex crate's \w
bool is_bert_punctuation(char32_t c);
bool is_chinese_char(char32_t c);

// Rust's char::to_lowercase (full mapping, no context).
void to_lowercase(char32_t c, std::u32string& out);

// Normalization forms with per-char changes, as the unicode-normalization-alignments crate.
enum class Form { NFD, NFKD, NFC, NFKC };
std::vector<CharChange> normalize_with_changes(std::string_view s, Form form);
std::string normalize(std::string_view s, Form form);

// Splits s into extended grapheme clusters (byte ranges).
std::vector<std::pair<size_t, size_t>> graphemes(std::string_view s);

}  // namespace cppformers::tokenizers::unicode
