#include "cppformers/tokenizers/fast_path.hpp"

#include <utf8proc.h>

#include <atomic>

#include "cppformers/tokenizers/regex.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

FastPath::FastPath(const BPE& bpe) : bpe_(bpe) {}
FastPath::~FastPath() = default;

namespace {

bool has_type(const json& j, const char* type) {
  const json* t = find(j, "type");
  return t && t->is_string() && *t == type;
}

// NFC quick check (UAX #15): a string whose characters all have NFC_Quick_Check = Yes and whose
// combining marks are in canonical order is already in NFC. Yes is derived from utf8proc's data:
// not the second character of a composition pair (those are Maybe, as are Hangul vowel and
// trailing jamo), and, for a character with a canonical decomposition, NFC of the character alone
// gives it back (singletons and composition exclusions do not). Memoized per code point.
bool nfc_quick_check_yes_uncached(char32_t c) {
  if ((c >= 0x1161 && c <= 0x1175) || (c >= 0x11A8 && c <= 0x11C2)) return false;
  const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  if (p->comb_index != UINT16_MAX && (p->comb_index & 0x8000) != 0) return false;
  if (p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) {
    std::string one;
    unicode::append_utf8(one, c);
    return unicode::normalize(one, unicode::Form::NFC) == one;
  }
  return true;
}

bool nfc_quick_check_yes(char32_t c) {
  constexpr char32_t kTable = 0x30000;
  static std::atomic<uint8_t> memo[kTable];  // 0 unknown, 1 yes, 2 no or maybe
  if (c >= kTable) return nfc_quick_check_yes_uncached(c);
  uint8_t v = memo[c].load(std::memory_order_relaxed);
  if (v == 0) {
    v = nfc_quick_check_yes_uncached(c) ? 1 : 2;
    memo[c].store(v, std::memory_order_relaxed);
  }
  return v == 1;
}

bool is_cont(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Scratch buffers reused across calls on one thread.
struct Scratch {
  struct Piece {
    size_t start, end;
    std::optional<uint32_t> id;
  };
  std::vector<Piece> pieces;
  std::vector<std::pair<size_t, size_t>> ranges, next, found, words;
  std::vector<SubToken> subs;
  std::vector<uint32_t> byte_to_char;
  // The tokens of the text, gathered here first so that the Encoding's vectors are allocated
  // once at their final size. raw: an added token (its text is the input's bytes).
  struct Out {
    uint32_t id, word;
    size_t start, end;  // bytes
    bool raw;
  };
  std::vector<Out> out;
  std::string buf;
};

// Isolated split of [base, base + len) by the matches `found` (relative to base): matches and
// the gaps between them, in order, empty pieces dropped; appended to out.
void isolated(const std::vector<std::pair<size_t, size_t>>& found, size_t base, size_t len,
              std::vector<std::pair<size_t, size_t>>& out) {
  size_t prev = 0;
  for (auto [s, e] : found) {
    if (prev < s) out.emplace_back(base + prev, base + s);
    if (s < e) out.emplace_back(base + s, base + e);
    prev = e;
  }
  if (prev < len) out.emplace_back(base + prev, base + len);
}

}  // namespace

std::unique_ptr<FastPath> FastPath::create(const json& j, const Model& model) {
  const BPE* bpe = dynamic_cast<const BPE*>(&model);
  if (!bpe) return nullptr;
  std::unique_ptr<FastPath> f(new FastPath(*bpe));
  try {
    if (const json* n = find(j, "normalizer")) {
      if (has_type(*n, "NFC")) {
        f->nfc_ = true;
      } else if (has_type(*n, "Sequence")) {
        const json& items = get_array(*n, "normalizers", "normalizer");
        if (items.size() > 1) return nullptr;
        if (items.size() == 1) {
          if (!has_type(items[0], "NFC")) return nullptr;
          f->nfc_ = true;
        }
      } else {
        return nullptr;
      }
    }
    const json* p = find(j, "pre_tokenizer");
    if (!p) return nullptr;
    std::vector<const json*> items;
    if (has_type(*p, "Sequence")) {
      for (const json& x : get_array(*p, "pretokenizers", "pre_tokenizer")) items.push_back(&x);
    } else {
      items.push_back(p);
    }
    if (items.empty() || !has_type(*items.back(), "ByteLevel")) return nullptr;
    for (size_t i = 0; i + 1 < items.size(); ++i) {
      const json& s = *items[i];
      if (!has_type(s, "Split")) return nullptr;
      if (get_string_or(s, "behavior", "split", "") != "Isolated" || get_bool_or(s, "invert", "split", false)) return nullptr;
      const json* pat = find(s, "pattern");
      if (!pat || !pat->is_object()) return nullptr;
      const json* re = find(*pat, "Regex");
      if (!re || !re->is_string()) return nullptr;
      f->splits_.push_back(std::make_unique<Regex>(re->get<std::string>(), "pre_tokenizer"));
    }
    const json& bl = *items.back();
    f->add_prefix_space_ = get_bool_or(bl, "add_prefix_space", "ByteLevel", true);
    if (get_bool_or(bl, "use_regex", "ByteLevel", true)) f->byte_level_regex_ = std::make_unique<Regex>(kByteLevelPattern);
  } catch (const std::exception&) {
    return nullptr;  // the general pipeline reports malformed files
  }
  return f;
}

bool FastPath::normalized_unchanged(std::string_view s) const {
  if (!nfc_) return true;
  int last_ccc = 0;
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      last_ccc = 0;
      continue;
    }
    char32_t c = unicode::next_char(s, i);
    int ccc = utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
    if ((ccc != 0 && last_ccc > ccc) || !nfc_quick_check_yes(c)) return unicode::normalize(s, unicode::Form::NFC) == s;
    last_ccc = ccc;
  }
  return true;
}

