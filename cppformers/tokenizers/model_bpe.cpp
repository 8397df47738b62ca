#include "cppformers/tokenizers/model_bpe.hpp"
#include "cppformers/tokenizers/model_simple.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <queue>

#include "cppformers/tokenizers/byte_level.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

namespace {

std::atomic<uint64_t> g_next_uid{1};

inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// A 64-bit hash of short strings (tokens, words), reading whole words: for a string of n bytes,
// n >= 8: the 8-byte words from the start, then the last 8 bytes (overlapping); n < 8: the bytes
// packed into one word. Different for different strings of the same length up to the mixing.
inline uint64_t hash_bytes(std::string_view s, uint64_t seed) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ull);
  uint64_t last;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      h = (h ^ load64(p + i)) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    }
    last = load64(p + n - 8);
  } else if (n >= 4) {
    last = load32(p) | (load32(p + n - 4) << 32);
  } else if (n > 0) {
    last = static_cast<unsigned char>(p[0]) | (static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
           (static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
  } else {
    last = 0;
  }
  h = (h ^ last) * 0xC4CEB9FE1A85EC53ull;
  return h ^ (h >> 29);
}

// a[0, n) == b[0, n), without a call for short strings.
inline bool bytes_equal(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    if (n <= 16) return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
    return std::memcmp(a, b, n) == 0;
  }
  if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// A per-thread word -> tokens cache: open addressing over flat arenas (no allocation per entry,
// one probe for most lookups). A thread keeps a few (one per model and key kind it used last);
// each holds at most kCapacity words and is emptied when full. Entries are results of a pure
// function of the word, so the cache never changes what is returned.
class WordCache {
 public:
  static constexpr size_t kCapacity = 1 << 14;
  static constexpr size_t kMaxArenaBytes = 4 << 20;
  uint64_t owner = 0;

  void clear() {
    if (count_ == 0) return;
    slots_.assign(slots_.size(), Slot{});
    keys_.clear();
    values_.clear();
    count_ = 0;
  }
  // The cached tokens of `word`, or nullptr.
  const SubToken* find(std::string_view word, uint64_t h, size_t* n) const {
    if (slots_.empty()) return nullptr;
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return nullptr;
      if (s.hash == h && s.key_len == word.size() && bytes_equal(keys_.data() + s.key_off, word.data(), word.size())) {
        *n = s.value_len;
        return values_.data() + s.value_off;
      }
    }
  }
  void insert(std::string_view word, uint64_t h, const SubToken* tokens, size_t n) {
    if (slots_.empty()) slots_.assign(2 * kCapacity, Slot{});
    if (count_ >= kCapacity || keys_.size() > kMaxArenaBytes) clear();
    size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = {h, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(word.size()),
                 static_cast<uint32_t>(values_.size()), static_cast<uint32_t>(n)};
    keys_.insert(keys_.end(), word.begin(), word.end());
    values_.insert(values_.end(), tokens, tokens + n);
    ++count_;
  }
  static uint64_t hash(std::string_view s) {
    return hash_bytes(s, 0x9E3779B97F4A7C15ull) | 1;  // 0 marks an empty slot
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_off = 0, key_len = 0, value_off = 0, value_len = 0;
  };
  // In huge pages: a thread's first use of a cache then costs a few page faults, not hundreds.
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::vector<char, HugePageAllocator<char>> keys_;
  std::vector<SubToken, HugePageAllocator<SubToken>> values_;
  size_t count_ = 0;
};

WordCache& thread_cache(uint64_t owner) {
  constexpr size_t kSlots = 4;
  thread_local std::array<WordCache, kSlots> caches;
  thread_local size_t next = 0;
  for (auto& c : caches)
    if (c.owner == owner) return c;
  WordCache& c = caches[next++ % kSlots];
  c.owner = owner;
  c.clear();
  return c;
}

