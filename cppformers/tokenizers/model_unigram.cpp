#include "cppformers/tokenizers/model_unigram.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

Unigram::Unigram(const json& j, const std::string& where) : first_byte_(256, false) {
  const json& v = get_array(j, "vocab", where);
  pieces_.reserve(v.size());
  min_score_ = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    std::string w = where + ".vocab[" + std::to_string(i) + "]";
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      fail(w, "expected [piece, score]");
    std::string piece = e[0].get<std::string>();
    double score = e[1].get<double>();
    ids_[piece] = static_cast<uint32_t>(i);
    if (!piece.empty()) first_byte_[static_cast<unsigned char>(piece[0])] = true;
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
}

std::optional<uint32_t> Unigram::token_to_id(std::string_view token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
}
std::optional<std::string> Unigram::id_to_token(uint32_t id) const {
  if (id < pieces_.size()) return pieces_[id].first;
  return std::nullopt;
}

std::vector<std::string> Unigram::encode(const std::string& s) const {
  struct Node {
    size_t id = 0;
    double score = 0;
    bool set = false;
    size_t starts_at = 0;
  };
  const size_t size = s.size();
  const double unk_score = min_score_ - 10.0;
  std::vector<Node> best(size + 1);
  size_t pos = 0;
  while (pos < size) {
    double till_here = best[pos].score;
    bool has_single = false;
    size_t mblen = unicode::char_len(static_cast<unsigned char>(s[pos]));
    if (first_byte_[static_cast<unsigned char>(s[pos])]) {
      size_t maxl = std::min(max_piece_len_, size - pos);
      std::string_view rest(s.data() + pos, maxl);
      for (size_t len = 1; len <= maxl; ++len) {
        auto it = ids_.find(rest.substr(0, len));
        if (it == ids_.end()) continue;
        Node& t = best[pos + len];
        double cand = pieces_[it->second].second + till_here;
        if (!t.set || cand > t.score) {
          t.score = cand;
          t.set = true;
          t.starts_at = pos;
          t.id = it->second;
        }
        if (len == mblen) has_single = true;
      }
    }
    if (!has_single) {
      if (!unk_id_) throw ValueError("Unigram: encountered an unknown character but the model has no unk_id");
      Node& t = best[pos + mblen];
      double cand = unk_score + till_here;
      if (!t.set || cand > t.score) {
        t.score = cand;
        t.set = true;
        t.starts_at = pos;
        t.id = *unk_id_;
      }
    }
    pos += mblen;
  }
  std::vector<std::string> results;
  std::vector<std::string> unk_run;
  size_t end = size;
  while (end > 0) {
    const Node& n = best[end];
    size_t start = n.starts_at;
    if (unk_id_ && n.id == *unk_id_) {
      unk_run.push_back(s.substr(start, end - start));
    } else {
      if (!unk_run.empty()) {
        std::string f;
        for (auto it = unk_run.rbegin(); it != unk_run.rend(); ++it) f += *it;
        results.push_back(std::move(f));
        unk_run.clear();
      }
      results.push_back(s.substr(start, end - start));
    }
    end = start;
  }
  if (!unk_run.empty()) {
    std::string f;
    for (auto it = unk_run.rbegin(); it != unk_run.rend(); ++it) f += *it;
    results.push_back(std::move(f));
  }
  std::reverse(results.begin(), results.end());
  return results;
}

std::vector<Token> Unigram::tokenize(const std::string& word) const {
  if (word.empty()) return {};
  std::vector<Token> out;
  size_t offset = 0;
  for (auto& piece : encode(word)) {
    size_t len = piece.size();
    auto it = ids_.find(piece);
    uint32_t id;
    if (it != ids_.end()) {
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
          offset += len;
          continue;
        }
      }
      if (!unk_id_) throw ValueError("Unigram: unknown piece but the model has no unk_id");
      id = static_cast<uint32_t>(*unk_id_);
    }
    out.push_back({id, piece, {offset, offset + len}});
    offset += len;
  }
  return out;
}

}  // namespace cppformers::tokenizers
