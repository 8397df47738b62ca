#include "cppformers/tokenizers/model_unigram.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

Unigram::Unigram(const json& j, const std::string& where) {
  min_score_ = std::numeric_limits<double>::infinity();
  if (const LargeFields* lf = LargeFields::current(j); lf && lf->has_scored_vocab) {
    // Read by the loader straight from the file (the JSON holds an empty placeholder).
    pieces_.reserve(lf->scored_vocab.size());
    ids_.reserve(lf->scored_vocab.size());
    for (size_t i = 0; i < lf->scored_vocab.size(); ++i) {
      std::string_view piece = lf->str(lf->scored_vocab[i].piece);
      double score = lf->scored_vocab[i].score;
      ids_[piece] = static_cast<uint32_t>(i);
      max_piece_len_ = std::max(max_piece_len_, piece.size());
      if (score < min_score_) min_score_ = score;
      pieces_.emplace_back(std::string(piece), score);
    }
  }
  static const json kNone = json::array();
  const json& v = pieces_.empty() ? get_array(j, "vocab", where) : kNone;
  if (pieces_.empty()) pieces_.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    std::string w = where + ".vocab[" + std::to_string(i) + "]";
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      fail(w, "expected [piece, score]");
    std::string piece = e[0].get<std::string>();
    double score = e[1].get<double>();
    ids_[piece] = static_cast<uint32_t>(i);
    max_piece_len_ = std::max(max_piece_len_, piece.size());
    if (score < min_score_) min_score_ = score;
    pieces_.emplace_back(std::move(piece), score);
  }
  if (find(j, "unk_id")) {
    uint64_t u = get_uint(j, "unk_id", where);
    if (pieces_.empty()) fail(where + ".vocab", "empty vocabulary but unk_id is set");
    if (u >= pieces_.size()) fail(where + ".unk_id", "unk_id " + std::to_string(u) + " is not in the vocabulary");
    unk_id_ = u;
  }
  byte_fallback_ = get_bool_or(j, "byte_fallback", where, false);
  build_trie();
}

void Unigram::build_trie() {
  // From the pieces sorted by bytes, depth first: the pieces under a node share its prefix.
  std::vector<uint32_t> order;
  order.reserve(pieces_.size());
  for (uint32_t i = 0; i < pieces_.size(); ++i)
    if (!pieces_[i].first.empty()) order.push_back(i);
  std::vector<std::string_view> key(pieces_.size());
  for (size_t i = 0; i < pieces_.size(); ++i) key[i] = pieces_[i].first;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return key[a] < key[b]; });
  trie_.reserve(order.size() * 2);
  edge_byte_.reserve(order.size() * 2);
  edge_child_.reserve(order.size() * 2);
  trie_.assign(1, TrieNode{});
  edge_byte_.clear();
  edge_child_.clear();
  std::fill(std::begin(root_child_), std::end(root_child_), 0u);
  struct Task {
    uint32_t node;
    size_t lo, hi, depth;  // order[lo, hi): the pieces with this node's prefix (depth bytes)
  };
  std::vector<Task> stack{{0, 0, order.size(), 0}};
  while (!stack.empty()) {
    Task t = stack.back();
    stack.pop_back();
    size_t lo = t.lo;
    // A piece that ends here sorts first (duplicates: the id the vocabulary map gives).
    while (lo < t.hi && pieces_[order[lo]].first.size() == t.depth) {
      trie_[t.node].value = static_cast<int32_t>(ids_.find(pieces_[order[lo]].first)->second);
      ++lo;
    }
    uint32_t begin = static_cast<uint32_t>(edge_byte_.size());
    size_t first_child = stack.size();
    for (size_t i = lo; i < t.hi;) {
      unsigned char b = static_cast<unsigned char>(pieces_[order[i]].first[t.depth]);
      size_t k = i;
      while (k < t.hi && static_cast<unsigned char>(pieces_[order[k]].first[t.depth]) == b) ++k;
      uint32_t child = static_cast<uint32_t>(trie_.size());
      trie_.push_back(TrieNode{});
      edge_byte_.push_back(b);
      edge_child_.push_back(child);
      if (t.node == 0) root_child_[b] = child;
      stack.push_back({child, i, k, t.depth + 1});
      i = k;
    }
    trie_[t.node].child_begin = begin;
    trie_[t.node].child_end = static_cast<uint32_t>(edge_byte_.size());
    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first_child), stack.end());  // first child on top
  }
}

