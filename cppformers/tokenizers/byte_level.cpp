#include "cppformers/tokenizers/byte_level.hpp"

#include <unordered_map>

namespace cppformers::tokenizers::byte_level {
namespace {
struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int, 512> to_byte{};
  Tables() {
    to_byte.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char32_t c = keep ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      to_char[b] = c;
      to_byte[c] = b;
    }
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}
}  // namespace

char32_t byte_to_char(uint8_t b) { return tables().to_char[b]; }
int char_to_byte(char32_t c) { return c < 512 ? tables().to_byte[c] : -1; }

}  // namespace cppformers::tokenizers::byte_level
