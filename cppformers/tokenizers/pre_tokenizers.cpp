#include "cppformers/tokenizers/pre_tokenizers.hpp"

#include "cppformers/tokenizers/byte_level.hpp"
#include "cppformers/tokenizers/regex.hpp"
#include "cppformers/tokenizers/unicode_scripts.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;
using unicode::CharChange;

PrependScheme parse_prepend_scheme(const json& j, const std::string& where) {
  if (find(j, "prepend_scheme")) {
    std::string s = get_string(j, "prepend_scheme", where);
    if (s == "always") return PrependScheme::Always;
    if (s == "never") return PrependScheme::Never;
    if (s == "first") return PrependScheme::First;
    fail(where + ".prepend_scheme", "unknown value '" + s + "' (expected always, never or first)");
  }
  return get_bool_or(j, "add_prefix_space", where, true) ? PrependScheme::Always : PrependScheme::Never;
}

namespace {

// Splits every split with a pattern and a behaviour.
void split_all(PreTokenizedString& p, const Pattern& pat, SplitBehavior b) {
  p.split_normalized([&](size_t, NormalizedString&& s) { return s.split(pat, b); });
}

class BertPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& p) const override {
    static const Pattern ws = Pattern::predicate(unicode::is_whitespace);
    static const Pattern punct = Pattern::predicate(unicode::is_bert_punctuation);
    split_all(p, ws, SplitBehavior::Removed);
    split_all(p, punct, SplitBehavior::Isolated);
  }
};

const char* kGpt2Pattern = kByteLevelPattern;

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(const json& j, const std::string& where)
      : add_prefix_space_(get_bool_or(j, "add_prefix_space", where, true)),
        use_regex_(get_bool_or(j, "use_regex", where, true)) {
    if (use_regex_) re_ = std::make_unique<Regex>(kGpt2Pattern, where);
  }
  void pre_tokenize(PreTokenizedString& p) const override {
    if (add_prefix_space_ || use_regex_) {
      p.split_normalized([&](size_t, NormalizedString&& s) {
        if (add_prefix_space_ && s.get().rfind(' ', 0) != 0) s.prepend(" ");
        if (use_regex_) return s.split(Pattern::regex(*re_), SplitBehavior::Isolated);
        std::vector<NormalizedString> v;
        v.push_back(std::move(s));
        return v;
      });
    }
    p.normalize([](NormalizedString& s) {
      const std::string& t = s.get();
      std::vector<CharChange> out;
      out.reserve(t.size());
      for (size_t i = 0; i < t.size();) {
        size_t n = unicode::char_len(static_cast<unsigned char>(t[i]));
        for (size_t k = 0; k < n; ++k)
          out.emplace_back(byte_level::byte_to_char(static_cast<uint8_t>(t[i + k])), k > 0 ? 1 : 0);
        i += n;
      }
      s.transform(out, 0);
    });
  }

 private:
  bool add_prefix_space_, use_regex_;
  std::unique_ptr<Regex> re_;
};

// \w+|[^\w\s]+ with the regex crate's classes; whitespace removed.
class Whitespace : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_normalized([](size_t, NormalizedString&& s) {
      const std::string& t = s.get();
      std::vector<NormalizedString> out;
      size_t i = 0;
      while (i < t.size()) {
        size_t b = i;
        char32_t c = unicode::next_char(t, i);
        if (unicode::is_whitespace(c)) continue;
        bool word = unicode::is_word_char_regex(c);
        size_t e = i;
        while (e < t.size()) {
          size_t k = e;
          char32_t d = unicode::next_char(t, k);
          bool ok = word ? unicode::is_word_char_regex(d) : (!unicode::is_word_char_regex(d) && !unicode::is_whitespace(d));
          if (!ok) break;
          e = k;
        }
        if (auto sl = s.slice(b, e)) out.push_back(std::move(*sl));
        i = e;
      }
      return out;
    });
  }
};

class WhitespaceSplit : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& p) const override {
    static const Pattern ws = Pattern::predicate(unicode::is_whitespace);
    split_all(p, ws, SplitBehavior::Removed);
  }
};

class Metaspace : public PreTokenizer {
 public:
  Metaspace(const json& j, const std::string& where)
      : replacement_(get_string_or(j, "replacement", where, "\xE2\x96\x81")),
        scheme_(parse_prepend_scheme(j, where)),
        split_(get_bool_or(j, "split", where, true)) {
    std::u32string r = unicode::to_u32(replacement_);
    if (r.size() != 1) fail(where + ".replacement", "expected a single character");
    rep_char_ = r[0];
  }
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_normalized([&](size_t, NormalizedString&& s) {
      s.replace(Pattern::character(U' '), replacement_);
      bool starts = s.get().rfind(replacement_, 0) == 0;
      if (scheme_ == PrependScheme::Always) {
        if (!starts) s.prepend(replacement_);
      } else if (scheme_ == PrependScheme::First) {
        if (!starts && s.offsets_original().first == 0) s.prepend(replacement_);
      }
      if (split_) return s.split(Pattern::character(rep_char_), SplitBehavior::MergedWithNext);
      std::vector<NormalizedString> v;
      v.push_back(std::move(s));
      return v;
    });
  }

 private:
  std::string replacement_;
  char32_t rep_char_ = 0;
  PrependScheme scheme_;
  bool split_;
};

