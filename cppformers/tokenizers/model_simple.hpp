#pragma once
// WordPiece (greedy longest-match-first with a continuing-subword prefix) and WordLevel
// (whole-word lookup) models.
#include <string>
#include <vector>

#include "cppformers/tokenizers/model_bpe.hpp"

namespace cppformers::tokenizers {

class WordPiece : public Model {
 public:
  WordPiece(const json& j, const std::string& where);
  std::vector<Token> tokenize(const std::string& word) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  Token unk(const std::string& word) const;
  Vocab vocab_;
  IdToToken ids_;
  std::string unk_token_, prefix_;
  size_t max_chars_;
};

class WordLevel : public Model {
 public:
  WordLevel(const json& j, const std::string& where);
  std::vector<Token> tokenize(const std::string& word) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  Vocab vocab_;
  IdToToken ids_;
  std::string unk_token_;
};

// Shared by the vocab-map models: parses {"token": id, ...} into `vocab` and `ids`.
void parse_vocab_map(const json& j, const std::string& where, Vocab& vocab, IdToToken& ids);

}  // namespace cppformers::tokenizers
