#include "cppformers/tokenizers/tokenizer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "cppformers/core/error.hpp"
#include "cppformers/core/huge_pages.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

TruncationParams parse_truncation(const json& j, const std::string& where) {
  TruncationParams t;
  if (!j.is_object()) fail(where, "expected an object");
  t.max_length = get_uint_or(j, "max_length", where, 512);
  t.stride = get_uint_or(j, "stride", where, 0);
  std::string s = get_string_or(j, "strategy", where, "LongestFirst");
  if (s == "LongestFirst" || s == "longest_first") t.strategy = TruncationStrategy::LongestFirst;
  else if (s == "OnlyFirst" || s == "only_first") t.strategy = TruncationStrategy::OnlyFirst;
  else if (s == "OnlySecond" || s == "only_second") t.strategy = TruncationStrategy::OnlySecond;
  else fail(where + ".strategy", "unknown truncation strategy '" + s + "'");
  std::string d = get_string_or(j, "direction", where, "Right");
  if (d == "Right" || d == "right") t.direction = TruncationDirection::Right;
  else if (d == "Left" || d == "left") t.direction = TruncationDirection::Left;
  else fail(where + ".direction", "unknown direction '" + d + "'");
  return t;
}

PaddingParams parse_padding(const json& j, const std::string& where) {
  PaddingParams p;
  if (!j.is_object()) fail(where, "expected an object");
  if (const json* s = find(j, "strategy")) {
    if (s->is_string()) {
      if (*s != "BatchLongest") fail(where + ".strategy", "unknown padding strategy '" + s->get<std::string>() + "'");
    } else if (s->is_object() && find(*s, "Fixed")) {
      p.fixed = true;
      p.fixed_length = get_uint(*s, "Fixed", where + ".strategy");
    } else {
      fail(where + ".strategy", "expected \"BatchLongest\" or {\"Fixed\": n}");
    }
  }
  std::string d = get_string_or(j, "direction", where, "Right");
  if (d == "Right" || d == "right") p.direction = PaddingDirection::Right;
  else if (d == "Left" || d == "left") p.direction = PaddingDirection::Left;
  else fail(where + ".direction", "unknown direction '" + d + "'");
  p.pad_to_multiple_of = get_uint_or(j, "pad_to_multiple_of", where, 0);
  p.pad_id = static_cast<uint32_t>(get_uint_or(j, "pad_id", where, 0));
  p.pad_type_id = static_cast<uint32_t>(get_uint_or(j, "pad_type_id", where, 0));
  p.pad_token = get_string_or(j, "pad_token", where, "[PAD]");
  return p;
}

namespace {

// The loader reads model.vocab (an object) and model.merges (an array) of a tokenizer.json
// straight from the file's bytes into LargeFields (string views into the file, no allocation per
// token), and parses the rest of the file, with those two values replaced by {} and [], into a
// JSON tree. The scan of the structure around them only has to find string boundaries and
// brackets; what it cuts out it parses strictly (JSON strings with every escape, well-formed
// UTF-8, non-negative integer ids) and replaces with an empty value of the same kind, so the rest
// is valid JSON exactly when the file is. Anything it does not handle (an unexpected value inside
// the two, a key written with escapes, a repeated key, a parse error anywhere) makes the caller
// parse the whole file into a tree, which then reports errors exactly as the plain parser does.
class LargeFieldScanner {
 public:
  LargeFieldScanner(const char* data, size_t size, LargeFields& large)
      : base_(data), p_(data), end_(data + size), lf_(large) {}

