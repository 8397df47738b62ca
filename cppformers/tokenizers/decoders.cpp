#include "cppformers/tokenizers/decoders.hpp"

#include "cppformers/tokenizers/byte_level.hpp"
#include "cppformers/tokenizers/normalized_string.hpp"
#include "cppformers/tokenizers/pre_tokenizers.hpp"
#include "cppformers/tokenizers/regex.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

std::string Decoder::decode(std::vector<std::string> tokens) const {
  std::string out;
  for (auto& t : decode_chain(std::move(tokens))) out += t;
  return out;
}

static void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  size_t pos = 0, prev = 0;
  bool any = false;
  while ((pos = s.find(from, prev)) != std::string::npos) {
    out.append(s, prev, pos - prev);
    out.append(to);
    prev = pos + from.size();
    any = true;
  }
  if (!any) return;
  out.append(s, prev, std::string::npos);
  s = std::move(out);
}

std::string cleanup_tokenization(std::string s) {
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
  return s;
}

namespace {

class ByteLevelDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      std::string tb;
      bool ok = true;
      for (size_t i = 0; i < t.size() && ok;) {
        int b = byte_level::char_to_byte(unicode::next_char(t, i));
        if (b < 0) ok = false;
        else tb.push_back(static_cast<char>(b));
      }
      bytes += ok ? tb : t;
    }
    return {unicode::from_utf8_lossy(bytes)};
  }
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(const json& j, const std::string& where)
      : prefix_(get_string_or(j, "prefix", where, "##")), cleanup_(get_bool_or(j, "cleanup", where, true)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      auto& t = tokens[i];
      if (i != 0) {
        if (t.rfind(prefix_, 0) == 0) {
          // replacen(prefix, "", 1): the first occurrence, which is at 0
          t.erase(0, prefix_.size());
        } else {
          t = " " + t;
        }
      }
      if (cleanup_) t = cleanup_tokenization(std::move(t));
    }
    return tokens;
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(const json& j, const std::string& where)
      : replacement_(get_string_or(j, "replacement", where, "\xE2\x96\x81")), scheme_(parse_prepend_scheme(j, where)) {
    auto r = unicode::to_u32(replacement_);
    if (r.size() != 1) fail(where + ".replacement", "expected a single character");
    rep_ = r[0];
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (size_t k = 0; k < t.size();) {
        char32_t c = unicode::next_char(t, k);
        if (c == rep_) {
          // the first token loses every replacement char (as the Rust library does)
          if (!(i == 0 && scheme_ != PrependScheme::Never)) out.push_back(' ');
        } else {
          unicode::append_utf8(out, c);
        }
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }

 private:
  std::string replacement_;
  char32_t rep_ = 0;
  PrependScheme scheme_;
};

class BPEDecoder : public Decoder {
 public:
  BPEDecoder(const json& j, const std::string& where) : suffix_(get_string_or(j, "suffix", where, "</w>")) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
    return tokens;
  }

 private:
  std::string suffix_;
};

class ByteFallbackDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t pending_count = 0;
    auto flush = [&] {
      if (pending_count == 0) return;
      if (unicode::find_invalid_utf8(pending) == std::string::npos) out.push_back(pending);
      else
        for (size_t k = 0; k < pending_count; ++k) out.push_back("\xEF\xBF\xBD");
      pending.clear();
      pending_count = 0;
    };
    for (auto& t : tokens) {
      int byte = -1;
      if (t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') {
        auto hex = [](char c) -> int {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          return -1;
        };
        int h = hex(t[3]), l = hex(t[4]);
        if (h >= 0 && l >= 0) byte = h * 16 + l;
      }
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    return out;
  }
};

class FuseDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string s;
    for (auto& t : tokens) s += t;
    return {s};
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(const json& j, const std::string& where)
      : start_(get_uint_or(j, "start", where, 0)), stop_(get_uint_or(j, "stop", where, 0)) {
    auto c = unicode::to_u32(get_string(j, "content", where));
    if (c.size() != 1) fail(where + ".content", "expected a single character");
    content_ = c[0];
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      auto chars = unicode::to_u32(t);
      size_t start_cut = 0;
      for (size_t i = 0; i < start_ && i < chars.size(); ++i) {
        if (chars[i] == content_) start_cut = i + 1;
        else break;
      }
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < stop_ && i < chars.size(); ++i) {
        size_t idx = chars.size() - i - 1;
        if (chars[idx] == content_) stop_cut = idx;
        else break;
      }
      std::string out;
      for (size_t i = start_cut; i < stop_cut; ++i) unicode::append_utf8(out, chars[i]);
      t = std::move(out);
    }
    return tokens;
  }

 private:
  char32_t content_ = 0;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(const json& j, const std::string& where) : content_(get_string(j, "content", where)) {
    const json& pat = get_object(j, "pattern", where);
    if (find(pat, "Regex")) re_ = std::make_unique<Regex>(get_string(pat, "Regex", where + ".pattern"), where + ".pattern.Regex");
    else literal_ = get_string(pat, "String", where + ".pattern");
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      if (re_) {
        NormalizedString ns(t);
        ns.replace(Pattern::regex(*re_), content_);
        t = ns.get();
      } else {
        replace_all(t, literal_, content_);
      }
    }
    return tokens;
  }

 private:
  std::string content_, literal_;
  std::unique_ptr<Regex> re_;
};

class CTCDecoder : public Decoder {
 public:
  CTCDecoder(const json& j, const std::string& where)
      : pad_(get_string_or(j, "pad_token", where, "<pad>")),
        delim_(get_string_or(j, "word_delimiter_token", where, "|")),
        cleanup_(get_bool_or(j, "cleanup", where, true)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 && tokens[i] == tokens[i - 1]) continue;  // dedup consecutive
      std::string t = tokens[i];
      replace_all(t, pad_, "");
      if (cleanup_) {
        t = cleanup_tokenization(std::move(t));
        replace_all(t, delim_, " ");
      }
      if (!t.empty()) out.push_back(std::move(t));
    }
    return out;
  }

 private:
  std::string pad_, delim_;
  bool cleanup_;
};

class SequenceDecoder : public Decoder {
 public:
  SequenceDecoder(const json& j, const std::string& where) {
    const json& arr = get_array(j, "decoders", where);
    for (size_t i = 0; i < arr.size(); ++i)
      items_.push_back(make_decoder(arr[i], where + ".decoders[" + std::to_string(i) + "]"));
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& d : items_) tokens = d->decode_chain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> items_;
};

template <typename T>
Registry<Decoder>::Factory with_json() {
  return [](const json& j, const std::string& w) -> std::unique_ptr<Decoder> { return std::make_unique<T>(j, w); };
}
template <typename T>
Registry<Decoder>::Factory plain() {
  return [](const json&, const std::string&) -> std::unique_ptr<Decoder> { return std::make_unique<T>(); };
}

const Registry<Decoder>& registry() {
  static const Registry<Decoder> r = [] {
    Registry<Decoder> reg;
    reg.add("ByteLevel", plain<ByteLevelDecoder>());
    reg.add("WordPiece", with_json<WordPieceDecoder>());
    reg.add("Metaspace", with_json<MetaspaceDecoder>());
    reg.add("BPEDecoder", with_json<BPEDecoder>());
    reg.add("ByteFallback", plain<ByteFallbackDecoder>());
    reg.add("Fuse", plain<FuseDecoder>());
    reg.add("Strip", with_json<StripDecoder>());
    reg.add("Replace", with_json<ReplaceDecoder>());
    reg.add("CTC", with_json<CTCDecoder>());
    reg.add("Sequence", with_json<SequenceDecoder>());
    return reg;
  }();
  return r;
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json& j, const std::string& where) {
  return registry().create(j, where, "decoder");
}

}  // namespace cppformers::tokenizers
