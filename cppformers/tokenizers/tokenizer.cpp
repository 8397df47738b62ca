#include "cppformers/tokenizers/tokenizer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "cppformers/core/error.hpp"

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

// SAX handler: a JSON tree of everything except model.vocab (an object) and model.merges (an
// array), which go to LargeFields as they are read. Anything unexpected inside those two (a
// non-integer id, a malformed merge, a repeated key) stops the parse: the caller then builds the
// whole tree, whose checks report the problem exactly as before.
class StreamingHandler : public nlohmann::json_sax<json> {
 public:
  StreamingHandler(json& root, LargeFields& large) : dom_(root, true), large_(large) {}
  bool aborted() const { return aborted_; }

  bool null() override { return in_large() ? abort() : dom_.null(); }
  bool boolean(bool v) override { return in_large() ? abort() : dom_.boolean(v); }
  bool number_integer(number_integer_t v) override {
    if (!in_large()) return dom_.number_integer(v);
    if (mode_ != Mode::Vocab || v < 0) return abort();
    return vocab_value(static_cast<uint64_t>(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (!in_large()) return dom_.number_unsigned(v);
    if (mode_ != Mode::Vocab) return abort();
    return vocab_value(v);
  }
  bool number_float(number_float_t v, const string_t& s) override { return in_large() ? abort() : dom_.number_float(v, s); }
  bool binary(binary_t& b) override { return in_large() ? abort() : dom_.binary(b); }
  bool string(string_t& v) override {
    if (!in_large()) return dom_.string(v);
    if (mode_ != Mode::Merges) return abort();
    if (large_depth_ == 1) {
      large_.merges.push_back({std::move(v), {}, false});
    } else {  // inside a [a, b] pair
      if (pair_n_ == 0) pair_a_ = std::move(v);
      else if (pair_n_ == 1) pair_b_ = std::move(v);
      else return abort();
      ++pair_n_;
    }
    return true;
  }
  bool start_object(std::size_t n) override {
    if (in_large()) return abort();
    if (depth_ == 2 && in_model_ && last_key_ == "vocab") {
      if (large_.has_vocab) return abort();
      large_.has_vocab = true;
      mode_ = Mode::Vocab;
      large_depth_ = 1;
      ++depth_;
      return dom_.start_object(0) && dom_.end_object();  // an empty placeholder
    }
    in_model_next_ = depth_ == 1 && last_key_ == "model";
    ++depth_;
    if (depth_ == 2) in_model_ = in_model_next_;
    return dom_.start_object(n);
  }
  bool key(string_t& k) override {
    if (in_large()) {
      if (mode_ != Mode::Vocab || large_depth_ != 1) return abort();
      pending_key_ = std::move(k);
      return true;
    }
    if (depth_ <= 2) last_key_ = k;
    return dom_.key(k);
  }
  bool end_object() override {
    if (in_large()) {
      if (mode_ != Mode::Vocab || large_depth_ != 1) return abort();
      mode_ = Mode::None;
      --depth_;
      return true;
    }
    if (depth_ == 2) in_model_ = false;
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) override {
    if (in_large()) {
      if (mode_ != Mode::Merges || large_depth_ != 1) return abort();
      large_depth_ = 2;
      pair_n_ = 0;
      return true;
    }
    if (depth_ == 2 && in_model_ && last_key_ == "merges") {
      if (large_.has_merges) return abort();
      large_.has_merges = true;
      mode_ = Mode::Merges;
      large_depth_ = 1;
      ++depth_;
      return dom_.start_array(0) && dom_.end_array();
    }
    ++depth_;
    return dom_.start_array(n);
  }
  bool end_array() override {
    if (in_large()) {
      if (mode_ != Mode::Merges) return abort();
      if (large_depth_ == 2) {
        if (pair_n_ != 2) return abort();
        large_.merges.push_back({std::move(pair_a_), std::move(pair_b_), true});
        large_depth_ = 1;
        return true;
      }
      mode_ = Mode::None;
      --depth_;
      return true;
    }
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = e.what();
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  enum class Mode { None, Vocab, Merges };
  bool in_large() const { return mode_ != Mode::None; }
  bool abort() {
    aborted_ = true;
    return false;
  }
  bool vocab_value(uint64_t v) {
    if (large_depth_ != 1) return abort();
    large_.vocab.emplace_back(std::move(pending_key_), v);
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  LargeFields& large_;
  Mode mode_ = Mode::None;
  int depth_ = 0, large_depth_ = 0, pair_n_ = 0;
  bool in_model_ = false, in_model_next_ = false, aborted_ = false;
  std::string last_key_, pending_key_, pair_a_, pair_b_, error_;
};

// The file's bytes: mapped and pre-faulted (much cheaper than faulting in a fresh buffer page by
// page), or read through a stream when mapping is not possible.
struct FileBytes {
  const char* data = nullptr;
  size_t size = 0;
  void* map = nullptr;
  std::string fallback;
  explicit FileBytes(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IOError(path + ": cannot open tokenizer file");
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (m != MAP_FAILED) {
        map = m;
        data = static_cast<const char*>(m);
        size = static_cast<size_t>(st.st_size);
      }
    }
    ::close(fd);
    if (!map) {
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
    if (map) ::munmap(map, size);
  }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
};

Tokenizer parse_and_build(const char* data, size_t size, const std::string& name) {
  // Streaming first; the tree parse when the streamed form does not apply.
  try {
    json root;
    LargeFields large;
    StreamingHandler h(root, large);
    bool ok = json::sax_parse(data, data + size, &h);
    if (ok && !h.aborted()) {
      const json* model = root.is_object() ? jsonutil::find(root, "model") : nullptr;
      large.model = model;
      ScopedLargeFields scope(model ? &large : nullptr);
      return Tokenizer::from_json(root, name);
    }
    if (!h.aborted()) throw FormatError(name + ": invalid JSON: " + h.error());
  } catch (const nlohmann::detail::exception& e) {
    throw FormatError(name + ": invalid JSON: " + e.what());
  } catch (const NeedsTreeParse&) {
  }
  json j;
  try {
    j = json::parse(data, data + size);
  } catch (const json::parse_error& e) {
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
  return encode(EncodeInput{text, std::nullopt}, add_special_tokens);
}

Encoding Tokenizer::encode(const std::string& text, const std::string& pair, bool add_special_tokens) const {
  return encode(EncodeInput{text, pair}, add_special_tokens);
}

Encoding Tokenizer::encode(const EncodeInput& input, bool add_special_tokens) const {
  return encode_with(input, add_special_tokens, truncation_ ? &*truncation_ : nullptr, padding_ ? &*padding_ : nullptr);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<EncodeInput>& inputs, bool add_special_tokens) const {
  std::vector<Encoding> out(inputs.size());
  std::vector<std::string> errors(inputs.size());
  bool failed = false;
#pragma omp parallel for schedule(dynamic, 1) if (inputs.size() > 1)
  for (long i = 0; i < static_cast<long>(inputs.size()); ++i) {
    try {
      out[i] = encode(inputs[i], add_special_tokens);
    } catch (const std::exception& e) {
      errors[i] = e.what();
#pragma omp atomic write
      failed = true;
    }
  }
  if (failed)
    for (size_t i = 0; i < errors.size(); ++i)
      if (!errors[i].empty()) throw ValueError("batch input " + std::to_string(i) + ": " + errors[i]);
  if (padding_) pad_encodings(out, *padding_);
  return out;
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts, bool add_special_tokens) const {
  std::vector<EncodeInput> in;
  in.reserve(texts.size());
  for (const auto& t : texts) in.push_back({t, std::nullopt});
  return encode_batch(in, add_special_tokens);
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
