#include "cppformers/tokenizers/unicode.hpp"

#include <utf8proc.h>

#include <algorithm>

namespace cppformers::tokenizers::unicode {

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string to_utf8(char32_t c) {
  std::string s;
  append_utf8(s, c);
  return s;
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out.push_back(next_char(s, i));
  return out;
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid; sets `good` to the length of the
// longest valid prefix of a sequence (the maximal subpart) when invalid.
static size_t valid_seq(std::string_view s, size_t i, size_t& maximal) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  maximal = 1;
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) need = 1;
  else if (c == 0xE0) { need = 2; lo = 0xA0; }
  else if (c >= 0xE1 && c <= 0xEC) need = 2;
  else if (c == 0xED) { need = 2; hi = 0x9F; }
  else if (c >= 0xEE && c <= 0xEF) need = 2;
  else if (c == 0xF0) { need = 3; lo = 0x90; }
  else if (c >= 0xF1 && c <= 0xF3) need = 3;
  else if (c == 0xF4) { need = 3; hi = 0x8F; }
  else return 0;
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return 0;
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) return 0;
    maximal = k + 1;
  }
  return need + 1;
}

size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
    size_t m;
    size_t n = valid_seq(s, i, m);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string from_utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) { out.push_back(s[i++]); continue; }
    size_t m;
    size_t n = valid_seq(s, i, m);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += m;
    }
  }
  return out;
}