  // False: use the tree parse. True: `cuts` holds the [begin, end) byte ranges of the values
  // read into `large` (none, one or two, in file order).
  bool run(std::vector<std::pair<size_t, size_t>>& cuts) {
    if (static_cast<size_t>(end_ - base_) >= LargeFields::kDecoded) return false;
    ws();
    if (p_ == end_ || *p_ != '{') return false;
    // The structure scan: a stack of containers (true: object), whether the next string in the
    // innermost object is a key, and where the model object is.
    std::vector<bool> stack;
    bool expect_key = false;
    size_t model_depth = 0;  // stack depth inside the model object; 0 before it
    bool seen_model = false;
    while (p_ < end_) {
      char c = *p_;
      if (c == '"') {
        if (!(expect_key && !stack.empty() && stack.back())) {
          if (!skip_string()) return false;
          continue;
        }
        const char* k0 = p_ + 1;
        if (!skip_string()) return false;
        std::string_view key(k0, static_cast<size_t>(p_ - 1 - k0));
        expect_key = false;
        size_t depth = stack.size();
        bool top = depth == 1, in_model = model_depth != 0 && depth == model_depth;
        if (!top && !in_model) continue;
        if (key.find('\\') != std::string_view::npos) return false;
        ws();
        if (p_ == end_ || *p_ != ':') return false;
        ++p_;
        ws();
        if (p_ == end_) return false;
        if (top && key == "model") {
          if (seen_model) return false;
          seen_model = true;
          if (*p_ == '{') model_depth = depth + 1;
        } else if (in_model && key == "vocab" && *p_ == '{') {
          if (lf_.has_vocab || lf_.has_scored_vocab) return false;
          size_t b = static_cast<size_t>(p_ - base_);
          if (!parse_vocab()) return false;
          lf_.has_vocab = true;
          cuts.emplace_back(b, static_cast<size_t>(p_ - base_));
        } else if (in_model && key == "merges" && *p_ == '[') {
          if (lf_.has_merges) return false;
          size_t b = static_cast<size_t>(p_ - base_);
          if (!parse_merges()) return false;
          lf_.has_merges = true;
          cuts.emplace_back(b, static_cast<size_t>(p_ - base_));
        } else if (in_model && key == "vocab" && *p_ == '[') {
          if (lf_.has_vocab || lf_.has_scored_vocab) return false;
          size_t b = static_cast<size_t>(p_ - base_);
          if (!parse_scored_vocab()) return false;
          lf_.has_scored_vocab = true;
          cuts.emplace_back(b, static_cast<size_t>(p_ - base_));
        } else if (in_model && (key == "vocab" || key == "merges")) {
          if (key == "vocab" ? lf_.has_vocab || lf_.has_scored_vocab : lf_.has_merges) return false;  // repeated: the tree decides
        }
        continue;
      }
      ++p_;
      switch (c) {
        case '{':
        case '[':
          stack.push_back(c == '{');
          expect_key = c == '{';
          break;
        case '}':
        case ']':
          if (stack.empty() || stack.back() != (c == '}')) return false;
          if (model_depth != 0 && stack.size() == model_depth) model_depth = std::string::npos;  // left it
          stack.pop_back();
          expect_key = false;
          break;
        case ',':
          expect_key = !stack.empty() && stack.back();
          break;
        default:
          break;
      }
    }
    return stack.empty();
  }

