#include "cppformers/generation/streamers.hpp"

namespace cppformers {

size_t utf8_complete_prefix(const std::string& s) {
  size_t n = s.size();
  // drop trailing U+FFFD (EF BF BD): a token that decodes to part of a character
  while (n >= 3 && (unsigned char)s[n - 3] == 0xEF && (unsigned char)s[n - 2] == 0xBF && (unsigned char)s[n - 1] == 0xBD) n -= 3;
  // drop a trailing incomplete sequence
  size_t i = n;
  size_t back = 0;
  while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) --i, ++back;
  if (i > 0) {
    const unsigned char lead = (unsigned char)s[i - 1];
    size_t len = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
    if (len > 1 && back + 1 < len) n = i - 1;
  }
  return n;
}

namespace {
// Python's TextStreamer._is_chinese_char, on the last code point of s.
bool ends_with_cjk(const std::string& s) {
  if (s.empty()) return false;
  size_t i = s.size() - 1;
  while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) --i;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data() + i);
  uint32_t cp = 0;
  const size_t len = s.size() - i;
  if (len == 3) cp = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  else if (len == 4) cp = ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  else return false;
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}
}  // namespace

TextStreamer::TextStreamer(const AutoTokenizer& tokenizer, Callback on_text, bool skip_prompt, bool skip_special_tokens)
    : tok_(tokenizer), on_text_(std::move(on_text)), skip_prompt_(skip_prompt), skip_special_(skip_special_tokens) {}

void TextStreamer::put(const std::vector<int64_t>& tokens) {
  if (skip_prompt_ && next_is_prompt_) {
    next_is_prompt_ = false;
    return;
  }
  next_is_prompt_ = false;
  cache_.insert(cache_.end(), tokens.begin(), tokens.end());
  const std::string full = tok_.decode(cache_, skip_special_);
  const std::string text = full.substr(0, utf8_complete_prefix(full));
  std::string printable;
  if (!text.empty() && text.back() == '\n') {
    printable = text.size() > print_len_ ? text.substr(print_len_) : "";
    cache_.clear();
    print_len_ = 0;
  } else if (ends_with_cjk(text)) {
    printable = text.size() > print_len_ ? text.substr(print_len_) : "";
    print_len_ += printable.size();
  } else {
    const size_t sp = text.rfind(' ');
    const size_t upto = sp == std::string::npos ? 0 : sp + 1;
    printable = upto > print_len_ ? text.substr(print_len_, upto - print_len_) : "";
    print_len_ += printable.size();
  }
  if (!printable.empty()) on_text_(printable, false);
}

void TextStreamer::end() {
  std::string printable;
  if (!cache_.empty()) {
    const std::string text = tok_.decode(cache_, skip_special_);
    printable = text.size() > print_len_ ? text.substr(print_len_) : "";
    cache_.clear();
    print_len_ = 0;
  }
  next_is_prompt_ = true;
  on_text_(printable, true);
}

}  // namespace cppformers