// Longer words are not cached (Rust caches words under 256 bytes; long runs such as "-----" or
// base64 are frequent enough in real text to be worth more).
constexpr size_t kMaxCachedWord = 2048;

}  // namespace

uint64_t Vocab::hash(std::string_view s) { return hash_bytes(s, 0xCBF29CE484222325ull); }

namespace {
// Slots for n keys: a power of two, at most ~60% full.
size_t vocab_slots_for(size_t n) {
  size_t want = 16;
  while (want * 3 < n * 5) want <<= 1;
  return want;
}
}  // namespace

void Vocab::reserve(size_t n, size_t key_bytes) {
  arena_.reserve(key_bytes);
  size_t want = vocab_slots_for(n);
  if (want > slots_.size()) rehash(want);
}

void Vocab::rehash(size_t slots) {
  std::vector<Slot, HugePageAllocator<Slot>> old;
  old.swap(slots_);
  slots_.assign(slots, Slot{});
  size_t mask = slots - 1;
  for (const Slot& s : old) {
    if (s.tag == 0) continue;
    uint64_t h = hash(key(s.e));
    size_t i = h & mask;
    while (slots_[i].tag != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

const Vocab::Entry* Vocab::find(std::string_view k, uint64_t h) const {
  if (slots_.empty()) return nullptr;
  uint32_t tag = tag_of(h);
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.tag == 0) return nullptr;
    if (s.tag == tag && s.e.len == k.size() && bytes_equal(arena_.data() + s.e.off, k.data(), k.size()))
      return &s.e;
  }
}

std::pair<Vocab::Entry*, bool> Vocab::emplace(std::string_view k, uint32_t id, uint64_t h) {
  if (const Entry* e = find(k, h)) return {const_cast<Entry*>(e), false};
  if (5 * (count_ + 1) > 4 * slots_.size()) rehash(std::max<size_t>(16, std::max(slots_.size() * 2, vocab_slots_for(count_ + 1))));
  if (arena_.size() + k.size() > 0xFFFFFFFFull) throw ValueError("vocabulary too large");
  size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].tag != 0) i = (i + 1) & mask;
  Slot& s = slots_[i];
  s.tag = tag_of(h);
  s.e = {static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(k.size()), id};
  arena_.insert(arena_.end(), k.begin(), k.end());
  ++count_;
  return {&s.e, true};
}

// Ids index dense tables: a vocabulary may leave gaps, but not billions of them (a fuzzed file
// with one id near 2^32 would otherwise allocate that many entries).
static uint64_t max_vocab_id(size_t n_tokens) { return static_cast<uint64_t>(n_tokens) + (1u << 20); }

// Records that `id` names the key of `e` (a later key with the same id wins, as in the Rust map).
static void set_id(IdToToken& ids, const Vocab::Entry& e, uint64_t id) {
  if (ids.spans.size() <= id) ids.spans.resize(id + 1, IdToToken::kNoToken);
  ids.spans[id] = Vocab::span(e);
}