class SplitPre : public PreTokenizer {
 public:
  SplitPre(const json& j, const std::string& where)
      : behavior_(parse_split_behavior(get_string(j, "behavior", where), where + ".behavior")),
        invert_(get_bool_or(j, "invert", where, false)) {
    const json& pat = get_object(j, "pattern", where);
    if (find(pat, "Regex")) re_ = std::make_unique<Regex>(get_string(pat, "Regex", where + ".pattern"), where + ".pattern.Regex");
    else literal_ = get_string(pat, "String", where + ".pattern");
  }
  void pre_tokenize(PreTokenizedString& p) const override {
    Pattern pat = re_ ? Pattern::regex(*re_) : Pattern::literal(literal_);
    if (invert_) pat = pat.inverted();
    split_all(p, pat, behavior_);
  }

 private:
  SplitBehavior behavior_;
  bool invert_;
  std::unique_ptr<Regex> re_;
  std::string literal_;
};

class Punctuation : public PreTokenizer {
 public:
  Punctuation(const json& j, const std::string& where)
      : behavior_(parse_split_behavior(get_string_or(j, "behavior", where, "Isolated"), where + ".behavior")) {}
  void pre_tokenize(PreTokenizedString& p) const override {
    static const Pattern punct = Pattern::predicate(unicode::is_bert_punctuation);
    split_all(p, punct, behavior_);
  }

 private:
  SplitBehavior behavior_;
};

class Digits : public PreTokenizer {
 public:
  Digits(const json& j, const std::string& where) : individual_(get_bool_or(j, "individual_digits", where, false)) {}
  void pre_tokenize(PreTokenizedString& p) const override {
    static const Pattern num = Pattern::predicate(unicode::is_numeric);
    split_all(p, num, individual_ ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
  }

 private:
  bool individual_;
};

class CharDelimiterSplit : public PreTokenizer {
 public:
  CharDelimiterSplit(const json& j, const std::string& where) {
    std::u32string d = unicode::to_u32(get_string(j, "delimiter", where));
    if (d.size() != 1) fail(where + ".delimiter", "expected a single character");
    delim_ = d[0];
  }
  void pre_tokenize(PreTokenizedString& p) const override {
    split_all(p, Pattern::character(delim_), SplitBehavior::Removed);
  }

 private:
  char32_t delim_ = 0;
};

class SequencePre : public PreTokenizer {
 public:
  SequencePre(const json& j, const std::string& where) {
    const json& arr = get_array(j, "pretokenizers", where);
    for (size_t i = 0; i < arr.size(); ++i)
      items_.push_back(make_pre_tokenizer(arr[i], where + ".pretokenizers[" + std::to_string(i) + "]"));
  }
  void pre_tokenize(PreTokenizedString& p) const override {
    for (const auto& t : items_) t->pre_tokenize(p);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

template <typename T>
Registry<PreTokenizer>::Factory with_json() {
  return [](const json& j, const std::string& w) -> std::unique_ptr<PreTokenizer> { return std::make_unique<T>(j, w); };
}
template <typename T>
Registry<PreTokenizer>::Factory plain() {
  return [](const json&, const std::string&) -> std::unique_ptr<PreTokenizer> { return std::make_unique<T>(); };
}

const Registry<PreTokenizer>& registry() {
  static const Registry<PreTokenizer> r = [] {
    Registry<PreTokenizer> reg;
    reg.add("BertPreTokenizer", plain<BertPreTokenizer>());
    reg.add("ByteLevel", with_json<ByteLevel>());
    reg.add("Whitespace", plain<Whitespace>());
    reg.add("WhitespaceSplit", plain<WhitespaceSplit>());
    reg.add("Metaspace", with_json<Metaspace>());
    reg.add("Split", with_json<SplitPre>());
    reg.add("Punctuation", with_json<Punctuation>());
    reg.add("Digits", with_json<Digits>());
    reg.add("CharDelimiterSplit", with_json<CharDelimiterSplit>());
    reg.add("UnicodeScripts", [](const json&, const std::string&) { return make_unicode_scripts_pre_tokenizer(); });
    reg.add("Sequence", with_json<SequencePre>());
    return reg;
  }();
  return r;
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const std::string& where) {
  return registry().create(j, where, "pre-tokenizer");
}

}  // namespace cppformers::tokenizers
