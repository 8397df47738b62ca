#include "cppformers/tokenizers/added_vocabulary.hpp"

#include "cppformers/tokenizers/models.hpp"
#include "cppformers/tokenizers/normalizers.hpp"

namespace cppformers::tokenizers {

void AddedVocabulary::Matcher::add(const std::string& s, uint32_t id) {
  if (s.empty()) return;
  int node = 0;
  for (unsigned char c : s) {
    auto it = nodes[node].next.find(c);
    if (it == nodes[node].next.end()) {
      nodes.emplace_back();
      int n = static_cast<int>(nodes.size()) - 1;
      nodes[node].next[c] = n;
      node = n;
    } else {
      node = it->second;
    }
  }
  first[static_cast<unsigned char>(s[0])] = true;
  if (nodes[node].pattern < 0) {  // the first pattern wins among duplicates
    nodes[node].pattern = static_cast<int>(ids.size());
  }
  ids.push_back(id);
}

static bool is_word_char(char32_t c) { return unicode::is_alphanumeric(c) || c == U'_'; }

std::vector<std::pair<std::optional<uint32_t>, Offsets>> AddedVocabulary::Matcher::find(std::string_view s,
                                                                                        const AddedVocabulary& v) const {
  std::vector<std::pair<std::optional<uint32_t>, Offsets>> out;
  if (s.empty()) {
    out.push_back({std::nullopt, {0, 0}});
    return out;
  }
  size_t start_offset = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (!first[static_cast<unsigned char>(s[i])]) { ++i; continue; }
    int node = 0, best = -1;
    size_t best_end = 0;
    for (size_t k = i; k < s.size(); ++k) {
      auto it = nodes[node].next.find(static_cast<unsigned char>(s[k]));
      if (it == nodes[node].next.end()) break;
      node = it->second;
      if (nodes[node].pattern >= 0) { best = nodes[node].pattern; best_end = k + 1; }
    }
    if (best < 0) { ++i; continue; }
    size_t start = i, stop = best_end;
    i = best_end;  // non-overlapping: continue after this match
    uint32_t id = ids[best];
    const AddedToken& tok = v.all_[v.id_to_index_.at(id)];
    if (tok.single_word) {
      bool start_space = start == 0;
      if (!start_space) {
        size_t p = start - 1;
        while (p > 0 && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
        size_t q = p;
        start_space = !is_word_char(unicode::next_char(s, q));
      }
      bool stop_space = stop == s.size();
      if (!stop_space) {
        size_t q = stop;
        stop_space = !is_word_char(unicode::next_char(s, q));
      }
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) {
      // position after the last non-whitespace char before start
      size_t newstart = 0;
      size_t p = start;
      while (p > 0) {
        size_t q = p - 1;
        while (q > 0 && (static_cast<unsigned char>(s[q]) & 0xC0) == 0x80) --q;
        size_t r = q;
        if (!unicode::is_whitespace(unicode::next_char(s, r))) { newstart = p; break; }
        p = q;
      }
      start = std::max(newstart, start_offset);
    }
    if (tok.rstrip) {
      size_t q = stop;
      while (q < s.size()) {
        size_t r = q;
        if (!unicode::is_whitespace(unicode::next_char(s, r))) break;
        q = r;
      }
      stop = q;
      i = std::max(i, stop);
    }
    if (start_offset < start) out.push_back({std::nullopt, {start_offset, start}});
    out.push_back({id, {start, stop}});
    start_offset = stop;
  }
  if (start_offset != s.size()) out.push_back({std::nullopt, {start_offset, s.size()}});
  return out;
}

void AddedVocabulary::build(std::vector<AddedToken> tokens, const Model& model, const Normalizer* normalizer) {
  std::vector<AddedToken> specials, others;
  for (auto& t : tokens) {
    if (t.content.empty()) continue;
    if (auto mid = model.token_to_id(t.content)) t.id = *mid;
    if (t.special) special_set_.insert(t.content);
    content_to_id_[t.content] = t.id;
    (t.special ? specials : others).push_back(t);
  }
  all_.clear();
  for (auto& t : specials) all_.push_back(t);
  for (auto& t : others) all_.push_back(t);
  for (size_t i = 0; i < all_.size(); ++i) id_to_index_[all_[i].id] = i;
  for (const auto& t : all_) {
    if (!t.normalized) {
      raw_.add(t.content, t.id);
    } else {
      NormalizedString ns(t.content);
      if (normalizer) normalizer->normalize(ns);
      normalized_.add(ns.get(), t.id);
    }
  }
}

std::vector<Split> AddedVocabulary::split_with(NormalizedString&& s, const Matcher& m) const {
  std::vector<Split> out;
  for (auto& [id, off] : m.find(s.get(), *this)) {
    auto sl = s.slice(off.first, off.second);
    if (!sl) continue;
    if (id) {
      std::string value = sl->get();
      size_t len = value.size();
      out.push_back({std::move(*sl), std::vector<Token>{Token{*id, std::move(value), {0, len}}}});
    } else {
      out.push_back({std::move(*sl), std::nullopt});
    }
  }
  return out;
}

PreTokenizedString AddedVocabulary::extract_and_normalize(const Normalizer* normalizer, const std::string& text) const {
  PreTokenizedString p(text);
  p.split([&](size_t, NormalizedString&& s) { return split_with(std::move(s), raw_); });
  p.split([&](size_t, NormalizedString&& s) {
    if (normalizer) normalizer->normalize(s);
    return split_with(std::move(s), normalized_);
  });
  return p;
}

std::optional<uint32_t> AddedVocabulary::token_to_id(std::string_view content) const {
  auto it = content_to_id_.find(std::string(content));
  if (it == content_to_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> AddedVocabulary::id_to_token(uint32_t id) const {
  auto it = id_to_index_.find(id);
  if (it == id_to_index_.end()) return std::nullopt;
  return all_[it->second].content;
}

}  // namespace cppformers::tokenizers
