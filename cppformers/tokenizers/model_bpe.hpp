#pragma once
// Byte-Pair Encoding, as the Rust library: merges applied by rank with a priority queue,
// optional byte fallback (<0xNN> tokens), unk fusing, subword prefix / word suffix, and a cache.
#include <array>
#include <atomic>
#include <string>
#include <unordered_map>
#include <vector>

#include "cppformers/tokenizers/models.hpp"

namespace cppformers::tokenizers {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
// token -> id: open addressing over a flat entry array (fast to build for 150k-token files and
// cache-friendly to probe). find() returns nullptr (== end()) when absent; pointers stay valid
// until the next insertion.
class Vocab {
 public:
  struct Entry {
    std::string first;
    uint32_t second;
  };
  const Entry* find(std::string_view key) const;
  const Entry* end() const { return nullptr; }
  size_t size() const { return entries_.size(); }
  size_t count(std::string_view key) const { return find(key) ? 1 : 0; }
  void reserve(size_t n);
  // Inserts (key, id) unless key is present; returns the entry and whether it was inserted.
  std::pair<Entry*, bool> emplace(std::string_view key, uint32_t id);
  uint32_t& operator[](std::string_view key) { return emplace(key, 0).first->second; }

 private:
  static uint64_t hash(std::string_view s);
  void rehash(size_t slots);
  std::vector<Entry> entries_;
  std::vector<uint64_t> slots_;  // (hash high 32 bits << 32) | (entry index + 1); 0: empty
};

// One token of a word: its id and how many bytes of the word it covers.
struct SubToken {
  uint32_t id;
  uint32_t len;
};

class BPE : public Model {
 public:
  BPE(const json& j, const std::string& where);
  std::vector<Token> tokenize(const std::string& word) const override;
  // Byte-level BPE of the raw bytes `bytes`: the same as tokenize() on their GPT-2 byte-to-char
  // mapping, with each token's length counted in bytes of `bytes` (one mapped char per byte).
  // Appends to `out`. Results are cached per thread, keyed by the raw bytes.
  void tokenize_byte_level(std::string_view bytes, std::vector<SubToken>& out) const;
  // The token string of a vocabulary id (from a compact arena, for cache locality).
  std::string_view token_string(uint32_t id) const {
    uint64_t sp = token_spans_[id];
    return std::string_view(token_arena_.data() + (sp >> 32), static_cast<uint32_t>(sp));
  }
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
  const uint32_t* find_merge(uint32_t a, uint32_t b, uint32_t* rank) const;

  Vocab vocab_;
  std::vector<std::string> vocab_r_;
  std::string token_arena_;
  std::vector<uint64_t> token_spans_;  // id -> (offset << 32) | length in token_arena_
  std::vector<bool> has_id_;
  // (a,b) -> (rank, new id): an open-addressing table (linear probing), the hot lookup of BPE.
  struct MergeEntry {
    uint64_t key;
    uint32_t rank, new_id;
  };
  static constexpr uint64_t kNoKey = ~0ull;
  std::vector<MergeEntry> merges_;
  int merges_shift_ = 64;
  size_t merges_count_ = 0;
  void merges_init(size_t n);
  void merges_put(uint64_t key, uint32_t rank, uint32_t new_id);
  std::optional<std::string> unk_token_;
  std::string prefix_, suffix_;
  bool has_prefix_ = false, has_suffix_ = false;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  std::array<int64_t, 256> byte_ids_{};

  // Word caches live per thread (no locks, so batches scale with cores), keyed by this id.
  uint64_t uid_;
};

}  // namespace cppformers::tokenizers
