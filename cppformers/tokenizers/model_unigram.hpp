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

  // A piece of the best segmentation: bytes [start, end) of the word, and its id (nullopt: a
  // run of unknown characters fused into one piece, looked up as a whole).
  struct Piece {
    size_t start, end;
    std::optional<uint32_t> id;
  };

 private:
  std::vector<Piece> encode(const std::string& s) const;
  void build_trie();
  // The pieces as a byte trie (the Viterbi lattice takes every piece that starts at a position in
  // one walk, instead of a hash lookup per candidate length). Node n's children are the edges
  // [child_begin, child_end), sorted by byte; value: the piece's id (ids_), or -1.
  struct TrieNode {
    int32_t value = -1;
    uint32_t child_begin = 0, child_end = 0;
  };
  std::vector<TrieNode, HugePageAllocator<TrieNode>> trie_;
  std::vector<uint8_t, HugePageAllocator<uint8_t>> edge_byte_;
  std::vector<uint32_t, HugePageAllocator<uint32_t>> edge_child_;
  uint32_t root_child_[256];  // the root's children by byte (0: none)

  std::vector<std::pair<std::string, double>, HugePageAllocator<std::pair<std::string, double>>> pieces_;
  Vocab ids_;
  std::optional<size_t> unk_id_;
  bool byte_fallback_ = false;
  double min_score_ = 0;
  size_t max_piece_len_ = 0;
};

}  // namespace cppformers::tokenizers
