#pragma once
// The error hierarchy. Every message names the file, key or argument at fault and what was
// expected, e.g. "model.safetensors: tensor 'x' has shape [32, 16], config says [32, 32]".
#include <stdexcept>
#include <string>

namespace cppformers {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A function was called with arguments it cannot take (shapes, dtypes, out-of-range dims).
class ValueError : public Error { using Error::Error; };
// A file is missing or cannot be read or written.
class IOError : public Error { using Error::Error; };
// A file's contents are malformed (safetensors header, JSON, tokenizer.json, config.json).
class FormatError : public Error { using Error::Error; };
// A configuration names something cppformers does not provide.
class NotSupportedError : public Error { using Error::Error; };
// A lookup of a name (state-dict key, registry entry) failed.
class KeyError : public Error { using Error::Error; };

}  // namespace cppformers

// CF_CHECK(cond, ErrorType, message-expression): throws ErrorType(message) when cond is false.
#define CF_CHECK(cond, Err, msg)        \
  do {                                  \
    if (!(cond)) throw Err(std::string(msg)); \
  } while (0)
