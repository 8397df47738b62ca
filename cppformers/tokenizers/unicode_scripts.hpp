#pragma once
// The UnicodeScripts pre-tokenizer (tokenizer.json {"type": "UnicodeScripts"}) and the script
// table it stands on. As the Rust library: a split starts wherever a character's script differs
// from the script of the last character that had one; Hiragana, Katakana and U+30FC count as Han;
// the space (U+0020) and every code point the table does not list belong to "Any", which joins
// whatever surrounds it (so leading Any characters of a split are dropped, and an all-Any split
// vanishes). The table is the Unicode 9.0 Script property, the one the library ships.
#include <cstdint>
#include <memory>
#include <string_view>

#include "cppformers/tokenizers/pre_tokenizers.hpp"

namespace cppformers::tokenizers {

namespace unicode {
// The Unicode 9.0 Script of c, as an index into script_name(); 0 ("Any") when the table does not
// list c (unassigned in 9.0, private use, surrogates, noncharacters, or > U+10FFFF).
uint8_t script(char32_t c);
std::string_view script_name(uint8_t script);
// The script the UnicodeScripts pre-tokenizer compares (Rust `fixed_script`).
uint8_t pre_tokenizer_script(char32_t c);
}  // namespace unicode

std::unique_ptr<PreTokenizer> make_unicode_scripts_pre_tokenizer();

}  // namespace cppformers::tokenizers
