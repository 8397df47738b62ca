#include "cppformers/tokenizers/normalized_string.hpp"

#include <algorithm>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/regex.hpp"

namespace cppformers::tokenizers {

using unicode::CharChange;

// ---------------------------------------------------------------- patterns

Pattern Pattern::regex(const Regex& re) {
  Pattern p;
  p.kind_ = Kind::Regex;
  p.regex_ = &re;
  return p;
}
Pattern Pattern::literal(std::string s) {
  Pattern p;
  p.kind_ = Kind::Literal;
  p.literal_ = std::move(s);
  return p;
}
Pattern Pattern::character(char32_t c) {
  Pattern p;
  p.kind_ = Kind::Char;
  p.ch_ = c;
  return p;
}
Pattern Pattern::predicate(std::function<bool(char32_t)> f) {
  Pattern p;
  p.kind_ = Kind::Predicate;
  p.pred_ = std::move(f);
  return p;
}
Pattern Pattern::inverted() const {
  Pattern p = *this;
  p.invert_ = !p.invert_;
  return p;
}

static void ranges_to_matches(const std::vector<std::pair<size_t, size_t>>& found, size_t len,
                              std::vector<PatternMatch>& out) {
  size_t prev = 0;
  for (auto [s, e] : found) {
    if (prev != s) out.push_back({prev, s, false});
    out.push_back({s, e, true});
    prev = e;
  }
  if (prev != len) out.push_back({prev, len, false});
}

std::vector<PatternMatch> Pattern::find(std::string_view s) const {
  std::vector<PatternMatch> out;
  if (s.empty()) {
    out.push_back({0, 0, false});
  } else {
    switch (kind_) {
      case Kind::Regex:
        ranges_to_matches(regex_->find_all(s), s.size(), out);
        break;
      case Kind::Literal: {
        if (literal_.empty()) {
          out.push_back({0, s.size(), false});
          break;
        }
        std::vector<std::pair<size_t, size_t>> found;
        size_t pos = 0;
        while ((pos = s.find(literal_, pos)) != std::string_view::npos) {
          found.emplace_back(pos, pos + literal_.size());
          pos += literal_.size();
        }
        ranges_to_matches(found, s.size(), out);
        break;
      }
      case Kind::Char:
      case Kind::Predicate: {
        size_t last_offset = 0, last_seen = 0;
        for (size_t i = 0; i < s.size();) {
          size_t b = i;
          char32_t c = unicode::next_char(s, i);
          last_seen = i;
          bool m = kind_ == Kind::Char ? c == ch_ : pred_(c);
          if (m) {
            if (last_offset < b) out.push_back({last_offset, b, false});
            out.push_back({b, i, true});
            last_offset = i;
          }
        }
        if (last_seen > last_offset) out.push_back({last_offset, last_seen, false});
        break;
      }
    }
  }
  if (invert_)
    for (auto& m : out) m.is_match = !m.is_match;
  return out;
}

SplitBehavior parse_split_behavior(const std::string& s, const std::string& where) {
  if (s == "Removed") return SplitBehavior::Removed;
  if (s == "Isolated") return SplitBehavior::Isolated;
  if (s == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (s == "Contiguous") return SplitBehavior::Contiguous;
  throw FormatError(where + ": unknown split behavior '" + s + "'");
}

// ---------------------------------------------------------------- NormalizedString

NormalizedString::NormalizedString(std::string s) : original_(s), normalized_(std::move(s)) {
  alignments_.reserve(normalized_.size());
  for (size_t i = 0; i < normalized_.size();) {
    size_t n = unicode::char_len(static_cast<unsigned char>(normalized_[i]));
    for (size_t k = 0; k < n; ++k) alignments_.emplace_back(i, i + n);
    i += n;
  }
}

std::optional<Offsets> NormalizedString::convert_normalized_range(size_t start, size_t end) const {
  if (start == end) return Offsets{start, end};
  if (start > end) return std::nullopt;
  if (end > alignments_.size()) return std::nullopt;
  return Offsets{alignments_[start].first, alignments_[end - 1].second};
}

static bool is_boundary(const std::string& s, size_t i) {
  return i == 0 || i == s.size() || (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80);
}

std::optional<NormalizedString> NormalizedString::slice(size_t start, size_t end) const {
  if (start > end || end > normalized_.size()) return std::nullopt;
  if (!is_boundary(normalized_, start) || !is_boundary(normalized_, end)) return std::nullopt;
  auto orig = convert_normalized_range(start, end);
  if (!orig) return std::nullopt;
  NormalizedString out;
  size_t n_shift = orig->first;
  if (orig->first <= orig->second && orig->second <= original_.size())
    out.original_ = original_.substr(orig->first, orig->second - orig->first);
  out.normalized_ = normalized_.substr(start, end - start);
  out.alignments_.reserve(end - start);
  for (size_t i = start; i < end; ++i)
    out.alignments_.emplace_back(alignments_[i].first - n_shift, alignments_[i].second - n_shift);
  out.original_shift_ = original_shift_ + orig->first;
  return out;
}

void NormalizedString::transform_range(size_t start, size_t end, const std::vector<CharChange>& dest,
                                       size_t initial_offset) {
  // Characters being replaced, to follow the byte offsets while walking `dest`.
  std::string_view replaced(normalized_.data() + start, end - start);
  size_t rpos = 0;  // byte position in `replaced`
  auto take = [&](size_t n) {
    size_t bytes = 0;
    for (size_t k = 0; k < n && rpos < replaced.size(); ++k) {
      size_t l = unicode::char_len(static_cast<unsigned char>(replaced[rpos]));
      rpos += l;
      bytes += l;
    }
    return bytes;
  };
  size_t offset = start + take(initial_offset);
  std::string out;
  out.reserve(end - start + 8);
  std::vector<Offsets> aligns;
  aligns.reserve(end - start + 8);
  for (const auto& [c, change] : dest) {
    Offsets align;
    if (change > 0) {
      align = offset < 1 ? Offsets{0, 0} : alignments_[offset - 1];
    } else {
      align = offset < alignments_.size() ? alignments_[offset] : (alignments_.empty() ? Offsets{0, 0} : alignments_.back());
    }
    size_t replaced_size = change > 0 ? 0 : take(1);
    size_t removed = change < 0 ? take(static_cast<size_t>(-change)) : 0;
    offset += replaced_size + removed;
    size_t n = unicode::utf8_len(c);
    for (size_t k = 0; k < n; ++k) aligns.push_back(align);
    unicode::append_utf8(out, c);
  }
  alignments_.erase(alignments_.begin() + start, alignments_.begin() + end);
  alignments_.insert(alignments_.begin() + start, aligns.begin(), aligns.end());
  normalized_.replace(start, end - start, out);
}

void NormalizedString::apply_form(unicode::Form form) {
  // ASCII is invariant under every normalization form: skip the work.
  bool ascii = std::all_of(normalized_.begin(), normalized_.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return;
  transform(unicode::normalize_with_changes(normalized_, form), 0);
}

void NormalizedString::lowercase() {
  std::vector<CharChange> out;
  out.reserve(normalized_.size());
  std::u32string tmp;
  for (size_t i = 0; i < normalized_.size();) {
    char32_t c = unicode::next_char(normalized_, i);
    tmp.clear();
    unicode::to_lowercase(c, tmp);
    for (size_t k = 0; k < tmp.size(); ++k) out.emplace_back(tmp[k], k > 0 ? 1 : 0);
  }
  transform(out, 0);
}

void NormalizedString::filter(const std::function<bool(char32_t)>& keep) {
  int removed = 0;
  size_t removed_start = 0;
  std::vector<CharChange> out;
  out.reserve(normalized_.size());
  bool has_last = false;
  char32_t last_c = 0;
  for (size_t i = 0; i < normalized_.size();) {
    char32_t c = unicode::next_char(normalized_, i);
    if (keep(c)) {
      if (has_last) out.emplace_back(last_c, -removed);
      else removed_start = static_cast<size_t>(removed);
      has_last = true;
      last_c = c;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (has_last) out.emplace_back(last_c, -removed);
  transform(out, removed_start);
}

void NormalizedString::map(const std::function<char32_t(char32_t)>& f) {
  std::vector<CharChange> out;
  out.reserve(normalized_.size());
  for (size_t i = 0; i < normalized_.size();) out.emplace_back(f(unicode::next_char(normalized_, i)), 0);
  transform(out, 0);
}

void NormalizedString::prepend(std::string_view s) {
  if (normalized_.empty()) return;
  size_t i = 0;
  char32_t next = unicode::next_char(normalized_, i);
  std::vector<CharChange> t;
  size_t k = 0;
  for (size_t j = 0; j < s.size(); ++k) t.emplace_back(unicode::next_char(s, j), k != 0 ? 1 : 0);
  t.emplace_back(next, 1);
  transform_range(0, i, t, 0);
}

void NormalizedString::append(std::string_view s) {
  if (normalized_.empty()) return;
  // last char
  size_t start = normalized_.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(normalized_[start]) & 0xC0) == 0x80) --start;
  size_t i = start;
  char32_t prev = unicode::next_char(normalized_, i);
  std::vector<CharChange> t;
  t.emplace_back(prev, 0);
  for (size_t j = 0; j < s.size();) t.emplace_back(unicode::next_char(s, j), 1);
  transform_range(start, normalized_.size(), t, 0);
}

void NormalizedString::lrstrip(bool left, bool right) {
  auto chars = unicode::to_u32(normalized_);
  size_t leading = 0, trailing = 0;
  if (left)
    while (leading < chars.size() && unicode::is_whitespace(chars[leading])) ++leading;
  if (right)
    while (trailing < chars.size() - leading && unicode::is_whitespace(chars[chars.size() - 1 - trailing])) ++trailing;
  if (leading == 0 && trailing == 0) return;
  std::vector<CharChange> t;
  for (size_t i = leading; i + trailing < chars.size(); ++i)
    t.emplace_back(chars[i], (trailing > 0 && i + trailing + 1 == chars.size()) ? -static_cast<int>(trailing) : 0);
  transform(t, leading);
}

void NormalizedString::replace(const Pattern& pattern, std::string_view content) {
  std::string out;
  std::vector<Offsets> aligns;
  out.reserve(normalized_.size());
  aligns.reserve(alignments_.size());
  size_t last_end = 0;
  bool any = false;
  for (const auto& m : pattern.find(normalized_)) {
    if (!m.is_match) continue;
    any = true;
    out.append(normalized_, last_end, m.start - last_end);
    aligns.insert(aligns.end(), alignments_.begin() + last_end, alignments_.begin() + m.start);
    // Every replacement char is "inserted" after the removed match: it shares the alignment of
    // the match's last byte.
    size_t idx = m.end;
    Offsets align = idx < 1 ? Offsets{0, 0} : alignments_[idx - 1];
    for (size_t j = 0; j < content.size();) {
      char32_t c = unicode::next_char(content, j);
      size_t n = unicode::utf8_len(c);
      for (size_t k = 0; k < n; ++k) aligns.push_back(align);
      unicode::append_utf8(out, c);
    }
    last_end = m.end;
  }
  if (!any) return;
  out.append(normalized_, last_end, std::string::npos);
  aligns.insert(aligns.end(), alignments_.begin() + last_end, alignments_.end());
  normalized_ = std::move(out);
  alignments_ = std::move(aligns);
}

std::vector<NormalizedString> NormalizedString::split(const Pattern& pattern, SplitBehavior behavior) const {
  auto matches = pattern.find(normalized_);
  // (start, end, remove)
  std::vector<PatternMatch> pieces;
  pieces.reserve(matches.size());
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (auto& m : matches) pieces.push_back({m.start, m.end, false});
      break;
    case SplitBehavior::Removed:
      pieces = matches;  // is_match == remove
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool prev_match = false;
      for (auto& m : matches) {
        if (m.is_match && !prev_match && !pieces.empty()) pieces.back().end = m.end;
        else pieces.push_back({m.start, m.end, false});
        prev_match = m.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev_match = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        if (it->is_match && !prev_match && !pieces.empty()) pieces.back().start = it->start;
        else pieces.push_back({it->start, it->end, false});
        prev_match = it->is_match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool prev_match = false;
      bool first = true;
      for (auto& m : matches) {
        if (!first && m.is_match == prev_match) pieces.back().end = m.end;
        else pieces.push_back({m.start, m.end, false});
        prev_match = m.is_match;
        first = false;
      }
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(pieces.size());
  for (auto& p : pieces) {
    if (p.is_match) continue;
    auto s = slice(p.start, p.end);
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace cppformers::tokenizers