 private:
  static bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
  void ws() {
    while (p_ < end_ && is_ws(*p_)) ++p_;
  }
  // Consumes `c` and the whitespace after it if `c` is next; false (nothing consumed) otherwise.
  bool eat(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    ws();
    return true;
  }
  // After a list or object element (and its whitespace): 1 past a ',' (more follow), 0 past the
  // closing `close`, -1 on anything else.
  int next_or_close(char close) {
    if (eat(',')) return 1;
    if (p_ < end_ && *p_ == close) {
      ++p_;
      return 0;
    }
    return -1;
  }
  // p_ at an opening quote: moves past the closing one (no validation). False at end of input.
  bool skip_string() {
    ++p_;
    while (true) {
      const void* q = std::memchr(p_, '"', static_cast<size_t>(end_ - p_));
      if (!q) return false;
      const char* e = static_cast<const char*>(q);
      size_t backslashes = 0;
      for (const char* b = e; b > p_ && b[-1] == '\\'; --b) ++backslashes;
      p_ = e + 1;
      if (backslashes % 2 == 0) return true;
    }
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(uint32_t& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(p_[i]);
      if (h < 0) return false;
      v = v << 4 | static_cast<uint32_t>(h);
    }
    p_ += 4;
    return true;
  }
  // One well-formed UTF-8 sequence of 2-4 bytes at p_ (the JSON lexer's rule): advances past it.
  bool utf8_seq() {
    auto in = [&](ptrdiff_t k, unsigned lo, unsigned hi) {
      if (end_ - p_ <= k) return false;
      unsigned b = static_cast<unsigned char>(p_[k]);
      return b >= lo && b <= hi;
    };
    unsigned c = static_cast<unsigned char>(*p_);
    int n;
    if (c >= 0xC2 && c <= 0xDF) n = in(1, 0x80, 0xBF) ? 2 : 0;
    else if (c == 0xE0) n = in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    else if (c == 0xED) n = in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
    else if (c == 0xF0) n = in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    else if (c >= 0xF1 && c <= 0xF3) n = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    else if (c == 0xF4) n = in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    else n = 0;
    p_ += n;
    return n != 0;
  }
  // A JSON string at p_ (an opening quote), validated as the JSON parser would; its text goes to
  // `out` (a view into the file, or, when it has escapes, into lf_.decoded).
  bool parse_string(LargeFields::Str& out) {
    ++p_;
    const char* start = p_;
    while (p_ < end_) {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = {static_cast<uint32_t>(start - base_), static_cast<uint32_t>(p_ - start)};
        ++p_;
        return true;
      }
      if (c == '\\') break;
      if (c < 0x20) return false;
      if (c < 0x80) ++p_;
      else if (!utf8_seq()) return false;
    }
    if (p_ == end_) return false;
    // Escapes: decode into lf_.decoded.
    std::string& d = lf_.decoded;
    size_t off = d.size();
    d.append(start, static_cast<size_t>(p_ - start));
    while (p_ < end_) {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        if (d.size() >= LargeFields::kDecoded) return false;
        out = {static_cast<uint32_t>(off) | LargeFields::kDecoded, static_cast<uint32_t>(d.size() - off)};
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        const char* s0 = p_;
        if (!utf8_seq()) return false;
        d.append(s0, static_cast<size_t>(p_ - s0));
        continue;
      }
      if (c != '\\') {
        d.push_back(static_cast<char>(c));
        ++p_;
        continue;
      }
      if (end_ - p_ < 2) return false;
      char e = p_[1];
      p_ += 2;
      switch (e) {
        case '"': d.push_back('"'); break;
        case '\\': d.push_back('\\'); break;
        case '/': d.push_back('/'); break;
        case 'b': d.push_back('\b'); break;
        case 'f': d.push_back('\f'); break;
        case 'n': d.push_back('\n'); break;
        case 'r': d.push_back('\r'); break;
        case 't': d.push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          unicode::append_utf8(d, static_cast<char32_t>(cp));
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  // {"token": id, ...} with non-negative integer ids.
  bool parse_vocab() {
    ++p_;
    ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    lf_.vocab.reserve(static_cast<size_t>(end_ - p_) / 12);
    while (true) {
      if (p_ == end_ || *p_ != '"') return false;
      LargeFields::Str key;
      if (!parse_string(key)) return false;
      ws();
      if (!eat(':')) return false;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      uint64_t id = 0;
      if (*p_ == '0') {
        ++p_;
      } else {
        int digits = 0;
        while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
          if (++digits > 19) return false;
          id = id * 10 + static_cast<uint64_t>(*p_ - '0');
          ++p_;
        }
      }
      if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
      lf_.vocab.push_back({key, id});
      ws();
      const int more = next_or_close('}');
      if (more <= 0) return more == 0;
    }
  }
  // A JSON number at p_, as the JSON tree's get<double>() gives it: integers (that fit 64 bits)
  // converted from their integer value, others through strtod, as the JSON parser does.
  bool parse_number(double& out) {
    const char* b = p_;
    const char* q = p_;
    if (q < end_ && *q == '-') ++q;
    if (q == end_ || *q < '0' || *q > '9') return false;
    if (*q == '0') {
      ++q;
    } else {
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
    }
    bool integer = true;
    if (q < end_ && *q == '.') {
      integer = false;
      ++q;
      if (q == end_ || *q < '0' || *q > '9') return false;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      integer = false;
      ++q;
      if (q < end_ && (*q == '+' || *q == '-')) ++q;
      if (q == end_ || *q < '0' || *q > '9') return false;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
    }
    size_t n = static_cast<size_t>(q - b);
    if (n >= 64) return false;
    char buf[64];
    std::memcpy(buf, b, n);
    buf[n] = '\0';
    char* e = nullptr;
    errno = 0;
    if (integer && *b == '-') {
      long long v = std::strtoll(buf, &e, 10);
      if (errno == ERANGE) return false;  // the JSON parser then reads it as a float
      out = static_cast<double>(v);
    } else if (integer) {
      unsigned long long v = std::strtoull(buf, &e, 10);
      if (errno == ERANGE) return false;
      out = static_cast<double>(v);
    } else {
      out = std::strtod(buf, &e);
      if (errno == ERANGE) return false;  // let the JSON parser decide about over/underflow
    }
    if (e != buf + n) return false;
    p_ = q;
    return true;
  }
  // [["piece", score], ...] (a Unigram vocab).
  bool parse_scored_vocab() {
    ++p_;
    ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    lf_.scored_vocab.reserve(static_cast<size_t>(end_ - p_) / 16);
    while (true) {
      LargeFields::ScoredPiece sp{};
      if (!eat('[')) return false;
      if (p_ == end_ || *p_ != '"' || !parse_string(sp.piece)) return false;
      ws();
      if (!eat(',') || !parse_number(sp.score)) return false;
      ws();
      if (!eat(']')) return false;
      lf_.scored_vocab.push_back(sp);
      ws();
      const int more = next_or_close(']');
      if (more <= 0) return more == 0;
    }
  }
  // ["a b", ...] or [["a", "b"], ...] (or a mix).
  bool parse_merges() {
    ++p_;
    ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    lf_.merges.reserve(static_cast<size_t>(end_ - p_) / 12);
    while (true) {
      if (p_ == end_) return false;
      LargeFields::Merge m{};
      if (*p_ == '"') {
        if (!parse_string(m.a)) return false;
        m.pair = false;
      } else if (eat('[')) {
        if (p_ == end_ || *p_ != '"' || !parse_string(m.a)) return false;
        ws();
        if (!eat(',') || p_ == end_ || *p_ != '"' || !parse_string(m.b)) return false;
        ws();
        if (!eat(']')) return false;
        m.pair = true;
      } else {
        return false;
      }
      lf_.merges.push_back(m);
      ws();
      const int more = next_or_close(']');
      if (more <= 0) return more == 0;
    }
  }