bool is_whitespace(char32_t c) {
  return (c >= 0x9 && c <= 0xD) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

static inline utf8proc_category_t cat(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool is_alphabetic(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  switch (cat(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
      return true;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: {
      // Other_Alphabetic covers most vowel signs; approximate with the marks of letters' scripts.
      const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
      return p->combining_class == 0 && c != 0x034F && !(c >= 0xFE00 && c <= 0xFE0F) &&
             !(c >= 0xE0100 && c <= 0xE01EF) && !(c >= 0x180B && c <= 0x180F);
    }
    default:
      return (c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) ||
             (c >= 0x1F150 && c <= 0x1F169) || (c >= 0x1F170 && c <= 0x1F189);
  }
}

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

bool is_alphanumeric(char32_t c) { return is_alphabetic(c) || is_numeric(c); }

bool is_punctuation(char32_t c) {
  auto k = cat(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool is_other(char32_t c) {
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CS ||
         k == UTF8PROC_CATEGORY_CO || k == UTF8PROC_CATEGORY_CN;
}

bool is_mark(char32_t c) {
  if (c < 0x300) return false;
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_ME;
}

bool is_mark_nonspacing(char32_t c) { return c >= 0x300 && cat(c) == UTF8PROC_CATEGORY_MN; }

bool is_word_char_regex(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
  if (c == 0x200C || c == 0x200D) return true;
  if (is_alphabetic(c) || is_mark(c)) return true;
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_PC;
}

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80)
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return is_punctuation(c);
}

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

void to_lowercase(char32_t c, std::u32string& out) {
  if (c < 0x80) {
    out.push_back((c >= 'A' && c <= 'Z') ? c + 32 : c);
    return;
  }
  if (c == 0x130) {  // the only unconditional multi-char lowercase mapping
    out.push_back(U'i');
    out.push_back(0x307);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

// ---- normalization with changes (port of the decomposition/recomposition iterators) ----

static inline int ccc(char32_t c) {
  if (c < 0x300) return 0;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

static void decompose_char(char32_t c, bool compat, std::vector<char32_t>& out) {
  if (c < 0xC0) {
    if (!compat || c < 0xA0) { out.push_back(c); return; }
  }
  utf8proc_int32_t buf[32];
  int last = 0;
  utf8proc_option_t opt = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0));
  utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32, opt, &last);
  if (n <= 0 || n > 32) { out.push_back(c); return; }
  for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back(static_cast<char32_t>(buf[k]));
}

static bool compose_pair(char32_t a, char32_t b, char32_t& r) {
  utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
  utf8proc_ssize_t n = utf8proc_normalize_utf32(buf, 2, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  if (n == 1) { r = static_cast<char32_t>(buf[0]); return true; }
  return false;
}

struct Dec { int cls; char32_t c; int change; };

static std::vector<CharChange> decompose_stream(std::string_view s, bool compat) {
  std::vector<CharChange> out;
  out.reserve(s.size());
  std::vector<Dec> pending;  // chars after the last starter, to be sorted by class
  std::vector<char32_t> d;
  auto flush = [&]() {
    std::stable_sort(pending.begin(), pending.end(), [](const Dec& x, const Dec& y) { return x.cls < y.cls; });
    for (auto& p : pending) out.emplace_back(p.c, p.change);
    pending.clear();
  };
  for (size_t i = 0; i < s.size();) {
    char32_t c = next_char(s, i);
    d.clear();
    decompose_char(c, compat, d);
    bool first = true;
    for (char32_t x : d) {
      int cl = ccc(x);
      if (cl == 0) flush();
      pending.push_back({cl, x, first ? 0 : 1});
      first = false;
    }
  }
  flush();
  return out;
}

static std::vector<CharChange> recompose_stream(const std::vector<CharChange>& in) {
  std::vector<CharChange> out;
  out.reserve(in.size());
  std::vector<CharChange> buffer;
  bool has_composee = false;
  CharChange composee{0, 0};
  int last_ccc = -1;  // -1 = None
  for (const auto& [ch, change] : in) {
    int ch_class = ccc(ch);
    if (!has_composee) {
      if (ch_class != 0) { out.emplace_back(ch, change); continue; }
      composee = {ch, change};
      has_composee = true;
      continue;
    }
    char32_t r;
    if (last_ccc < 0) {
      if (compose_pair(composee.first, ch, r)) {
        composee = {r, composee.second + change - 1};
        continue;
      }
      if (ch_class == 0) {
        out.push_back(composee);
        composee = {ch, change};
        continue;
      }
      buffer.emplace_back(ch, change);
      last_ccc = ch_class;
    } else {
      if (last_ccc >= ch_class) {
        if (ch_class == 0) {
          out.push_back(composee);
          for (auto& b : buffer) out.push_back(b);
          buffer.clear();
          composee = {ch, change};
          last_ccc = -1;
          continue;
        }
        buffer.emplace_back(ch, change);
        last_ccc = ch_class;
        continue;
      }
      if (compose_pair(composee.first, ch, r)) {
        composee = {r, composee.second + change - 1};
        continue;
      }
      buffer.emplace_back(ch, change);
      last_ccc = ch_class;
    }
  }
  if (has_composee) out.push_back(composee);
  for (auto& b : buffer) out.push_back(b);
  return out;
}

std::vector<CharChange> normalize_with_changes(std::string_view s, Form form) {
  bool compat = form == Form::NFKD || form == Form::NFKC;
  auto d = decompose_stream(s, compat);
  if (form == Form::NFD || form == Form::NFKD) return d;
  return recompose_stream(d);
}

std::string normalize(std::string_view s, Form form) {
  std::string out;
  for (auto& [c, ch] : normalize_with_changes(s, form)) append_utf8(out, c);
  return out;
}

std::vector<std::pair<size_t, size_t>> graphemes(std::string_view s) {
  std::vector<std::pair<size_t, size_t>> out;
  if (s.empty()) return out;
  utf8proc_int32_t state = 0;
  size_t start = 0, i = 0;
  char32_t prev = next_char(s, i);
  while (i < s.size()) {
    size_t pos = i;
    char32_t c = next_char(s, i);
    if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev), static_cast<utf8proc_int32_t>(c), &state)) {
      out.emplace_back(start, pos);
      start = pos;
    }
    prev = c;
  }
  out.emplace_back(start, s.size());
  return out;
}

}  // namespace cppformers::tokenizers::unicode
