#pragma once
// Internal helpers of the Jinja engine: code points (invalid UTF-8 bytes survive as
// U+DC80..U+DCFF, Python's surrogateescape), Python's str predicates and case mappings, ordering.
#include <string>
#include <string_view>

#include "cppformers/tokenizers/jinja.hpp"

namespace cppformers::tokenizers::jinja::util {

inline bool is_surrogate_escape(char32_t c) { return c >= 0xDC80 && c <= 0xDCFF; }
std::u32string decode(std::string_view s);
void append_utf8(std::string& out, char32_t c);
std::string encode(std::u32string_view u);
size_t count_chars(std::string_view s);

// Python's str predicates, per character.
bool is_space(char32_t c);
bool is_printable(char32_t c);
bool is_alpha(char32_t c);
bool is_decimal(char32_t c);
bool is_digit(char32_t c);
bool is_numeric(char32_t c);
bool is_upper(char32_t c);
bool is_lower(char32_t c);
bool is_cased(char32_t c);
// Python's str.upper() / lower() / title-casing of one character (full mappings where they differ).
void to_upper(char32_t c, std::u32string& out);
void to_lower(char32_t c, std::u32string& out);
void to_title(char32_t c, std::u32string& out);
std::string upper(std::string_view s);
std::string lower(std::string_view s);

// Python's <, > ... between two values: -1, 0, 1; TemplateRuntimeError when not comparable.
int py_compare(const Value& a, const Value& b, const char* op);
// json.dumps with a string indent.
std::string json_dumps_indent_str(const Value& v, const std::string& indent, bool sort_keys, const std::string* isep,
                                  const std::string* ksep);
std::string py_str_repr_of(const std::string& s);

}  // namespace cppformers::tokenizers::jinja::util