  const char* base_;
  const char* p_;
  const char* end_;
  LargeFields& lf_;
};

// The file's bytes: read into huge pages (on the dev VM, much cheaper than mapping the file and
// faulting its pages in one by one), or read through a stream when that is not possible.
struct FileBytes {
  const char* data = nullptr;
  size_t size = 0;
  char* buf = nullptr;
  size_t buf_size = 0;
  std::string fallback;
  explicit FileBytes(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IOError(path + ": cannot open tokenizer file");
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      size_t n = static_cast<size_t>(st.st_size);
      buf_size = std::max(n, kHugePagesMin);
      buf = static_cast<char*>(huge_pages_alloc(buf_size));
      size_t got = 0;
      while (got < n) {
        ssize_t k = ::read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += static_cast<size_t>(k);
      }
      if (got == n) {
        data = buf;
        size = n;
      } else {
        huge_pages_free(buf, buf_size);
        buf = nullptr;
      }
    }
    ::close(fd);
    if (!buf) {
      std::ifstream f(path, std::ios::binary);
      if (!f) throw IOError(path + ": cannot open tokenizer file");
      std::stringstream ss;
      ss << f.rdbuf();
      fallback = ss.str();
      data = fallback.data();
      size = fallback.size();
    }
  }
  ~FileBytes() {
    if (buf) huge_pages_free(buf, buf_size);
  }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
};

