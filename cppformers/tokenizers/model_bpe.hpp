#pragma once
// Byte-Pair Encoding, as the Rust library: merges applied by rank with a priority queue,
// optional byte fallback (<0xNN> tokens), unk fusing, subword prefix / word suffix, and a cache.
#include <array>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cppformers/tokenizers/models.hpp"

namespace cppformers::tokenizers {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

class BPE : public Model {
 public:
  BPE(const json& j, const std::string& where);
  std::vector<Token> tokenize(const std::string& word) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  struct Symbol {
    uint32_t id;
    int prev, next;
    size_t len;
  };
  using Word = std::vector<std::pair<uint32_t, size_t>>;  // (id, byte length)
  Word merge_word(const std::string& w) const;
  void merge_all(std::vector<Symbol>& symbols) const;
  std::vector<Token> to_tokens(const Word& w) const;
  const uint32_t* find_merge(uint32_t a, uint32_t b, uint32_t* rank) const;

  Vocab vocab_;
  std::vector<std::string> vocab_r_;
  std::vector<bool> has_id_;
  std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> merges_;  // (a,b) -> (rank, new id)
  std::optional<std::string> unk_token_;
  std::string prefix_, suffix_;
  bool has_prefix_ = false, has_suffix_ = false;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  std::array<int64_t, 256> byte_ids_{};

  static constexpr size_t kShards = 16;
  static constexpr size_t kCacheCapacity = 10000;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Word> map;
  };
  mutable std::array<Shard, kShards> cache_;
};

}  // namespace cppformers::tokenizers
