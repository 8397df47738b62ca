#pragma once
// Unigram language model: Viterbi over the lattice of vocabulary pieces (scores are log
// probabilities), unknown characters fused into one unk piece, optional byte fallback.
#include <string>
#include <vector>

#include "cppformers/tokenizers/model_bpe.hpp"

namespace cppformers::tokenizers {

class Unigram : public Model {
 public:
  Unigram(const json& j, const std::string& where);
  std::vector<Token> tokenize(const std::string& word) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return pieces_.size(); }

 private:
  std::vector<std::string> encode(const std::string& s) const;

  std::vector<std::pair<std::string, double>> pieces_;
  Vocab ids_;
  std::optional<size_t> unk_id_;
  bool byte_fallback_ = false;
  double min_score_ = 0;
  size_t max_piece_len_ = 0;
  std::vector<bool> first_byte_;  // some piece starts with this byte
};

}  // namespace cppformers::tokenizers
