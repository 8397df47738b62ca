#pragma once
// Pre-tokenizers (tokenizer.json "pre_tokenizer"): cut a PreTokenizedString into words.
// Built from JSON by their "type" name.
#include <memory>
#include <string>

#include "cppformers/tokenizers/json_util.hpp"
#include "cppformers/tokenizers/pre_tokenized_string.hpp"

namespace cppformers::tokenizers {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenizedString& s) const = 0;
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const std::string& where);

// The regex ByteLevel splits with (use_regex: true): GPT-2's.
inline constexpr const char* kByteLevelPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Metaspace's prepend_scheme, shared with the Metaspace decoder.
enum class PrependScheme { Always, Never, First };
PrependScheme parse_prepend_scheme(const json& j, const std::string& where);

}  // namespace cppformers::tokenizers
