#pragma once
// The GPT-2 byte-to-unicode alphabet shared by the ByteLevel pre-tokenizer, post-processor and decoder.
#include <array>
#include <cstdint>

namespace cppformers::tokenizers::byte_level {

// The code point that stands for byte b.
char32_t byte_to_char(uint8_t b);
// The byte a code point stands for, or -1 if it is not in the alphabet.
int char_to_byte(char32_t c);

}  // namespace cppformers::tokenizers::byte_level
