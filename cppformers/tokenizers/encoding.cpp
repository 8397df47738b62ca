#include "cppformers/tokenizers/encoding.hpp"

#include <algorithm>

#include "cppformers/core/error.hpp"

namespace cppformers::tokenizers {

Encoding Encoding::from_tokens(const std::vector<Token>& toks, uint32_t type_id) {
  Encoding e;
  for (const auto& t : toks) e.push(t.id, t.value, t.offsets, std::nullopt, type_id, 0, 1);
  return e;
}

void Encoding::push(uint32_t id, std::string token, Offsets off, std::optional<uint32_t> word,
                    uint32_t type_id, uint32_t special, uint32_t attention) {
  ids.push_back(id);
  tokens.push_back(std::move(token));
  offsets.push_back(off);
  words.push_back(word);
  type_ids.push_back(type_id);
  special_tokens_mask.push_back(special);
  attention_mask.push_back(attention);
}

std::vector<std::optional<uint32_t>> Encoding::sequence_ids() const {
  std::vector<std::optional<uint32_t>> out(size());
  if (sequence_ranges.empty()) {
    for (auto& o : out) o = 0;
    return out;
  }
  for (const auto& [id, r] : sequence_ranges)
    for (size_t i = r.first; i < r.second && i < out.size(); ++i) out[i] = static_cast<uint32_t>(id);
  return out;
}

static Encoding sub_encoding(const Encoding& e, size_t start, size_t stop) {
  Encoding o;
  o.ids.assign(e.ids.begin() + start, e.ids.begin() + stop);
  o.type_ids.assign(e.type_ids.begin() + start, e.type_ids.begin() + stop);
  o.tokens.assign(e.tokens.begin() + start, e.tokens.begin() + stop);
  o.words.assign(e.words.begin() + start, e.words.begin() + stop);
  o.offsets.assign(e.offsets.begin() + start, e.offsets.begin() + stop);
  o.special_tokens_mask.assign(e.special_tokens_mask.begin() + start, e.special_tokens_mask.begin() + stop);
  o.attention_mask.assign(e.attention_mask.begin() + start, e.attention_mask.begin() + stop);
  return o;
}

void Encoding::truncate(size_t max_len, size_t stride, TruncationDirection direction) {
  size_t len = ids.size();
  if (max_len >= len) return;
  if (max_len == 0) {
    Encoding o = std::move(*this);
    *this = Encoding();
    overflowing.push_back(std::move(o));
    return;
  }
  if (stride >= max_len)
    throw ValueError("truncation: stride (" + std::to_string(stride) + ") must be strictly less than max_length (" +
                     std::to_string(max_len) + ", after removing the special tokens' room)");
  sequence_ranges.clear();
  size_t step = max_len - stride;
  std::vector<std::pair<size_t, size_t>> parts;
  bool end = false;
  if (direction == TruncationDirection::Right) {
    for (size_t start = 0; start < len && !end; start += step) {
      size_t stop = std::min(start + max_len, len);
      end = stop == len;
      parts.emplace_back(start, stop);
    }
  } else {
    // (0..len).rev().step_by(step): len-1, len-1-step, ...
    for (long long s = static_cast<long long>(len) - 1; s >= 0 && !end; s -= static_cast<long long>(step)) {
      size_t stop = static_cast<size_t>(s) + 1;
      size_t start = stop < max_len ? 0 : stop - max_len;
      if (start < stop) {
        end = start == 0;
        parts.emplace_back(start, stop);
      }
    }
  }
  Encoding result = sub_encoding(*this, parts[0].first, parts[0].second);
  for (size_t i = 1; i < parts.size(); ++i) result.overflowing.push_back(sub_encoding(*this, parts[i].first, parts[i].second));
  *this = std::move(result);
}

void Encoding::merge_with(Encoding pair, bool growing_offsets) {
  std::vector<Encoding> overflowings;
  for (const auto& self_o : overflowing) {
    Encoding n = self_o;
    n.merge_with(pair, growing_offsets);
    overflowings.push_back(std::move(n));
    for (const auto& other_o : pair.overflowing) {
      Encoding m = self_o;
      m.merge_with(other_o, growing_offsets);
      overflowings.push_back(std::move(m));
    }
  }
  for (const auto& other_o : pair.overflowing) {
    Encoding n = *this;
    n.merge_with(other_o, growing_offsets);
    overflowings.push_back(std::move(n));
  }
  size_t base = size();
  for (const auto& [id, r] : pair.sequence_ranges) sequence_ranges[id] = {base + r.first, base + r.second};
  ids.insert(ids.end(), pair.ids.begin(), pair.ids.end());
  type_ids.insert(type_ids.end(), pair.type_ids.begin(), pair.type_ids.end());
  for (auto& t : pair.tokens) tokens.push_back(std::move(t));
  words.insert(words.end(), pair.words.begin(), pair.words.end());
  size_t starting = growing_offsets && !offsets.empty() ? offsets.back().second : 0;
  for (auto [s, e] : pair.offsets) offsets.emplace_back(s + starting, e + starting);
  special_tokens_mask.insert(special_tokens_mask.end(), pair.special_tokens_mask.begin(), pair.special_tokens_mask.end());
  attention_mask.insert(attention_mask.end(), pair.attention_mask.begin(), pair.attention_mask.end());
  overflowing = std::move(overflowings);
}

Encoding Encoding::merge(std::vector<Encoding> encodings, bool growing_offsets) {
  // Merging into an empty encoding yields the other one unchanged (overflowing parts included):
  // start from the first instead of copying it.
  if (encodings.empty()) return Encoding();
  Encoding e = std::move(encodings[0]);
  for (size_t i = 1; i < encodings.size(); ++i) e.merge_with(std::move(encodings[i]), growing_offsets);
  return e;
}

void Encoding::pad(size_t target, uint32_t pad_id, uint32_t pad_type_id, const std::string& pad_token,
                   PaddingDirection direction) {
  for (auto& o : overflowing) o.pad(target, pad_id, pad_type_id, pad_token, direction);
  if (ids.size() >= target) return;
  size_t n = target - ids.size();
  if (direction == PaddingDirection::Left) {
    ids.insert(ids.begin(), n, pad_id);
    type_ids.insert(type_ids.begin(), n, pad_type_id);
    tokens.insert(tokens.begin(), n, pad_token);
    words.insert(words.begin(), n, std::nullopt);
    attention_mask.insert(attention_mask.begin(), n, 0);
    special_tokens_mask.insert(special_tokens_mask.begin(), n, 1);
    offsets.insert(offsets.begin(), n, Offsets{0, 0});
    for (auto& [id, r] : sequence_ranges) r = {r.first + n, r.second + n};
  } else {
    ids.insert(ids.end(), n, pad_id);
    type_ids.insert(type_ids.end(), n, pad_type_id);
    tokens.insert(tokens.end(), n, pad_token);
    words.insert(words.end(), n, std::nullopt);
    attention_mask.insert(attention_mask.end(), n, 0);
    special_tokens_mask.insert(special_tokens_mask.end(), n, 1);
    offsets.insert(offsets.end(), n, Offsets{0, 0});
  }
}

void truncate_encodings(Encoding& encoding, Encoding* pair, const TruncationParams& p) {
  if (p.max_length == 0) {
    encoding.truncate(0, p.stride, p.direction);
    if (pair) pair->truncate(0, p.stride, p.direction);
    return;
  }
  size_t total = encoding.size() + (pair ? pair->size() : 0);
  if (total <= p.max_length) return;
  size_t to_remove = total - p.max_length;
  switch (p.strategy) {
    case TruncationStrategy::LongestFirst: {
      if (pair) {
        size_t n1 = encoding.size(), n2 = pair->size();
        bool swap = false;
        if (n1 > n2) { swap = true; std::swap(n1, n2); }
        if (n1 > p.max_length) n2 = n1;
        else n2 = std::max(n1, p.max_length - n1);
        if (n1 + n2 > p.max_length) {
          n1 = p.max_length / 2;
          n2 = n1 + p.max_length % 2;
        }
        if (swap) std::swap(n1, n2);
        encoding.truncate(n1, p.stride, p.direction);
        pair->truncate(n2, p.stride, p.direction);
      } else {
        encoding.truncate(total - to_remove, p.stride, p.direction);
      }
      break;
    }
    case TruncationStrategy::OnlyFirst:
    case TruncationStrategy::OnlySecond: {
      Encoding* target = nullptr;
      if (p.strategy == TruncationStrategy::OnlyFirst) target = &encoding;
      else if (pair) target = pair;
      else throw ValueError("Truncation error: Second sequence not provided");
      size_t tl = target->size();
      if (tl > to_remove) target->truncate(tl - to_remove, p.stride, p.direction);
      else throw ValueError("Truncation error: Sequence to truncate too short to respect the provided max_length");
      break;
    }
  }
}

void pad_encodings(std::vector<Encoding>& encodings, const PaddingParams& p) {
  if (encodings.empty()) return;
  size_t len = p.fixed_length;
  if (!p.fixed) {
    len = 0;
    for (auto& e : encodings) len = std::max(len, e.size());
  }
  if (p.pad_to_multiple_of > 0 && len % p.pad_to_multiple_of > 0) len += p.pad_to_multiple_of - len % p.pad_to_multiple_of;
  for (auto& e : encodings) e.pad(len, p.pad_id, p.pad_type_id, p.pad_token, p.direction);
}

}  // namespace cppformers::tokenizers
