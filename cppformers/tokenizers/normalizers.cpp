#include "cppformers/tokenizers/normalizers.hpp"

#include <cstring>
#include <vector>

#include "cppformers/tokenizers/regex.hpp"

namespace cppformers::tokenizers {
namespace {

using namespace jsonutil;
using unicode::CharChange;

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(unicode::Form f) : form_(f) {}
  void normalize(NormalizedString& s) const override {
    switch (form_) {
      case unicode::Form::NFD: s.nfd(); break;
      case unicode::Form::NFKD: s.nfkd(); break;
      case unicode::Form::NFC: s.nfc(); break;
      case unicode::Form::NFKC: s.nfkc(); break;
    }
  }

 private:
  unicode::Form form_;
};

class Lowercase : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override { s.lowercase(); }
};

class StripAccents : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override {
    s.filter([](char32_t c) { return !unicode::is_mark(c); });
  }
};

class Strip : public Normalizer {
 public:
  Strip(bool l, bool r) : left_(l), right_(r) {}
  void normalize(NormalizedString& s) const override { s.lrstrip(left_, right_); }

 private:
  bool left_, right_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string p) : p_(std::move(p)) {}
  void normalize(NormalizedString& s) const override {
    if (!s.empty()) s.prepend(p_);
  }

 private:
  std::string p_;
};

class Append : public Normalizer {
 public:
  explicit Append(std::string p) : p_(std::move(p)) {}
  void normalize(NormalizedString& s) const override {
    if (!s.empty()) s.append(p_);
  }

 private:
  std::string p_;
};

// A "pattern" field: {"String": "..."} or {"Regex": "..."}.
struct PatternSpec {
  std::unique_ptr<Regex> regex;
  std::string literal;
  Pattern pattern() const { return regex ? Pattern::regex(*regex) : Pattern::literal(literal); }
};

PatternSpec parse_pattern(const json& j, const std::string& where) {
  PatternSpec p;
  const json& pat = get_object(j, "pattern", where);
  if (find(pat, "Regex")) p.regex = std::make_unique<Regex>(get_string(pat, "Regex", where + ".pattern"), where + ".pattern.Regex");
  else p.literal = get_string(pat, "String", where + ".pattern");
  return p;
}

class Replace : public Normalizer {
 public:
  Replace(const json& j, const std::string& where)
      : spec_(parse_pattern(j, where)), content_(get_string(j, "content", where)) {}
  void normalize(NormalizedString& s) const override { s.replace(spec_.pattern(), content_); }

 private:
  PatternSpec spec_;
  std::string content_;
};

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(const json& j, const std::string& where)
      : clean_text_(get_bool_or(j, "clean_text", where, true)),
        chinese_(get_bool_or(j, "handle_chinese_chars", where, true)),
        lowercase_(get_bool_or(j, "lowercase", where, true)),
        strip_accents_(find(j, "strip_accents") ? get_bool_or(j, "strip_accents", where, true) : lowercase_) {}
  void normalize(NormalizedString& s) const override {
    if (clean_text_) {
      s.filter([](char32_t c) { return !(c == 0 || c == 0xFFFD || is_control(c)); });
      s.map([](char32_t c) { return is_ws(c) ? U' ' : c; });
    }
    if (chinese_) {
      const std::string& t = s.get();
      bool any = false;
      for (size_t i = 0; i < t.size() && !any;) any = unicode::is_chinese_char(unicode::next_char(t, i));
      if (any) {
        std::vector<CharChange> out;
        for (size_t i = 0; i < t.size();) {
          char32_t c = unicode::next_char(t, i);
          if (unicode::is_chinese_char(c)) {
            out.emplace_back(U' ', 0);
            out.emplace_back(c, 1);
            out.emplace_back(U' ', 1);
          } else {
            out.emplace_back(c, 0);
          }
        }
        s.transform(out, 0);
      }
    }
    if (strip_accents_) {
      s.nfd();
      s.filter([](char32_t c) { return !unicode::is_mark_nonspacing(c); });
    }
    if (lowercase_) s.lowercase();
  }

 private:
  static bool is_ws(char32_t c) { return c == '\t' || c == '\n' || c == '\r' || unicode::is_whitespace(c); }
  static bool is_control(char32_t c) {
    if (c == '\t' || c == '\n' || c == '\r') return false;
    return unicode::is_other(c);
  }
  bool clean_text_, chinese_, lowercase_, strip_accents_;
};

