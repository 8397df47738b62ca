#pragma once
// Models (tokenizer.json "model"): BPE, WordPiece, WordLevel, Unigram. A model turns one
// pre-tokenized word into tokens whose offsets are byte ranges of that word.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cppformers/tokenizers/encoding.hpp"
#include "cppformers/tokenizers/json_util.hpp"

namespace cppformers::tokenizers {

class Model {
 public:
  virtual ~Model() = default;
  virtual std::vector<Token> tokenize(const std::string& word) const = 0;
  virtual std::optional<uint32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(uint32_t id) const = 0;
  virtual size_t vocab_size() const = 0;
};

std::unique_ptr<Model> make_model(const json& j, const std::string& where);

}  // namespace cppformers::tokenizers
