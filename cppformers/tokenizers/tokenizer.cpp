#include "cppformers/tokenizers/tokenizer.hpp"

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

Tokenizer Tokenizer::from_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IOError(path + ": cannot open tokenizer file");
  std::stringstream ss;
  ss << f.rdbuf();
  return from_json_string(ss.str(), path);
}

Tokenizer Tokenizer::from_json_string(const std::string& contents, const std::string& name) {
  json j;
  try {
    j = json::parse(contents);
  } catch (const json::parse_error& e) {
    throw FormatError(name + ": invalid JSON: " + e.what());
  }
  return from_json(j, name);
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
  return t;
}

static void check_utf8(const std::string& s) {
  size_t bad = unicode::find_invalid_utf8(s);
  if (bad != std::string::npos) throw ValueError("input text is not valid UTF-8 (invalid byte at offset " + std::to_string(bad) + ")");
}

Encoding Tokenizer::encode_single(const std::string& text, uint32_t type_id) const {
  check_utf8(text);
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
