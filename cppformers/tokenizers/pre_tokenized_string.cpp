#include "cppformers/tokenizers/pre_tokenized_string.hpp"

namespace cppformers::tokenizers {

PreTokenizedString::PreTokenizedString(const std::string& s) : original_(s) {
  splits_.push_back({NormalizedString(s), std::nullopt});
}

void PreTokenizedString::split(const std::function<std::vector<Split>(size_t, NormalizedString&&)>& f) {
  std::vector<Split> out;
  out.reserve(splits_.size());
  for (size_t i = 0; i < splits_.size(); ++i) {
    if (splits_[i].tokens) {
      out.push_back(std::move(splits_[i]));
      continue;
    }
    for (auto& s : f(i, std::move(splits_[i].normalized)))
      if (!s.normalized.empty()) out.push_back(std::move(s));
  }
  splits_ = std::move(out);
}

void PreTokenizedString::split_normalized(
    const std::function<std::vector<NormalizedString>(size_t, NormalizedString&&)>& f) {
  std::vector<Split> out;
  out.reserve(splits_.size());
  for (size_t i = 0; i < splits_.size(); ++i) {
    if (splits_[i].tokens) {
      out.push_back(std::move(splits_[i]));
      continue;
    }
    for (auto& s : f(i, std::move(splits_[i].normalized)))
      if (!s.empty()) out.push_back({std::move(s), std::nullopt});
  }
  splits_ = std::move(out);
}

void PreTokenizedString::normalize(const std::function<void(NormalizedString&)>& f) {
  for (auto& s : splits_)
    if (!s.tokens) f(s.normalized);
}

void PreTokenizedString::tokenize(const std::function<std::vector<Token>(const std::string&)>& f) {
  for (auto& s : splits_)
    if (!s.tokens) s.tokens = f(s.normalized.get());
}

Encoding PreTokenizedString::into_encoding(uint32_t type_id, bool char_offsets) const {
  Encoding e;
  // byte -> char index of the original string
  std::vector<uint32_t> byte_to_char;
  if (char_offsets) {
    byte_to_char.resize(original_.size());
    uint32_t ci = 0;
    for (size_t i = 0; i < original_.size(); ++i) {
      if (i > 0 && (static_cast<unsigned char>(original_[i]) & 0xC0) != 0x80) ++ci;
      byte_to_char[i] = ci;
    }
  }
  auto convert = [&](Offsets o) -> Offsets {
    if (o.first >= byte_to_char.size()) return o;  // start not in the map: keep bytes
    size_t start = byte_to_char[o.first];
    if (o.second < byte_to_char.size()) return {start, byte_to_char[o.second]};
    size_t last = (o.second >= 1 && o.second - 1 < byte_to_char.size()) ? byte_to_char[o.second - 1] : start + 1;
    return {start, last + 1};
  };
  for (size_t idx = 0; idx < splits_.size(); ++idx) {
    const auto& sp = splits_[idx];
    if (!sp.tokens) continue;
    size_t shift = sp.normalized.offsets_original().first;
    for (const auto& t : *sp.tokens) {
      Offsets off = t.offsets;
      auto r = sp.normalized.convert_normalized_range(t.offsets.first, t.offsets.second);
      if (r) off = {shift + r->first, shift + r->second};
      if (char_offsets) off = convert(off);
      e.push(t.id, t.value, off, static_cast<uint32_t>(idx), type_id, 0, 1);
    }
  }
  return e;
}

}  // namespace cppformers::tokenizers