Tokenizer parse_and_build(const char* data, size_t size, const std::string& name) {
  {
    LargeFields large;
    large.file = data;
    std::vector<std::pair<size_t, size_t>> cuts;
    if (LargeFieldScanner(data, size, large).run(cuts)) {
      json root;
      bool parsed = true;
      try {
        if (cuts.empty()) {
          root = json::parse(data, data + size);
        } else {
          std::string rest;
          size_t pos = 0;
          for (auto [b, e] : cuts) {
            rest.append(data + pos, b - pos);
            rest.append(data[b] == '{' ? "{}" : "[]");
            pos = e;
          }
          rest.append(data + pos, size - pos);
          root = json::parse(rest);
        }
      } catch (const json::exception& e) {  // a parse error, or a number out of range (406)
        if (cuts.empty()) throw FormatError(name + ": invalid JSON: " + e.what());
        parsed = false;  // the tree parse of the whole file reports it
      }
      if (parsed) {
        try {
          const json* model = root.is_object() ? jsonutil::find(root, "model") : nullptr;
          large.model = model;
          ScopedLargeFields scope(model ? &large : nullptr);
          return Tokenizer::from_json(root, name);
        } catch (const nlohmann::detail::exception& e) {
          throw FormatError(name + ": invalid JSON: " + e.what());
        } catch (const NeedsTreeParse&) {
        }
      }
    }
  }
  json j;
  try {
    j = json::parse(data, data + size);
  } catch (const json::exception& e) {
    throw FormatError(name + ": invalid JSON: " + e.what());
  }
  return Tokenizer::from_json(j, name);
}

}  // namespace

Tokenizer Tokenizer::from_file(const std::string& path) {
  FileBytes bytes(path);
  return parse_and_build(bytes.data, bytes.size, path);
}

Tokenizer Tokenizer::from_json_string(const std::string& contents, const std::string& name) {
  return parse_and_build(contents.data(), contents.size(), name);
}

Tokenizer Tokenizer::from_json(const json& j, const std::string& name) {
  if (!j.is_object()) fail(name, "expected a JSON object at the top level");
  Tokenizer t;
  const json* model = find(j, "model");
  if (!model) fail(name + ": model", "missing (a tokenizer.json needs a model)");
  t.model_ = make_model(*model, name + ": model");
  if (const json* n = find(j, "normalizer")) t.normalizer_ = make_normalizer(*n, name + ": normalizer");
  if (const json* p = find(j, "pre_tokenizer")) t.pre_tokenizer_ = make_pre_tokenizer(*p, name + ": pre_tokenizer");
  if (const json* p = find(j, "post_processor")) t.post_processor_ = make_post_processor(*p, name + ": post_processor");
  if (const json* d = find(j, "decoder")) t.decoder_ = make_decoder(*d, name + ": decoder");
  if (const json* tr = find(j, "truncation")) t.truncation_ = parse_truncation(*tr, name + ": truncation");
  if (const json* pd = find(j, "padding")) t.padding_ = parse_padding(*pd, name + ": padding");
  std::vector<AddedToken> added;
  if (const json* at = find(j, "added_tokens")) {
    if (!at->is_array()) fail(name + ": added_tokens", std::string("expected an array, got ") + at->type_name());
    for (size_t i = 0; i < at->size(); ++i) {
      const json& e = (*at)[i];
      std::string w = name + ": added_tokens[" + std::to_string(i) + "]";
      if (!e.is_object()) fail(w, "expected an object");
      AddedToken a;
      a.id = static_cast<uint32_t>(get_uint(e, "id", w));
      a.content = get_string(e, "content", w);
      a.single_word = get_bool_or(e, "single_word", w, false);
      a.lstrip = get_bool_or(e, "lstrip", w, false);
      a.rstrip = get_bool_or(e, "rstrip", w, false);
      a.special = get_bool_or(e, "special", w, false);
      a.normalized = get_bool_or(e, "normalized", w, !a.special);
      added.push_back(std::move(a));
    }
  }
  t.added_.build(std::move(added), *t.model_, t.normalizer_.get());
  t.fast_ = FastPath::create(j, *t.model_);
  return t;
}

