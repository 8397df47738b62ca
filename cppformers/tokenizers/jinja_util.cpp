#include "cppformers/tokenizers/jinja_util.hpp"

#include <utf8proc.h>

#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers::jinja::util {

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  const size_t n = s.size();
  auto cont = [&](size_t k) { return k < n && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80; };
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    char32_t cp = 0;
    size_t len = 0;
    if (c < 0x80) cp = c, len = 1;
    else if (c >= 0xC2 && c < 0xE0 && cont(i + 1)) cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3F), len = 2;
    else if (c >= 0xE0 && c < 0xF0 && cont(i + 1) && cont(i + 2)) {
      cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3F);
      len = (cp >= 0x800 && !(cp >= 0xD800 && cp <= 0xDFFF)) ? 3 : 0;
    } else if (c >= 0xF0 && c < 0xF5 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3F);
      len = (cp >= 0x10000 && cp <= 0x10FFFF) ? 4 : 0;
    }
    if (len == 0) {  // an invalid byte: kept as a lone surrogate, as Python's surrogateescape does
      out.push_back(0xDC00 + c);
      ++i;
    } else {
      out.push_back(cp);
      i += len;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (is_surrogate_escape(c)) out.push_back(static_cast<char>(c & 0xFF));
  else unicode::append_utf8(out, c);
}

std::string encode(std::u32string_view u) {
  std::string out;
  out.reserve(u.size());
  for (char32_t c : u) append_utf8(out, c);
  return out;
}

size_t count_chars(std::string_view s) {
  bool ascii = true;
  for (unsigned char c : s) ascii &= c < 0x80;
  return ascii ? s.size() : decode(s).size();
}

static utf8proc_category_t cat(char32_t c) {
  if (c > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

bool is_space(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
    case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

bool is_printable(char32_t c) {
  if (c == ' ') return true;
  if (is_surrogate_escape(c)) return false;
  switch (cat(c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
      return false;
    default: return true;
  }
}

bool is_alpha(char32_t c) {
  switch (cat(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default: return false;
  }
}
bool is_decimal(char32_t c) { return cat(c) == UTF8PROC_CATEGORY_ND; }
bool is_digit(char32_t c) {
  // Decimal digits plus the superscript/circled digits Python counts (Numeric_Type=Digit), approximately.
  return is_decimal(c) || c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0x2070 && c <= 0x2079 && c != 0x2071 &&
                                                                   c != 0x2072 && c != 0x2073) ||
         (c >= 0x2080 && c <= 0x2089) || (c >= 0x2460 && c <= 0x2468) || (c >= 0x2474 && c <= 0x247C) ||
         (c >= 0x2488 && c <= 0x2490) || (c >= 0x24F5 && c <= 0x24FD) || c == 0x24EA || c == 0x24FF ||
         (c >= 0x2776 && c <= 0x277E) || (c >= 0x2780 && c <= 0x2788) || (c >= 0x278A && c <= 0x2792);
}
bool is_numeric(char32_t c) {
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO || is_digit(c);
}
bool is_upper(char32_t c) { return c <= 0x10FFFF && utf8proc_isupper(static_cast<utf8proc_int32_t>(c)); }
bool is_lower(char32_t c) { return c <= 0x10FFFF && utf8proc_islower(static_cast<utf8proc_int32_t>(c)); }
bool is_cased(char32_t c) {
  return is_upper(c) || is_lower(c) || cat(c) == UTF8PROC_CATEGORY_LT;
}

void to_upper(char32_t c, std::u32string& out) {
  if (c < 0x80) {
    out.push_back(c >= 'a' && c <= 'z' ? c - 32 : c);
    return;
  }
  switch (c) {  // the full (one-to-many) mappings met in text; the rest map one to one
    case 0xDF: out += U"SS"; return;
    case 0xFB00: out += U"FF"; return;
    case 0xFB01: out += U"FI"; return;
    case 0xFB02: out += U"FL"; return;
    case 0xFB03: out += U"FFI"; return;
    case 0xFB04: out += U"FFL"; return;
    case 0xFB05: case 0xFB06: out += U"ST"; return;
    case 0x149: out += U"\u02BCN"; return;
    default: break;
  }
  if (c > 0x10FFFF || is_surrogate_escape(c)) {
    out.push_back(c);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))));
}

void to_lower(char32_t c, std::u32string& out) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  if (c > 0x10FFFF || is_surrogate_escape(c)) {
    out.push_back(c);
    return;
  }
  unicode::to_lowercase(c, out);
}

void to_title(char32_t c, std::u32string& out) {
  switch (c) {
    case 0xDF: out += U"Ss"; return;
    case 0xFB01: out += U"Fi"; return;
    case 0xFB02: out += U"Fl"; return;
    default: break;
  }
  if (c > 0x10FFFF || is_surrogate_escape(c)) {
    out.push_back(c);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c))));
}

std::string upper(std::string_view s) {
  std::u32string out;
  for (char32_t c : decode(s)) to_upper(c, out);
  return encode(out);
}
std::string lower(std::string_view s) {
  std::u32string out;
  for (char32_t c : decode(s)) to_lower(c, out);
  return encode(out);
}

}  // namespace cppformers::tokenizers::jinja::util
