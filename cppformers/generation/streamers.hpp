#pragma once
// Streamers receive tokens as generate() produces them, as transformers' BaseStreamer /
// TextStreamer: put() gets the prompt first, then each new token; end() once at the end.
#include <functional>
#include <string>
#include <vector>

#include "cppformers/tokenizers/auto_tokenizer.hpp"

namespace cppformers {

class BaseStreamer {
 public:
  virtual ~BaseStreamer() = default;
  virtual void put(const std::vector<int64_t>& tokens) = 0;
  virtual void end() = 0;
};

// Decodes incrementally and hands out text in pieces that end at a word boundary (a space), a
// newline or a CJK character, as Python's TextStreamer; a piece never ends inside a UTF-8
// character (text whose last token is an incomplete byte sequence waits for the next token).
class TextStreamer : public BaseStreamer {
 public:
  using Callback = std::function<void(const std::string& text, bool stream_end)>;
  TextStreamer(const AutoTokenizer& tokenizer, Callback on_text, bool skip_prompt = false,
               bool skip_special_tokens = false);
  void put(const std::vector<int64_t>& tokens) override;
  void end() override;

 private:
  const AutoTokenizer& tok_;
  Callback on_text_;
  bool skip_prompt_, skip_special_, next_is_prompt_ = true;
  std::vector<int64_t> cache_;
  size_t print_len_ = 0;
};

// Text without a trailing incomplete UTF-8 sequence or U+FFFD (what a byte-level decoder makes
// of one): the part that is safe to print now.
size_t utf8_complete_prefix(const std::string& text);

}  // namespace cppformers