static void check_utf8(const std::string& s) {
  size_t bad = unicode::find_invalid_utf8(s);
  if (bad != std::string::npos) throw ValueError("input text is not valid UTF-8 (invalid byte at offset " + std::to_string(bad) + ")");
}

Encoding Tokenizer::encode_single(const std::string& text, uint32_t type_id) const {
  check_utf8(text);
  if (fast_ && fast_enabled_) {
    Encoding e;
    if (fast_->encode(text, type_id, added_, e)) return e;
  }
  PreTokenizedString p = added_.extract_and_normalize(normalizer_.get(), text);
  if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(p);
  p.tokenize([&](const std::string& w) { return model_->tokenize(w); });
  return p.into_encoding(type_id, true);
}

size_t Tokenizer::num_special_tokens_to_add(bool is_pair) const {
  return post_processor_ ? post_processor_->added_tokens(is_pair) : 0;
}

Encoding Tokenizer::post_process(Encoding encoding, std::optional<Encoding> pair, bool add_special_tokens,
                                 const TruncationParams* truncation, const PaddingParams* padding) const {
  if (truncation) {
    size_t n_added = num_special_tokens_to_add(pair.has_value());
    TruncationParams p = *truncation;
    if (add_special_tokens && n_added > 0) {
      if (p.max_length < n_added)
        throw ValueError("truncation: max_length " + std::to_string(p.max_length) + " is smaller than the " +
                         std::to_string(n_added) + " special tokens the post-processor adds");
      p.max_length -= n_added;
    }
    truncate_encodings(encoding, pair ? &*pair : nullptr, p);
  }
  Encoding out = post_processor_ ? post_processor_->process(std::move(encoding), pair ? &*pair : nullptr, add_special_tokens)
                                 : PostProcessor::default_process(std::move(encoding), pair ? &*pair : nullptr);
  if (padding) {
    std::vector<Encoding> v;
    v.push_back(std::move(out));
    pad_encodings(v, *padding);
    out = std::move(v[0]);
  }
  return out;
}

Encoding Tokenizer::encode_with(const EncodeInput& input, bool add_special_tokens, const TruncationParams* truncation,
                                const PaddingParams* padding) const {
  Encoding a = encode_single(input.text, 0);
  std::optional<Encoding> b;
  if (input.text_pair) b = encode_single(*input.text_pair, 1);
  return post_process(std::move(a), std::move(b), add_special_tokens, truncation, padding);
}

Encoding Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  // As encode(EncodeInput{text}), without copying the text into one.
  return post_process(encode_single(text, 0), std::nullopt, add_special_tokens, truncation_ ? &*truncation_ : nullptr,
                      padding_ ? &*padding_ : nullptr);
}

Encoding Tokenizer::encode(const std::string& text, const std::string& pair, bool add_special_tokens) const {
  return encode(EncodeInput{text, pair}, add_special_tokens);
}

Encoding Tokenizer::encode(const EncodeInput& input, bool add_special_tokens) const {
  return encode_with(input, add_special_tokens, truncation_ ? &*truncation_ : nullptr, padding_ ? &*padding_ : nullptr);
}