std::optional<uint32_t> Unigram::token_to_id(std::string_view token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
}
std::optional<std::string> Unigram::id_to_token(uint32_t id) const {
  if (id < pieces_.size()) return pieces_[id].first;
  return std::nullopt;
}

std::vector<Unigram::Piece> Unigram::encode(const std::string& s) const {
  struct Node {
    size_t id = 0;
    double score = 0;
    bool set = false;
    size_t starts_at = 0;
  };
  const size_t size = s.size();
  const double unk_score = min_score_ - 10.0;
  thread_local std::vector<Node> best;
  best.assign(size + 1, Node{});
  auto offer = [&](size_t end, size_t start, double cand, size_t id) {
    Node& t = best[end];
    if (!t.set || cand > t.score) {
      t.score = cand;
      t.set = true;
      t.starts_at = start;
      t.id = id;
    }
  };
  size_t pos = 0;
  while (pos < size) {
    double till_here = best[pos].score;
    bool has_single = false;
    size_t mblen = unicode::char_len(static_cast<unsigned char>(s[pos]));
    // Every piece that starts at pos, shortest first: one walk down the trie.
    size_t maxl = std::min(max_piece_len_, size - pos);
    uint32_t node = root_child_[static_cast<unsigned char>(s[pos])];
    for (size_t len = 1; node != 0; ++len) {
      const TrieNode& n = trie_[node];
      if (n.value >= 0) {
        offer(pos + len, pos, pieces_[static_cast<size_t>(n.value)].second + till_here, static_cast<size_t>(n.value));
        if (len == mblen) has_single = true;
      }
      if (len >= maxl) break;
      unsigned char next = static_cast<unsigned char>(s[pos + len]);
      uint32_t child = 0;
      for (uint32_t e = n.child_begin; e < n.child_end; ++e) {
        if (edge_byte_[e] == next) {
          child = edge_child_[e];
          break;
        }
        if (edge_byte_[e] > next) break;
      }
      node = child;
    }
    if (!has_single) {
      if (!unk_id_) throw ValueError("Unigram: encountered an unknown character but the model has no unk_id");
      offer(pos + mblen, pos, unk_score + till_here, *unk_id_);
    }
    pos += mblen;
  }
  // Back from the end; consecutive unknown characters fuse into one piece.
  std::vector<Piece> results;
  size_t end = size, unk_end = 0;
  bool in_unk = false;
  while (end > 0) {
    const Node& n = best[end];
    size_t start = n.starts_at;
    if (unk_id_ && n.id == *unk_id_) {
      if (!in_unk) unk_end = end;
      in_unk = true;
    } else {
      if (in_unk) results.push_back({end, unk_end, std::nullopt});
      in_unk = false;
      results.push_back({start, end, static_cast<uint32_t>(n.id)});
    }
    end = start;
  }
  if (in_unk) results.push_back({0, unk_end, std::nullopt});
  std::reverse(results.begin(), results.end());
  return results;
}

std::vector<Token> Unigram::tokenize(const std::string& word) const {
  if (word.empty()) return {};
  std::vector<Token> out;
  for (const Piece& p : encode(word)) {
    size_t offset = p.start, len = p.end - p.start;
    std::string piece = word.substr(p.start, len);
    uint32_t id;
    if (p.id) {
      id = *p.id;
    } else if (auto it = ids_.find(piece); it != ids_.end()) {
      id = it->second;
    } else {
      if (byte_fallback_) {
        std::vector<Token> bytes;
        bool ok = true;
        for (unsigned char b : piece) {
          char name[8];
          std::snprintf(name, sizeof name, "<0x%02X>", b);
          auto bi = ids_.find(std::string_view(name));
          if (bi == ids_.end()) { ok = false; break; }
          bytes.push_back({bi->second, name, {offset, offset + len}});
        }
        if (ok) {
          for (auto& t : bytes) out.push_back(std::move(t));
          continue;
        }
      }
      if (!unk_id_) throw ValueError("Unigram: unknown piece but the model has no unk_id");
      id = static_cast<uint32_t>(*unk_id_);
    }
    out.push_back({id, std::move(piece), {offset, offset + len}});
  }
  return out;
}

}  // namespace cppformers::tokenizers