void parse_vocab_map(const json& j, const std::string& where, Vocab& vocab, IdToToken& ids) {
  if (const LargeFields* lf = LargeFields::current(j); lf && lf->has_vocab) {
    size_t bytes = 0;
    for (const auto& v : lf->vocab) bytes += v.key.len;
    vocab.reserve(lf->vocab.size(), bytes);
    uint64_t max_id = max_vocab_id(lf->vocab.size());
    ids.spans.reserve(lf->vocab.size());
    // In blocks: hash and prefetch the slots of a block, then insert its keys.
    constexpr size_t kBlock = 32;
    uint64_t hashes[kBlock];
    for (size_t base = 0; base < lf->vocab.size(); base += kBlock) {
      size_t n = std::min(kBlock, lf->vocab.size() - base);
      for (size_t k = 0; k < n; ++k) {
        hashes[k] = Vocab::hash(lf->str(lf->vocab[base + k].key));
        vocab.prefetch_slot(hashes[k]);
      }
      for (size_t k = 0; k < n; ++k) {
        const auto& v = lf->vocab[base + k];
        std::string_view key = lf->str(v.key);
        if (v.id >= max_id) fail(where + ".vocab[\"" + std::string(key) + "\"]", "id " + std::to_string(v.id) + " out of range");
        // Duplicate keys or ids: the tree parse decides which one wins, as before.
        if (ids.has(static_cast<uint32_t>(v.id))) throw NeedsTreeParse{};
        auto [e, inserted] = vocab.emplace(key, static_cast<uint32_t>(v.id), hashes[k]);
        if (!inserted) throw NeedsTreeParse{};
        set_id(ids, *e, v.id);
      }
    }
    return;
  }
  const json& v = get_object(j, "vocab", where);
  vocab.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_unsigned() && !(it.value().is_number_integer() && it.value().get<int64_t>() >= 0))
      fail(where + ".vocab[\"" + it.key() + "\"]", std::string("expected a non-negative integer id, got ") + it.value().type_name());
    uint64_t id = it.value().get<uint64_t>();
    if (id >= max_vocab_id(v.size())) fail(where + ".vocab[\"" + it.key() + "\"]", "id " + std::to_string(id) + " out of range");
    auto [e, inserted] = vocab.emplace(it.key(), static_cast<uint32_t>(id));
    e->second = static_cast<uint32_t>(id);
    set_id(ids, *e, id);
  }
}