// SentencePiece's precompiled charsmap: a darts-clone double array trie over UTF-8 keys whose
// values index NUL-terminated replacement strings.
class Precompiled : public Normalizer {
 public:
  Precompiled(const json& j, const std::string& where) {
    std::string b64 = get_string(j, "precompiled_charsmap", where);
    std::string data = base64_decode(b64, where + ".precompiled_charsmap");
    if (data.size() < 4) fail(where + ".precompiled_charsmap", "too short");
    uint32_t trie_size;
    std::memcpy(&trie_size, data.data(), 4);
    if (trie_size % 4 != 0 || 4ull + trie_size > data.size())
      fail(where + ".precompiled_charsmap", "trie size " + std::to_string(trie_size) + " does not fit the data");
    trie_.resize(trie_size / 4);
    std::memcpy(trie_.data(), data.data() + 4, trie_size);
    normalized_ = data.substr(4 + trie_size);
    if (trie_.empty()) fail(where + ".precompiled_charsmap", "empty trie");
  }

  void normalize(NormalizedString& s) const override {
    const std::string& text = s.get();
    std::vector<CharChange> t;
    t.reserve(text.size());
    bool modified = false;
    std::string_view sv(text);
    for (auto [gs, ge] : unicode::graphemes(sv)) {
      std::string_view g = sv.substr(gs, ge - gs);
      if (g.size() < 6) {
        if (auto norm = transform(g)) {
          modified = true;
          replace(t, g, *norm);
          continue;
        }
      }
      for (size_t i = 0; i < g.size();) {
        size_t b = i;
        char32_t c = unicode::next_char(g, i);
        std::string_view part = g.substr(b, i - b);
        if (auto norm = transform(part)) {
          modified = true;
          replace(t, part, *norm);
        } else {
          t.emplace_back(c, 0);
        }
      }
    }
    if (modified) s.transform(t, 0);
  }

 private:
  static void replace(std::vector<CharChange>& t, std::string_view old_part, std::string_view new_part) {
    long old_count = static_cast<long>(unicode::count_chars(old_part));
    long new_count = static_cast<long>(unicode::count_chars(new_part));
    long diff = new_count - old_count;
    size_t first = t.size();
    for (size_t i = 0; i < new_part.size();) t.emplace_back(unicode::next_char(new_part, i), 0);
    if (diff > 0) {
      for (long k = 0; k < diff && t.size() > first + k; ++k) t[t.size() - 1 - k].second = 1;
    } else if (diff < 0) {
      if (!t.empty()) t.back().second += static_cast<int>(diff);
    }
  }

  std::optional<std::string_view> transform(std::string_view chunk) const {
    // common prefix search; the first (shortest) hit wins
    size_t node = 0;
    uint32_t unit = trie_[0];
    node ^= offset(unit);
    for (unsigned char c : chunk) {
      if (c == 0) break;
      node ^= c;
      if (node >= trie_.size()) return std::nullopt;
      unit = trie_[node];
      if (label(unit) != c) return std::nullopt;
      node ^= offset(unit);
      if (has_leaf(unit)) {
        if (node >= trie_.size()) return std::nullopt;
        size_t idx = value(trie_[node]);
        if (idx >= normalized_.size()) return std::nullopt;
        size_t end = normalized_.find('\0', idx);
        if (end == std::string::npos) end = normalized_.size();
        return std::string_view(normalized_).substr(idx, end - idx);
      }
    }
    return std::nullopt;
  }
  static bool has_leaf(uint32_t u) { return (u >> 8) & 1; }
  static uint32_t value(uint32_t u) { return u & ((1u << 31) - 1); }
  static uint32_t label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
  static uint32_t offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

