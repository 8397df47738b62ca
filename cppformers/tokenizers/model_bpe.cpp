#include "cppformers/tokenizers/model_bpe.hpp"
#include "cppformers/tokenizers/model_simple.hpp"

#include <cstdio>
#include <queue>

#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

Vocab parse_vocab_map(const json& j, const std::string& where, std::vector<std::string>& vocab_r,
                         std::vector<bool>& has_id) {
  const json& v = get_object(j, "vocab", where);
  Vocab vocab;
  vocab.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_unsigned() && !(it.value().is_number_integer() && it.value().get<int64_t>() >= 0))
      fail(where + ".vocab[\"" + it.key() + "\"]", std::string("expected a non-negative integer id, got ") + it.value().type_name());
    uint64_t id = it.value().get<uint64_t>();
    if (id > 0xFFFFFFF0ull) fail(where + ".vocab[\"" + it.key() + "\"]", "id out of range");
    vocab[it.key()] = static_cast<uint32_t>(id);
    if (vocab_r.size() <= id) {
      vocab_r.resize(id + 1);
      has_id.resize(id + 1, false);
    }
    vocab_r[id] = it.key();
    has_id[id] = true;
  }
  return vocab;
}

BPE::BPE(const json& j, const std::string& where) {
  vocab_ = parse_vocab_map(j, where, vocab_r_, has_id_);
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
  if (m) {
    merges_.reserve(m->size());
    std::string merged;
    for (size_t i = 0; i < m->size(); ++i) {
      const json& e = (*m)[i];
      auto w = [&] { return where + ".merges[" + std::to_string(i) + "]"; };
      std::string_view a, b;
      if (e.is_string()) {
        const std::string& s = e.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos) fail(w(), "expected \"a b\" (two tokens separated by a space), got '" + s + "'");
        a = std::string_view(s).substr(0, sp);
        b = std::string_view(s).substr(sp + 1);
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        a = e[0].get_ref<const std::string&>();
        b = e[1].get_ref<const std::string&>();
      } else {
        fail(w(), "expected a string \"a b\" or a pair [\"a\", \"b\"]");
      }
      auto ia = vocab_.find(a);
      if (ia == vocab_.end()) fail(w(), "merge token '" + std::string(a) + "' is not in the vocabulary");
      auto ib = vocab_.find(b);
      if (ib == vocab_.end()) fail(w(), "merge token '" + std::string(b) + "' is not in the vocabulary");
      if (b.size() < prefix_len) fail(w(), "merge token '" + std::string(b) + "' is shorter than the continuing_subword_prefix");
      merged.assign(a);
      merged.append(b.substr(prefix_len));
      auto im = vocab_.find(merged);
      if (im == vocab_.end()) fail(w(), "merged token '" + merged + "' is not in the vocabulary");
      merges_[(static_cast<uint64_t>(ia->second) << 32) | ib->second] = {static_cast<uint32_t>(i), im->second};
    }
  }
}

std::optional<uint32_t> BPE::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> BPE::id_to_token(uint32_t id) const {
  if (id < vocab_r_.size() && has_id_[id]) return vocab_r_[id];
  return std::nullopt;
}

const uint32_t* BPE::find_merge(uint32_t a, uint32_t b, uint32_t* rank) const {
  auto it = merges_.find((static_cast<uint64_t>(a) << 32) | b);
  if (it == merges_.end()) return nullptr;
  *rank = it->second.first;
  return &it->second.second;
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

std::vector<Token> BPE::to_tokens(const Word& w) const {
  std::vector<Token> out;
  out.reserve(w.size());
  size_t off = 0;
  for (auto [id, len] : w) {
    out.push_back({id, id < vocab_r_.size() ? vocab_r_[id] : std::string(), {off, off + len}});
    off += len;
  }
  return out;
}

std::vector<Token> BPE::tokenize(const std::string& word) const {
  if (word.empty()) return {};
  if (ignore_merges_) {
    auto it = vocab_.find(word);
    if (it != vocab_.end()) return {Token{it->second, word, {0, word.size()}}};
  }
  Shard& shard = cache_[std::hash<std::string>{}(word) % kShards];
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.map.find(word);
    if (it != shard.map.end()) return to_tokens(it->second);
  }
  Word w = merge_word(word);
  auto out = to_tokens(w);
  if (word.size() < 256) {
    std::lock_guard<std::mutex> lock(shard.mu);
    if (shard.map.size() < kCacheCapacity / kShards * 4) shard.map.emplace(word, std::move(w));
  }
  return out;
}

}  // namespace cppformers::tokenizers