BPE::BPE(const json& j, const std::string& where) : uid_(g_next_uid.fetch_add(1)) {
  parse_vocab_map(j, where, vocab_, id_to_token_);
  if (find(j, "unk_token")) unk_token_ = get_string(j, "unk_token", where);
  if (find(j, "continuing_subword_prefix")) {
    prefix_ = get_string(j, "continuing_subword_prefix", where);
    has_prefix_ = true;
  }
  if (find(j, "end_of_word_suffix")) {
    suffix_ = get_string(j, "end_of_word_suffix", where);
    has_suffix_ = true;
  }
  fuse_unk_ = get_bool_or(j, "fuse_unk", where, false);
  byte_fallback_ = get_bool_or(j, "byte_fallback", where, false);
  ignore_merges_ = get_bool_or(j, "ignore_merges", where, false);
  if (const json* d = find(j, "dropout"); d && !(d->is_number() && d->get<double>() == 0.0))
    if (!d->is_number()) fail(where + ".dropout", "expected a number");
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = vocab_.find(std::string_view(name));
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  const json* m = find(j, "merges");
  if (m && !m->is_array()) fail(where + ".merges", std::string("expected an array, got ") + m->type_name());
  size_t prefix_len = has_prefix_ ? prefix_.size() : 0;
  const LargeFields* lf = LargeFields::current(j);
  if (lf && !lf->has_merges) lf = nullptr;
  if (m) {
    size_t count = lf ? lf->merges.size() : m->size();
    merges_init(count);
    // In blocks of merges, each lookup in three steps so that the cache misses of a block overlap:
    // hash the three tokens (a, b, and a + b less b's prefix) and prefetch their slots, prefetch
    // the keys those slots point to, then look them up in order (errors in merge order).
    struct Pending {
      std::string_view a, b, whole;  // whole: a string-form merge as written
      size_t merged_off;
      uint64_t ha, hb, hm;
      enum : uint8_t { kOk, kNoSpace, kBadElement } error;
    };
    constexpr size_t kBlock = 32;
    Pending pend[kBlock];
    uint64_t keys[kBlock];
    uint32_t new_ids[kBlock];
    std::string merged;  // the block's merged tokens, back to back
    for (size_t base = 0; base < count; base += kBlock) {
      size_t n = std::min(kBlock, count - base);
      merged.clear();
      for (size_t k = 0; k < n; ++k) {
        size_t i = base + k;
        Pending& p = pend[k];
        p.error = Pending::kOk;
        if (lf) {
          const LargeFields::Merge& pm = lf->merges[i];
          if (pm.pair) {
            p.a = lf->str(pm.a);
            p.b = lf->str(pm.b);
          } else {
            p.whole = lf->str(pm.a);
          }
          if (!pm.pair) p.error = Pending::kNoSpace;  // split below
        } else if (const json& e = (*m)[i]; e.is_string()) {
          p.whole = e.get_ref<const std::string&>();
          p.error = Pending::kNoSpace;
        } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
          p.a = e[0].get_ref<const std::string&>();
          p.b = e[1].get_ref<const std::string&>();
        } else {
          p.error = Pending::kBadElement;
          continue;
        }
        if (p.error == Pending::kNoSpace) {
          size_t sp = p.whole.find(' ');
          if (sp == std::string_view::npos) continue;
          p.a = p.whole.substr(0, sp);
          p.b = p.whole.substr(sp + 1);
          p.error = Pending::kOk;
        }
        p.ha = Vocab::hash(p.a);
        p.hb = Vocab::hash(p.b);
        vocab_.prefetch_slot(p.ha);
        vocab_.prefetch_slot(p.hb);
        p.merged_off = merged.size();
        if (p.b.size() >= prefix_len) {
          merged.append(p.a);
          merged.append(p.b.substr(prefix_len));
          p.hm = Vocab::hash(std::string_view(merged).substr(p.merged_off));
          vocab_.prefetch_slot(p.hm);
        }
      }
      for (size_t k = 0; k < n; ++k) {
        const Pending& p = pend[k];
        if (p.error != Pending::kOk) continue;
        vocab_.prefetch_key(p.ha);
        vocab_.prefetch_key(p.hb);
        if (p.b.size() >= prefix_len) vocab_.prefetch_key(p.hm);
      }
      for (size_t k = 0; k < n; ++k) {
        const Pending& p = pend[k];
        size_t i = base + k;
        auto w = [&] { return where + ".merges[" + std::to_string(i) + "]"; };
        if (p.error == Pending::kBadElement) fail(w(), "expected a string \"a b\" or a pair [\"a\", \"b\"]");
        if (p.error == Pending::kNoSpace)
          fail(w(), "expected \"a b\" (two tokens separated by a space), got '" + std::string(p.whole) + "'");
        auto ia = vocab_.find(p.a, p.ha);
        if (ia == vocab_.end()) fail(w(), "merge token '" + std::string(p.a) + "' is not in the vocabulary");
        auto ib = vocab_.find(p.b, p.hb);
        if (ib == vocab_.end()) fail(w(), "merge token '" + std::string(p.b) + "' is not in the vocabulary");
        if (p.b.size() < prefix_len) fail(w(), "merge token '" + std::string(p.b) + "' is shorter than the continuing_subword_prefix");
        std::string_view mv = std::string_view(merged).substr(p.merged_off, p.a.size() + p.b.size() - prefix_len);
        auto im = vocab_.find(mv, p.hm);
        if (im == vocab_.end()) fail(w(), "merged token '" + std::string(mv) + "' is not in the vocabulary");
        keys[k] = (static_cast<uint64_t>(ia->second) << 32) | ib->second;
        new_ids[k] = im->second;
        merges_prefetch(keys[k]);
      }
      for (size_t k = 0; k < n; ++k) merges_put(keys[k], static_cast<uint32_t>(base + k), new_ids[k]);
    }
  }
}

std::optional<uint32_t> BPE::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> BPE::id_to_token(uint32_t id) const { return id_to_token_.get(vocab_, id); }

static inline size_t merge_slot(uint64_t key, int shift) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift); }

void BPE::merges_init(size_t n) {
  size_t cap = 16;
  int bits = 4;
  while (cap * 3 < n * 5 + 16) {  // at most ~60% full
    cap <<= 1;
    ++bits;
  }
  merges_.assign(cap, MergeEntry{kNoKey, 0, 0});
  merges_shift_ = 64 - bits;
}