namespace {

// out[i] = encode(i) for i in [0, n) on all cores. Texts go to threads in chunks of up to 8 (each
// thread writes runs of neighbouring results instead of taking turns with the others on their
// cache lines, and goes to the shared loop counter 8x less often; small enough that a thread
// never waits long for another's last chunk). An input that throws makes the whole call throw,
// naming the first such input.
template <typename F>
void encode_all(size_t n, std::vector<Encoding>& out, const F& encode) {
  long count = static_cast<long>(n);
  long chunk = std::clamp<long>(count / (64 * std::max(1, omp_get_max_threads())), 1, 8);
  std::mutex mu;
  size_t first_bad = n;
  std::string first_error;
#pragma omp parallel for schedule(dynamic, chunk) if (count > 1)
  for (long i = 0; i < count; ++i) {
    try {
      out[i] = encode(static_cast<size_t>(i));
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (static_cast<size_t>(i) < first_bad) {
        first_bad = static_cast<size_t>(i);
        first_error = e.what();
      }
    }
  }
  if (first_bad < n) throw ValueError("batch input " + std::to_string(first_bad) + ": " + first_error);
}

}  // namespace

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<EncodeInput>& inputs, bool add_special_tokens) const {
  std::vector<Encoding> out(inputs.size());
  encode_all(inputs.size(), out, [&](size_t i) { return encode(inputs[i], add_special_tokens); });
  if (padding_) pad_encodings(out, *padding_);
  return out;
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts, bool add_special_tokens) const {
  std::vector<Encoding> out(texts.size());
  encode_all(texts.size(), out, [&](size_t i) { return encode(texts[i], add_special_tokens); });
  if (padding_) pad_encodings(out, *padding_);
  return out;
}

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_.token_to_id(token)) return id;
  return model_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const {
  if (auto t = added_.id_to_token(id)) return t;
  return model_->id_to_token(id);
}

size_t Tokenizer::vocab_size(bool with_added_tokens) const {
  size_t n = model_->vocab_size();
  if (!with_added_tokens) return n;
  for (const auto& t : added_.tokens())
    if (!model_->token_to_id(t.content)) ++n;
  return n;
}

std::string Tokenizer::decode(const std::vector<uint32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (uint32_t id : ids) {
    auto t = id_to_token(id);
    if (!t) continue;
    if (skip_special_tokens && added_.is_special(*t)) continue;
    tokens.push_back(std::move(*t));
  }
  if (decoder_) return decoder_->decode(std::move(tokens));
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ' ';
    out += tokens[i];
  }
  return out;
}

std::vector<std::string> Tokenizer::decode_batch(const std::vector<std::vector<uint32_t>>& ids, bool skip) const {
  std::vector<std::string> out(ids.size());
#pragma omp parallel for schedule(dynamic, 1) if (ids.size() > 1)
  for (long i = 0; i < static_cast<long>(ids.size()); ++i) out[i] = decode(ids[i], skip);
  return out;
}

std::optional<std::string> Tokenizer::normalize_str(const std::string& text) const {
  if (!normalizer_) return std::nullopt;
  check_utf8(text);
  NormalizedString ns(text);
  normalizer_->normalize(ns);
  return ns.get();
}

std::optional<std::vector<std::pair<std::string, Offsets>>> Tokenizer::pre_tokenize_str(const std::string& text) const {
  if (!pre_tokenizer_) return std::nullopt;
  check_utf8(text);
  PreTokenizedString p(text);
  pre_tokenizer_->pre_tokenize(p);
  std::vector<uint32_t> b2c(text.size());
  uint32_t ci = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++ci;
    b2c[i] = ci;
  }
  std::vector<std::pair<std::string, Offsets>> out;
  for (const auto& s : p.splits()) {
    Offsets o = s.normalized.offsets_original();
    Offsets c = o;
    if (o.first < b2c.size()) {
      c.first = b2c[o.first];
      if (o.second < b2c.size()) c.second = b2c[o.second];
      else c.second = (o.second >= 1 && o.second - 1 < b2c.size() ? b2c[o.second - 1] : c.first + 1) + 1;
    }
    out.emplace_back(s.normalized.get(), c);
  }
  return out;
}

}  // namespace cppformers::tokenizers