  static std::string base64_decode(const std::string& in, const std::string& where) {
    static int8_t table[256];
    static bool init = false;
    if (!init) {
      std::memset(table, -1, sizeof table);
      const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(a[i])] = static_cast<int8_t>(i);
      init = true;
    }
    std::string out;
    out.reserve(in.size() * 3 / 4);
    uint32_t buf = 0;
    int bits = 0;
    for (char ch : in) {
      if (ch == '=' || ch == '\n' || ch == '\r') continue;
      int v = table[static_cast<unsigned char>(ch)];
      if (v < 0) fail(where, "invalid base64 character");
      buf = (buf << 6) | static_cast<uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<char>((buf >> bits) & 0xFF));
      }
    }
    return out;
  }

  std::vector<uint32_t> trie_;
  std::string normalized_;
};

class SequenceNormalizer : public Normalizer {
 public:
  SequenceNormalizer(const json& j, const std::string& where) {
    const json& arr = get_array(j, "normalizers", where);
    for (size_t i = 0; i < arr.size(); ++i)
      items_.push_back(make_normalizer(arr[i], where + ".normalizers[" + std::to_string(i) + "]"));
  }
  void normalize(NormalizedString& s) const override {
    for (const auto& n : items_) n->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

const Registry<Normalizer>& registry() {
  static const Registry<Normalizer> r = [] {
    Registry<Normalizer> reg;
    auto simple = [&](const char* name, auto make) {
      reg.add(name, [make](const json&, const std::string&) -> std::unique_ptr<Normalizer> { return make(); });
    };
    simple("NFD", [] { return std::make_unique<UnicodeForm>(unicode::Form::NFD); });
    simple("NFKD", [] { return std::make_unique<UnicodeForm>(unicode::Form::NFKD); });
    simple("NFC", [] { return std::make_unique<UnicodeForm>(unicode::Form::NFC); });
    simple("NFKC", [] { return std::make_unique<UnicodeForm>(unicode::Form::NFKC); });
    simple("Lowercase", [] { return std::make_unique<Lowercase>(); });
    simple("StripAccents", [] { return std::make_unique<StripAccents>(); });
    reg.add("Strip", [](const json& j, const std::string& w) -> std::unique_ptr<Normalizer> {
      return std::make_unique<Strip>(get_bool_or(j, "strip_left", w, true), get_bool_or(j, "strip_right", w, true));
    });
    reg.add("Prepend", [](const json& j, const std::string& w) -> std::unique_ptr<Normalizer> {
      return std::make_unique<Prepend>(get_string(j, "prepend", w));
    });
    reg.add("Append", [](const json& j, const std::string& w) -> std::unique_ptr<Normalizer> {
      return std::make_unique<Append>(get_string(j, "append", w));
    });
    reg.add("Replace", [](const json& j, const std::string& w) -> std::unique_ptr<Normalizer> {
      return std::make_unique<Replace>(j, w);
    });
    reg.add("BertNormalizer", [](const json& j, const std::string& w) -> std::unique_ptr<Normalizer> {
      return std::make_unique<BertNormalizer>(j, w);
    });
    reg.add("Precompiled", [](const json& j, const std::string& w) -> std::unique_ptr<Normalizer> {
      return std::make_unique<Precompiled>(j, w);
    });
    reg.add("Sequence", [](const json& j, const std::string& w) -> std::unique_ptr<Normalizer> {
      return std::make_unique<SequenceNormalizer>(j, w);
    });
    return reg;
  }();
  return r;
}

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& j, const std::string& where) {
  return registry().create(j, where, "normalizer");
}

}  // namespace cppformers::tokenizers