void BPE::merges_prefetch(uint64_t key) const { __builtin_prefetch(&merges_[merge_slot(key, merges_shift_)]); }

void BPE::merges_put(uint64_t key, uint32_t rank, uint32_t new_id) {
  size_t mask = merges_.size() - 1;
  for (size_t i = merge_slot(key, merges_shift_);; i = (i + 1) & mask) {
    MergeEntry& e = merges_[i];
    if (e.key == kNoKey) {
      e = {key, rank, new_id};
      ++merges_count_;
      return;
    }
    if (e.key == key) {  // a repeated merge: the last one wins, as in the Rust map
      e.rank = rank;
      e.new_id = new_id;
      return;
    }
  }
}

const uint32_t* BPE::find_merge(uint32_t a, uint32_t b, uint32_t* rank) const {
  if (merges_.empty()) return nullptr;
  uint64_t key = (static_cast<uint64_t>(a) << 32) | b;
  size_t mask = merges_.size() - 1;
  for (size_t i = merge_slot(key, merges_shift_);; i = (i + 1) & mask) {
    const MergeEntry& e = merges_[i];
    if (e.key == key) {
      *rank = e.rank;
      return &e.new_id;
    }
    if (e.key == kNoKey) return nullptr;
  }
}

BPE::Word BPE::merge_word(const std::string& w) const {
  std::vector<Symbol> symbols;
  symbols.reserve(w.size());
  auto add = [&](uint32_t id, size_t len) {
    int idx = static_cast<int>(symbols.size());
    symbols.push_back({id, idx - 1, -1, len});
    if (idx > 0) symbols[idx - 1].next = idx;
  };
  bool have_unk = false;
  uint32_t unk_id = 0;
  size_t unk_len = 0;
  std::string s;
  for (size_t i = 0; i < w.size();) {
    size_t start = i;
    size_t n = unicode::char_len(static_cast<unsigned char>(w[i]));
    i += n;
    bool is_first = start == 0, is_last = i >= w.size();
    s.clear();
    if (!is_first && has_prefix_) s += prefix_;
    s.append(w, start, n);
    if (is_last && has_suffix_) s += suffix_;
    auto it = vocab_.find(s);
    if (it != vocab_.end()) {
      if (have_unk) {
        add(unk_id, unk_len);
        have_unk = false;
      }
      add(it->second, n);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : s) all = all && byte_ids_[b] >= 0;
      if (all) {
        for (unsigned char b : s) add(static_cast<uint32_t>(byte_ids_[b]), 1);
        continue;
      }
    }
    if (unk_token_) {
      auto u = vocab_.find(*unk_token_);
      if (u == vocab_.end()) throw ValueError("BPE: unk_token '" + *unk_token_ + "' is not in the vocabulary");
      if (have_unk && fuse_unk_) {
        unk_len += n;
      } else {
        if (have_unk) add(unk_id, unk_len);
        have_unk = true;
        unk_id = u->second;
        unk_len = n;
      }
    }
  }
  if (have_unk) add(unk_id, unk_len);
  merge_all(symbols);
  Word out;
  out.reserve(symbols.size());
  for (const auto& sym : symbols)
    if (sym.len != 0) out.emplace_back(sym.id, sym.len);
  return out;
}

