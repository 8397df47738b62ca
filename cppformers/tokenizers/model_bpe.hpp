#pragma once
// Byte-Pair Encoding, as the Rust library: merges applied by rank with a priority queue,
// optional byte fallback (<0xNN> tokens), unk fusing, subword prefix / word suffix, and a cache.
#include <array>
#include <atomic>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cppformers/core/huge_pages.hpp"
#include "cppformers/tokenizers/models.hpp"

namespace cppformers::tokenizers {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
// token -> id: open addressing over flat 16-byte slots, the keys in one arena (fast to build for
// 150k-token files: no allocation per key, and a lookup touches one slot and the key's bytes).
// find() returns nullptr (== end()) when absent; pointers stay valid until the next insertion.
class Vocab {
 public:
  struct Entry {
    uint32_t off, len;  // the key: key(entry)
    uint32_t second;    // the id
  };
  const Entry* find(std::string_view key) const { return find(key, hash(key)); }
  const Entry* end() const { return nullptr; }
  // Lookups in bulk (building from a 150k-token file is bound by cache misses): with the key's
  // hash, prefetch its slot, then (once that has arrived) its key bytes, then find / emplace.
  static uint64_t hash(std::string_view s);
  const Entry* find(std::string_view key, uint64_t h) const;
  void prefetch_slot(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }
  void prefetch_key(uint64_t h) const {
    if (slots_.empty()) return;
    const Slot& s = slots_[h & (slots_.size() - 1)];
    if (s.tag == tag_of(h)) __builtin_prefetch(arena_.data() + s.e.off);
  }
  size_t size() const { return count_; }
  size_t count(std::string_view key) const { return find(key) ? 1 : 0; }
  // Room for n keys of key_bytes bytes in all without rehashing.
  void reserve(size_t n, size_t key_bytes = 0);
  // Inserts (key, id) unless key is present; returns the entry and whether it was inserted.
  std::pair<Entry*, bool> emplace(std::string_view key, uint32_t id) { return emplace(key, id, hash(key)); }
  std::pair<Entry*, bool> emplace(std::string_view key, uint32_t id, uint64_t h);
  uint32_t& operator[](std::string_view key) { return emplace(key, 0).first->second; }
  std::string_view key(const Entry& e) const { return std::string_view(arena_.data() + e.off, e.len); }
  // A key as (offset << 32) | length in the arena, stable for the life of the vocab.
  static uint64_t span(const Entry& e) { return (static_cast<uint64_t>(e.off) << 32) | e.len; }
  std::string_view key_at(uint64_t span) const {
    return std::string_view(arena_.data() + (span >> 32), static_cast<uint32_t>(span));
  }

 private:
  struct Slot {
    uint32_t tag = 0;  // high hash bits | 1; 0: empty
    Entry e{};
  };
  static uint32_t tag_of(uint64_t h) { return static_cast<uint32_t>(h >> 32) | 1u; }
  void rehash(size_t slots);
  std::vector<char, HugePageAllocator<char>> arena_;
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  size_t count_ = 0;
};

// Token strings by id for the vocab-map models: id -> the key's span in the Vocab's arena, or
// kNoToken for ids without a token.
struct IdToToken {
  static constexpr uint64_t kNoToken = ~0ull;
  std::vector<uint64_t, HugePageAllocator<uint64_t>> spans;
  bool has(uint32_t id) const { return id < spans.size() && spans[id] != kNoToken; }
  std::optional<std::string> get(const Vocab& v, uint32_t id) const {
    if (!has(id)) return std::nullopt;
    return std::string(v.key_at(spans[id]));
  }
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
  // The token string of a vocabulary id ("" for an id without a token).
  std::string_view token_string(uint32_t id) const {
    return id_to_token_.has(id) ? vocab_.key_at(id_to_token_.spans[id]) : std::string_view();
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
  IdToToken id_to_token_;
  // (a,b) -> (rank, new id): an open-addressing table (linear probing), the hot lookup of BPE.
  struct MergeEntry {
    uint64_t key;
    uint32_t rank, new_id;
  };
  static constexpr uint64_t kNoKey = ~0ull;
  std::vector<MergeEntry, HugePageAllocator<MergeEntry>> merges_;
  int merges_shift_ = 64;
  size_t merges_count_ = 0;
  void merges_init(size_t n);
  void merges_put(uint64_t key, uint32_t rank, uint32_t new_id);
  void merges_prefetch(uint64_t key) const;
  std::optional<std::string> unk_token_;
  std::string prefix_, suffix_;
  bool has_prefix_ = false, has_suffix_ = false;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  std::array<int64_t, 256> byte_ids_{};

  // Word caches live per thread (no locks, so batches scale with cores), keyed by this id.
  uint64_t uid_;
};

}  // namespace cppformers::tokenizers