bool FastPath::encode(std::string_view text, uint32_t type_id, const AddedVocabulary& added_, Encoding& e) const {
  thread_local Scratch sc;
  auto& pieces = sc.pieces;
  pieces.clear();
  // Added tokens matched in the raw text, then (in what is left, once normalized — here
  // unchanged) those matched in normalized text.
  auto add_gap = [&](size_t s, size_t t) {
    if (s == t) return true;
    std::string_view g = text.substr(s, t - s);
    if (!normalized_unchanged(g)) return false;
    if (!added_.has_normalized()) {
      pieces.push_back({s, t, std::nullopt});
      return true;
    }
    for (auto& [id, off] : added_.find_normalized(g))
      if (off.first < off.second) pieces.push_back({s + off.first, s + off.second, id});
    return true;
  };
  if (added_.has_raw()) {
    for (auto& [id, off] : added_.find_raw(text)) {
      if (id) {
        if (off.first < off.second) pieces.push_back({off.first, off.second, id});
      } else if (!add_gap(off.first, off.second)) {
        return false;
      }
    }
  } else if (!add_gap(0, text.size())) {
    return false;
  }

  auto& toks = sc.out;
  toks.clear();
  uint32_t word = 0;
  for (const auto& piece : pieces) {
    if (piece.id) {
      toks.push_back({*piece.id, word++, piece.start, piece.end, true});
      continue;
    }
    auto& ranges = sc.ranges;
    ranges.clear();
    ranges.emplace_back(piece.start, piece.end);
    for (const auto& re : splits_) {
      sc.next.clear();
      for (auto [s, t] : ranges) {
        sc.found.clear();
        re->find_all(text.substr(s, t - s), sc.found);
        isolated(sc.found, s, t - s, sc.next);
      }
      std::swap(ranges, sc.next);
    }
    for (auto [rs, rt] : ranges) {
      // ByteLevel: an optional leading space, the GPT-2 regex, then BPE on the raw bytes.
      std::string_view view = text.substr(rs, rt - rs);
      size_t pre = 0;
      if (add_prefix_space_ && view[0] != ' ') {
        sc.buf.assign(1, ' ');
        sc.buf.append(view);
        view = sc.buf;
        pre = 1;
      }
      sc.words.clear();
      if (byte_level_regex_) {
        sc.found.clear();
        byte_level_regex_->find_all(view, sc.found);
        isolated(sc.found, 0, view.size(), sc.words);
      } else {
        sc.words.emplace_back(0, view.size());
      }
      // Byte k of view stands for original byte rs + k - pre; the added space for the first char.
      size_t first_char_end = rs + unicode::char_len(static_cast<unsigned char>(text[rs]));
      for (auto [a, b] : sc.words) {
        sc.subs.clear();
        bpe_.tokenize_byte_level(view.substr(a, b - a), sc.subs);
        size_t pos = a;
        for (const SubToken& st : sc.subs) {
          size_t first = pos, last = pos + st.len - 1;
          pos += st.len;
          size_t start, end;
          if (first < pre) {
            start = rs;
          } else {
            start = rs + first - pre;
            while (start > rs && is_cont(text[start])) --start;
          }
          if (last < pre) {
            end = first_char_end;
          } else {
            end = rs + last - pre + 1;
            while (end < text.size() && is_cont(text[end])) ++end;
          }
          toks.push_back({st.id, word, start, end, false});
        }
        ++word;
      }
    }
  }
  // Byte offsets -> code point offsets (the identity for ASCII text).
  bool ascii = true;
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) { ascii = false; break; }
  auto& b2c = sc.byte_to_char;
  if (!ascii) {
    b2c.resize(text.size() + 1);
    uint32_t ci = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (i > 0 && !is_cont(text[i])) ++ci;
      b2c[i] = ci;
    }
    b2c[text.size()] = ci + 1;
  }
  e = Encoding();
  size_t n = toks.size();
  e.ids.resize(n);
  e.tokens.reserve(n);
  e.offsets.resize(n);
  e.words.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Scratch::Out& t = toks[i];
    e.ids[i] = t.id;
    if (t.raw) e.tokens.emplace_back(text.substr(t.start, t.end - t.start));
    else e.tokens.emplace_back(bpe_.token_string(t.id));
    e.offsets[i] = ascii ? Offsets{t.start, t.end} : Offsets{b2c[t.start], b2c[t.end]};
    e.words[i] = t.word;
  }
  e.type_ids.assign(n, type_id);
  e.special_tokens_mask.assign(n, 0);
  e.attention_mask.assign(n, 1);
  return true;
}

}  // namespace cppformers::tokenizers
