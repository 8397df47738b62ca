#pragma once
// Normalizers (tokenizer.json "normalizer"): each rewrites a NormalizedString in place,
// keeping its alignments. Built from JSON by their "type" name.
#include <memory>
#include <string>

#include "cppformers/tokenizers/json_util.hpp"
#include "cppformers/tokenizers/normalized_string.hpp"

namespace cppformers::tokenizers {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& s) const = 0;
};

// Throws FormatError naming `where` for unknown types or malformed fields.
std::unique_ptr<Normalizer> make_normalizer(const json& j, const std::string& where);

}  // namespace cppformers::tokenizers