void BPE::merge_all(std::vector<Symbol>& symbols) const {
  struct Merge {
    size_t pos;
    uint32_t rank, new_id;
    bool operator<(const Merge& o) const {  // min-heap on (rank, pos)
      if (rank != o.rank) return rank > o.rank;
      return pos > o.pos;
    }
  };
  if (symbols.size() < 2) return;
  std::priority_queue<Merge> queue;
  uint32_t rank;
  for (size_t i = 0; i + 1 < symbols.size(); ++i)
    if (const uint32_t* nid = find_merge(symbols[i].id, symbols[i + 1].id, &rank)) queue.push({i, rank, *nid});
  while (!queue.empty()) {
    Merge top = queue.top();
    queue.pop();
    Symbol& cur = symbols[top.pos];
    if (cur.len == 0 || cur.next == -1) continue;
    size_t next_pos = static_cast<size_t>(cur.next);
    Symbol right = symbols[next_pos];
    const uint32_t* nid = find_merge(cur.id, right.id, &rank);
    if (!nid || *nid != top.new_id) continue;
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    symbols[next_pos].len = 0;
    if (right.next > -1 && static_cast<size_t>(right.next) < symbols.size()) symbols[right.next].prev = static_cast<int>(top.pos);
    const Symbol& c = symbols[top.pos];
    if (c.prev >= 0) {
      if (const uint32_t* p = find_merge(symbols[c.prev].id, c.id, &rank)) queue.push({static_cast<size_t>(c.prev), rank, *p});
    }
    if (c.next >= 0 && static_cast<size_t>(c.next) < symbols.size()) {
      if (const uint32_t* p = find_merge(c.id, symbols[c.next].id, &rank)) queue.push({top.pos, rank, *p});
    }
  }
}

std::vector<Token> BPE::tokenize(const std::string& word) const {
  if (word.empty()) return {};
  if (ignore_merges_) {
    auto it = vocab_.find(word);
    if (it != vocab_.end()) return {Token{it->second, word, {0, word.size()}}};
  }
  WordCache& cache = thread_cache(uid_ * 2);
  uint64_t h = WordCache::hash(word);
  std::vector<Token> out;
  auto emit = [&](const SubToken* w, size_t n) {
    out.reserve(n);
    size_t off = 0;
    for (size_t i = 0; i < n; ++i) {
      auto [id, len] = w[i];
      out.push_back({id, std::string(token_string(id)), {off, off + len}});
      off += len;
    }
  };
  size_t n = 0;
  if (const SubToken* hit = cache.find(word, h, &n)) {
    emit(hit, n);
    return out;
  }
  std::vector<SubToken> w;
  for (auto [id, len] : merge_word(word)) w.push_back({id, static_cast<uint32_t>(len)});
  emit(w.data(), w.size());
  if (word.size() < kMaxCachedWord) cache.insert(word, h, w.data(), w.size());
  return out;
}

void BPE::tokenize_byte_level(std::string_view bytes, std::vector<SubToken>& out) const {
  if (bytes.empty()) return;
  WordCache& cache = thread_cache(uid_ * 2 + 1);
  uint64_t h = WordCache::hash(bytes);
  size_t n = 0;
  if (const SubToken* hit = cache.find(bytes, h, &n)) {
    out.insert(out.end(), hit, hit + n);
    return;
  }
  // Miss: map to the byte-level alphabet and run the general path; then count mapped chars
  // (one per byte) to get the lengths in bytes.
  std::string mapped;
  mapped.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) unicode::append_utf8(mapped, byte_level::byte_to_char(b));
  std::vector<SubToken> w;
  bool whole = false;
  if (ignore_merges_) {
    auto v = vocab_.find(std::string_view(mapped));
    if (v != vocab_.end()) {
      w.push_back({v->second, static_cast<uint32_t>(bytes.size())});
      whole = true;
    }
  }
  if (!whole) {
    size_t pos = 0;
    for (auto [id, len] : merge_word(mapped)) {
      uint32_t n = static_cast<uint32_t>(unicode::count_chars(std::string_view(mapped).substr(pos, len)));
      pos += len;
      w.push_back({id, n});
    }
  }
  out.insert(out.end(), w.begin(), w.end());
  if (bytes.size() < kMaxCachedWord) cache.insert(bytes, h, w.data(), w.size());
}

}  // namespace cppformers::tokenizers
