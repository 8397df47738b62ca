#include "cppformers/tokenizers/legacy_files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/pre_tokenizers.hpp"
#include "cppformers/tokenizers/sentencepiece_model.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

namespace fs = std::filesystem;

namespace {

const char* const kMetaspace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

enum class Family { Bert, Gpt2, Roberta, Clip, Qwen2, T5, Llama, XlmRoberta };

// Slow class name -> the converter transformers uses for it.
const std::map<std::string, Family>& class_families() {
  static const std::map<std::string, Family> m = {
      {"BertTokenizer", Family::Bert},
      {"DistilBertTokenizer", Family::Bert},
      {"ElectraTokenizer", Family::Bert},
      {"MobileBertTokenizer", Family::Bert},
      {"SqueezeBertTokenizer", Family::Bert},
      {"LxmertTokenizer", Family::Bert},
      {"LayoutLMTokenizer", Family::Bert},
      {"RealmTokenizer", Family::Bert},
      {"RetriBertTokenizer", Family::Bert},
      {"ConvBertTokenizer", Family::Bert},
      {"DPRContextEncoderTokenizer", Family::Bert},
      {"DPRQuestionEncoderTokenizer", Family::Bert},
      {"DPRReaderTokenizer", Family::Bert},
      {"GPT2Tokenizer", Family::Gpt2},
      {"RobertaTokenizer", Family::Roberta},
      {"BartTokenizer", Family::Roberta},
      {"LongformerTokenizer", Family::Roberta},
      {"LEDTokenizer", Family::Roberta},
      {"MvpTokenizer", Family::Roberta},
      {"CLIPTokenizer", Family::Clip},
      {"Qwen2Tokenizer", Family::Qwen2},
      {"T5Tokenizer", Family::T5},
      {"LlamaTokenizer", Family::Llama},
      {"XLMRobertaTokenizer", Family::XlmRoberta},
  };
  return m;
}

// config.json model_type -> slow class (transformers' TOKENIZER_MAPPING, for the types above).
const std::map<std::string, std::string>& model_type_classes() {
  static const std::map<std::string, std::string> m = {
      {"bert", "BertTokenizer"},           {"distilbert", "DistilBertTokenizer"},
      {"electra", "ElectraTokenizer"},     {"mobilebert", "MobileBertTokenizer"},
      {"squeezebert", "SqueezeBertTokenizer"}, {"lxmert", "LxmertTokenizer"},
      {"layoutlm", "LayoutLMTokenizer"},   {"realm", "RealmTokenizer"},
      {"convbert", "ConvBertTokenizer"},   {"dpr", "DPRQuestionEncoderTokenizer"},
      {"gpt2", "GPT2Tokenizer"},           {"gpt_neo", "GPT2Tokenizer"},
      {"gptj", "GPT2Tokenizer"},           {"roberta", "RobertaTokenizer"},
      {"bart", "BartTokenizer"},           {"longformer", "LongformerTokenizer"},
      {"led", "LEDTokenizer"},             {"mvp", "MvpTokenizer"},
      {"clip", "CLIPTokenizer"},           {"qwen2", "Qwen2Tokenizer"},
      {"qwen2_moe", "Qwen2Tokenizer"},     {"qwen3", "Qwen2Tokenizer"},
      {"t5", "T5Tokenizer"},               {"mt5", "T5Tokenizer"},
      {"umt5", "T5Tokenizer"},             {"llama", "LlamaTokenizer"},
      {"mistral", "LlamaTokenizer"},       {"mixtral", "LlamaTokenizer"},
      {"xlm-roberta", "XLMRobertaTokenizer"}, {"xlm-roberta-xl", "XLMRobertaTokenizer"},
  };
  return m;
}

// The SentencePiece file each class reads (VOCAB_FILES_NAMES), then the other usual names.
std::vector<std::string> spm_file_names(Family f) {
  std::vector<std::string> all = {"spiece.model", "tokenizer.model", "sentencepiece.bpe.model"};
  std::string first = f == Family::T5 ? "spiece.model" : f == Family::Llama ? "tokenizer.model" : "sentencepiece.bpe.model";
  std::vector<std::string> out = {first};
  for (auto& n : all)
    if (n != first) out.push_back(n);
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw IOError(p.string() + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw IOError(p.string() + ": read error");
  return ss.str();
}

void check_utf8(const std::string& text, const fs::path& p) {
  size_t bad = unicode::find_invalid_utf8(text);
  if (bad == std::string::npos) return;
  size_t line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(bad), '\n');
  throw FormatError(p.string() + ":" + std::to_string(line) + ": not valid UTF-8 (byte " + std::to_string(bad) + ")");
}

json read_json_file(const fs::path& p) {
  std::string text = read_file(p);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw FormatError(p.string() + ": invalid JSON: " + e.what());
  }
}

// Python's universal newlines (text-mode files): "\r\n" and "\r" read as "\n".
std::string universal_newlines(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t e = s.find(sep, start);
    if (e == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, e - start));
    start = e + 1;
  }
}

// Python's str.isspace() characters (what str.split() and str.strip() cut on).
bool py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python's s.split() (no argument).
std::vector<std::string> py_split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < s.size();) {
    size_t b = i;
    char32_t c = unicode::next_char(s, i);
    if (py_space(c)) {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur.append(s, b, i - b);
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

// Python's s.strip() (no argument).
std::string py_strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t i = b;
    if (!py_space(unicode::next_char(s, i))) break;
    b = i;
  }
  while (e > b) {
    size_t p = e - 1;
    while (p > b && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
    size_t i = p;
    if (!py_space(unicode::next_char(s, i))) break;
    e = p;
  }
  return s.substr(b, e - b);
}

std::string base64_encode(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Special and added tokens, as transformers holds them: a plain string, or an AddedToken.

struct TokenValue {
  std::string content;
  bool is_object = false;  // an AddedToken: the attributes below apply
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;

  bool same_as(const TokenValue& o) const {
    return content == o.content && single_word == o.single_word && lstrip == o.lstrip && rstrip == o.rstrip &&
           normalized == o.normalized && special == o.special;
  }
};

TokenValue plain(std::string s) { return TokenValue{std::move(s)}; }

TokenValue object_token(std::string s, bool special, std::optional<bool> normalized = std::nullopt, bool lstrip = false,
                        bool rstrip = false) {
  TokenValue t;
  t.content = std::move(s);
  t.is_object = true;
  t.special = special;
  t.normalized = normalized.value_or(!special);
  t.lstrip = lstrip;
  t.rstrip = rstrip;
  return t;
}

bool bool_field(const json& o, const char* key, bool def, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return def;
  if (!it->is_boolean()) throw FormatError(where + "." + key + ": expected a boolean, got " + it->type_name());
  return it->get<bool>();
}

// A token as written in a config: "text" or {"content": "text", "lstrip": ..., ...} (AddedToken(**d),
// whose `normalized` defaults to `not special`). `special` forces the flag (special_tokens_map.json).
TokenValue parse_token(const json& v, const std::string& where, std::optional<bool> special = std::nullopt) {
  if (v.is_string()) return plain(v.get<std::string>());
  if (!v.is_object()) throw FormatError(where + ": expected a string or an object with \"content\", got " + v.type_name());
  auto c = v.find("content");
  if (c == v.end() || !c->is_string()) throw FormatError(where + ".content: missing (expected a string)");
  TokenValue t;
  t.content = c->get<std::string>();
  t.is_object = true;
  t.special = special.value_or(bool_field(v, "special", false, where));
  t.single_word = bool_field(v, "single_word", false, where);
  t.lstrip = bool_field(v, "lstrip", false, where);
  t.rstrip = bool_field(v, "rstrip", false, where);
  t.normalized = bool_field(v, "normalized", !t.special, where);
  return t;
}

const char* const kSpecialKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};

struct SpecialTokens {
  std::map<std::string, std::optional<TokenValue>> named;  // key -> value (nullopt: None)
  std::vector<TokenValue> additional;

  std::optional<std::string> get(const std::string& key) const {
    auto it = named.find(key);
    if (it == named.end() || !it->second) return std::nullopt;
    return it->second->content;
  }
  // transformers' all_special_tokens_extended: named then additional, each content once.
  std::vector<TokenValue> all() const {
    std::vector<TokenValue> out;
    std::unordered_set<std::string> seen;
    for (const char* k : kSpecialKeys) {
      auto it = named.find(k);
      if (it != named.end() && it->second && seen.insert(it->second->content).second) out.push_back(*it->second);
    }
    for (const auto& t : additional)
      if (seen.insert(t.content).second) out.push_back(t);
    return out;
  }
};

// The added vocabulary the Rust library builds through add_tokens: content -> id (from the model
// vocabulary when it has the content, else the next free id), later additions of the same content
// replacing its attributes.
class AddedList {
 public:
  AddedList(const std::unordered_map<std::string, uint32_t>& vocab, size_t vocab_size)
      : vocab_(vocab), vocab_size_(vocab_size) {}

  void add(const TokenValue& t) {
    if (t.content.empty()) return;
    auto it = index_.find(t.content);
    if (it != index_.end()) {
      TokenValue& old = tokens_[it->second].second;
      if (!old.same_as(t)) old = t;
      return;
    }
    uint32_t id;
    if (auto v = vocab_.find(t.content); v != vocab_.end()) {
      id = v->second;
    } else if (max_id_) {
      id = (*max_id_ >= vocab_size_ || vocab_size_ == 0) ? *max_id_ + 1 : static_cast<uint32_t>(vocab_size_);
    } else {
      id = static_cast<uint32_t>(vocab_size_);
    }
    max_id_ = max_id_ ? std::max(*max_id_, id) : id;
    index_[t.content] = tokens_.size();
    tokens_.push_back({id, t});
  }
  bool has(const std::string& content) const { return index_.count(content) > 0; }
  const TokenValue* find(const std::string& content) const {
    auto it = index_.find(content);
    return it == index_.end() ? nullptr : &tokens_[it->second].second;
  }
  std::optional<uint32_t> id_of(const std::string& content) const {
    auto it = index_.find(content);
    if (it == index_.end()) return std::nullopt;
    return tokens_[it->second].first;
  }
  // tokenizer.json "added_tokens", by id as the library writes them.
  json to_json() const {
    auto sorted = tokens_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    json arr = json::array();
    for (const auto& [id, t] : sorted)
      arr.push_back({{"id", id},
                     {"content", t.content},
                     {"single_word", t.single_word},
                     {"lstrip", t.lstrip},
                     {"rstrip", t.rstrip},
                     {"normalized", t.normalized},
                     {"special", t.special}});
    return arr;
  }

 private:
  const std::unordered_map<std::string, uint32_t>& vocab_;
  size_t vocab_size_;
  std::vector<std::pair<uint32_t, TokenValue>> tokens_;
  std::unordered_map<std::string, size_t> index_;
  std::optional<uint32_t> max_id_;
};

// ---------------------------------------------------------------------------------------------
// The folder's configuration files.

struct FolderConfig {
  fs::path dir;
  json tokenizer_config = json::object();
  bool has_added_tokens_decoder = false;
  std::string model_type;
  std::string tokenizer_class;  // "Fast" suffix removed
  std::string class_source;     // where tokenizer_class came from, for messages
};

FolderConfig read_folder_config(const fs::path& dir) {
  FolderConfig c;
  c.dir = dir;
  fs::path tc = dir / "tokenizer_config.json";
  if (fs::exists(tc)) {
    c.tokenizer_config = read_json_file(tc);
    if (!c.tokenizer_config.is_object()) throw FormatError(tc.string() + ": expected a JSON object");
    c.has_added_tokens_decoder = c.tokenizer_config.contains("added_tokens_decoder");
    if (auto it = c.tokenizer_config.find("tokenizer_class"); it != c.tokenizer_config.end() && !it->is_null()) {
      if (!it->is_string()) throw FormatError(tc.string() + ": tokenizer_class: expected a string");
      c.tokenizer_class = it->get<std::string>();
      c.class_source = tc.string();
    }
  }
  fs::path cfg = dir / "config.json";
  if (fs::exists(cfg)) {
    json j = read_json_file(cfg);
    if (j.is_object())
      if (auto it = j.find("model_type"); it != j.end() && it->is_string()) c.model_type = it->get<std::string>();
  }
  if (c.tokenizer_class.size() > 4 && c.tokenizer_class.compare(c.tokenizer_class.size() - 4, 4, "Fast") == 0)
    c.tokenizer_class.resize(c.tokenizer_class.size() - 4);
  if (c.tokenizer_class.empty() && !c.model_type.empty()) {
    auto it = model_type_classes().find(c.model_type);
    if (it != model_type_classes().end()) {
      c.tokenizer_class = it->second;
      c.class_source = (dir / "config.json").string() + " (model_type '" + c.model_type + "')";
    }
  }
  return c;
}

template <typename T>
T config_value(const FolderConfig& c, const char* key, T def) {
  auto it = c.tokenizer_config.find(key);
  if (it == c.tokenizer_config.end() || it->is_null()) return def;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw FormatError((c.dir / "tokenizer_config.json").string() + ": " + key + ": unexpected type " + it->type_name());
  }
}

// strip_accents: None (follow lowercase) or a boolean.
json strip_accents_value(const FolderConfig& c) {
  auto it = c.tokenizer_config.find("strip_accents");
  if (it == c.tokenizer_config.end() || it->is_null()) return nullptr;
  if (!it->is_boolean()) throw FormatError((c.dir / "tokenizer_config.json").string() + ": strip_accents: expected a boolean or null");
  return *it;
}

// The class defaults of each family's fast tokenizer.
void class_defaults(Family f, const FolderConfig& c, SpecialTokens& s) {
  auto set = [&](const char* k, std::optional<TokenValue> v) { s.named[k] = std::move(v); };
  for (const char* k : kSpecialKeys) set(k, std::nullopt);
  switch (f) {
    case Family::Bert:
      set("unk_token", plain("[UNK]")), set("sep_token", plain("[SEP]")), set("pad_token", plain("[PAD]"));
      set("cls_token", plain("[CLS]")), set("mask_token", plain("[MASK]"));
      break;
    case Family::Gpt2:
      set("unk_token", plain("<|endoftext|>")), set("bos_token", plain("<|endoftext|>")), set("eos_token", plain("<|endoftext|>"));
      break;
    case Family::Roberta:
    case Family::XlmRoberta:
      set("bos_token", plain("<s>")), set("eos_token", plain("</s>")), set("sep_token", plain("</s>"));
      set("cls_token", plain("<s>")), set("unk_token", plain("<unk>")), set("pad_token", plain("<pad>"));
      set("mask_token", plain("<mask>"));
      break;
    case Family::Clip:
      set("unk_token", plain("<|endoftext|>")), set("bos_token", plain("<|startoftext|>"));
      set("eos_token", plain("<|endoftext|>")), set("pad_token", plain("<|endoftext|>"));
      break;
    case Family::Qwen2:
      set("unk_token", plain("<|endoftext|>")), set("eos_token", plain("<|endoftext|>")), set("pad_token", plain("<|endoftext|>"));
      break;
    case Family::T5:
      set("eos_token", plain("</s>")), set("unk_token", plain("<unk>")), set("pad_token", plain("<pad>"));
      break;
    case Family::Llama:
      set("unk_token", plain("<unk>")), set("bos_token", plain("<s>")), set("eos_token", plain("</s>"));
      break;
  }
}

struct AddedDecoderEntry {
  uint64_t index;
  TokenValue token;
};

// transformers' from_pretrained: the special tokens (class defaults < tokenizer_config.json <
// special_tokens_map.json in folders without added_tokens_decoder) and the added tokens
// (added_tokens_decoder, or added_tokens.json), special values then pointing at the added token of
// the same content.
void read_tokens(Family f, const FolderConfig& c, SpecialTokens& s, std::vector<AddedDecoderEntry>& decoder) {
  std::string tc = (c.dir / "tokenizer_config.json").string();
  class_defaults(f, c, s);
  bool has_additional = false;
  for (auto& [key, v] : c.tokenizer_config.items()) {
    if (std::find(std::begin(kSpecialKeys), std::end(kSpecialKeys), key) != std::end(kSpecialKeys)) {
      s.named[key] = v.is_null() ? std::nullopt : std::optional<TokenValue>(parse_token(v, tc + ": " + key));
    } else if (key == "additional_special_tokens" && !v.is_null()) {
      if (!v.is_array()) throw FormatError(tc + ": additional_special_tokens: expected an array");
      has_additional = true;
      for (size_t i = 0; i < v.size(); ++i)
        s.additional.push_back(parse_token(v[i], tc + ": additional_special_tokens[" + std::to_string(i) + "]"));
    }
  }
  std::unordered_map<std::string, TokenValue> by_content;
  if (c.has_added_tokens_decoder) {
    const json& d = c.tokenizer_config["added_tokens_decoder"];
    if (!d.is_object()) throw FormatError(tc + ": added_tokens_decoder: expected an object");
    for (auto& [k, v] : d.items()) {
      std::string where = tc + ": added_tokens_decoder." + k;
      uint64_t index;
      try {
        size_t used = 0;
        index = std::stoull(k, &used);
        if (used != k.size()) throw std::invalid_argument(k);
      } catch (const std::exception&) {
        throw FormatError(where + ": the key is not a token id");
      }
      if (!v.is_object()) throw FormatError(where + ": expected an object");
      decoder.push_back({index, parse_token(v, where)});
    }
  } else {
    fs::path stm = c.dir / "special_tokens_map.json";
    if (fs::exists(stm)) {
      json m = read_json_file(stm);
      if (!m.is_object()) throw FormatError(stm.string() + ": expected a JSON object");
      for (auto& [key, v] : m.items()) {
        std::string where = stm.string() + ": " + key;
        if (std::find(std::begin(kSpecialKeys), std::end(kSpecialKeys), key) != std::end(kSpecialKeys)) {
          if (v.is_null()) continue;
          s.named[key] = parse_token(v, where, v.is_object() ? std::optional<bool>(true) : std::nullopt);
        } else if (key == "additional_special_tokens") {
          if (!v.is_array()) throw FormatError(where + ": expected an array");
          has_additional = true;
          for (size_t i = 0; i < v.size(); ++i) {
            TokenValue t = parse_token(v[i], where + "[" + std::to_string(i) + "]",
                                       v[i].is_object() ? std::optional<bool>(true) : std::nullopt);
            bool present = std::any_of(s.additional.begin(), s.additional.end(),
                                       [&](const TokenValue& a) { return a.content == t.content; });
            if (!present) s.additional.push_back(t);
          }
        }
      }
    }
    fs::path at = c.dir / "added_tokens.json";
    if (fs::exists(at)) {
      json m = read_json_file(at);
      if (!m.is_object()) throw FormatError(at.string() + ": expected a JSON object of token -> id");
      std::unordered_set<std::string> special;
      for (const auto& t : s.all()) special.insert(t.content);
      for (auto& [tok, id] : m.items()) {
        if (!id.is_number_unsigned()) throw FormatError(at.string() + ": " + tok + ": expected a non-negative integer id");
        bool sp = special.count(tok) > 0;
        decoder.push_back({id.get<uint64_t>(), object_token(tok, sp, !sp)});
      }
    }
  }
  std::stable_sort(decoder.begin(), decoder.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  for (const auto& e : decoder) by_content[e.token.content] = e.token;
  if (!by_content.empty())
    for (auto& [key, v] : s.named)
      if (v)
        if (auto it = by_content.find(v->content); it != by_content.end()) v = it->second;
  // T5TokenizerFast: the <extra_id_N> tokens join the additional special tokens.
  if (f == Family::T5) {
    int64_t extra_ids = config_value<int64_t>(c, "extra_ids", 100);
    size_t n_extra = std::count_if(s.additional.begin(), s.additional.end(),
                                   [](const TokenValue& t) { return t.content.find("<extra_id_") != std::string::npos; });
    if (!has_additional || n_extra == 0) {
      for (int64_t i = 0; i < extra_ids; ++i) s.additional.push_back(plain("<extra_id_" + std::to_string(i) + ">"));
    } else if (extra_ids > 0 && static_cast<size_t>(extra_ids) != n_extra) {
      throw ValueError(tc + ": extra_ids is " + std::to_string(extra_ids) + " but additional_special_tokens has " +
                       std::to_string(n_extra) + " <extra_id_N> tokens");
    }
  }
  // The fast classes that wrap a plain mask token in an AddedToken of their own.
  if (auto& m = s.named["mask_token"]; m && !m->is_object) {
    if (f == Family::Roberta) m = object_token(m->content, false, false, /*lstrip=*/true);
    if (f == Family::XlmRoberta) m = object_token(m->content, false, true, /*lstrip=*/true);
  }
}

// PreTrainedTokenizerFast.__init__: the added_tokens_decoder tokens, then the special tokens the
// backend does not have yet.
void add_config_tokens(AddedList& added, const SpecialTokens& s, const std::vector<AddedDecoderEntry>& decoder) {
  std::unordered_set<std::string> special;
  for (const auto& t : s.all()) special.insert(t.content);
  for (const auto& e : decoder) {
    if (const TokenValue* old = added.find(e.token.content); old && old->same_as(e.token)) continue;
    TokenValue t = e.token;
    t.special = t.special || special.count(t.content) > 0;
    added.add(t);
  }
  for (TokenValue t : s.all()) {
    if (!t.is_object) {
      if (added.has(t.content)) continue;
      t = object_token(t.content, true);
    } else {
      t.special = true;
    }
    added.add(t);
  }
}

// ---------------------------------------------------------------------------------------------
// Component JSON, as tokenizer.json spells it.

json special_token(const std::string& id, int type_id) { return {{"SpecialToken", {{"id", id}, {"type_id", type_id}}}}; }
json sequence(const char* id, int type_id) { return {{"Sequence", {{"id", id}, {"type_id", type_id}}}}; }

json template_processing(json single, json pair, const std::vector<std::pair<std::string, uint32_t>>& specials) {
  json st = json::object();
  for (const auto& [tok, id] : specials) st[tok] = {{"id", tok}, {"ids", {id}}, {"tokens", {tok}}};
  return {{"type", "TemplateProcessing"}, {"single", std::move(single)}, {"pair", std::move(pair)}, {"special_tokens", st}};
}

json byte_level(bool add_prefix_space, bool trim_offsets, bool use_regex = true) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", trim_offsets}, {"use_regex", use_regex}};
}

json replace(const char* kind, const std::string& pattern, const std::string& content) {
  return {{"type", "Replace"}, {"pattern", {{kind, pattern}}}, {"content", content}};
}

json metaspace(const std::string& prepend_scheme, bool split = true) {
  return {{"type", "Metaspace"}, {"replacement", kMetaspace}, {"prepend_scheme", prepend_scheme}, {"split", split}};
}

// ---------------------------------------------------------------------------------------------
// Vocabulary files.

struct Vocab {
  json model_vocab;                                  // as the model's "vocab" field
  std::unordered_map<std::string, uint32_t> lookup;  // token -> id
  size_t size = 0;                                   // the model's get_vocab_size()
};

// BertTokenizer's load_vocab: one token per line (universal newlines, the line break removed),
// the line number as its id; a repeated token keeps its last line.
Vocab read_vocab_txt(const fs::path& p) {
  std::string text = read_file(p);
  check_utf8(text, p);
  text = universal_newlines(text);
  std::vector<std::string> lines = split_on(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // readlines(): no line after the last break
  if (lines.empty()) throw FormatError(p.string() + ": empty vocabulary");
  Vocab v;
  v.model_vocab = json::object();
  for (size_t i = 0; i < lines.size(); ++i) {
    v.lookup[lines[i]] = static_cast<uint32_t>(i);
    v.model_vocab[lines[i]] = i;
  }
  v.size = v.lookup.size();
  return v;
}

// vocab.json: {"token": id, ...}.
Vocab read_vocab_json(const fs::path& p) {
  json j = read_json_file(p);
  if (!j.is_object()) throw FormatError(p.string() + ": expected a JSON object of token -> id");
  Vocab v;
  for (auto& [tok, id] : j.items()) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() > 0xFFFFFFFFull)
      throw FormatError(p.string() + ": \"" + tok + "\": expected a non-negative integer id, got " + id.dump());
    v.lookup[tok] = id.get<uint32_t>();
  }
  if (v.lookup.empty()) throw FormatError(p.string() + ": empty vocabulary");
  v.size = v.lookup.size();
  v.model_vocab = std::move(j);
  return v;
}

enum class MergesStyle {
  Gpt2,   // GPT2/RobertaTokenizer: read().split("\n")[1:-1], each line .split()
  Clip,   // CLIPTokenizer: read().strip().split("\n")[1:49152-256-2+1]
  Qwen2,  // Qwen2Tokenizer: each line stripped; a "#version:" first line and empty lines skipped
};

// merges.txt as the slow class reads it, checked the way the Rust BPE checks its merges (both
// parts and their concatenation in the vocabulary); a repeated merge keeps its first rank.
json read_merges(const fs::path& p, MergesStyle style, const Vocab& vocab) {
  std::string text = read_file(p);
  check_utf8(text, p);
  text = universal_newlines(text);
  std::vector<std::pair<size_t, std::string>> lines;  // (1-based line number, text)
  if (style == MergesStyle::Gpt2) {
    auto all = split_on(text, '\n');
    for (size_t i = 1; i + 1 < all.size(); ++i) lines.push_back({i + 1, all[i]});
  } else if (style == MergesStyle::Clip) {
    size_t b = 0;  // where the leading strip() ends, for line numbers
    while (b < text.size()) {
      size_t i = b;
      if (!py_space(unicode::next_char(text, i))) break;
      b = i;
    }
    size_t lead = std::count(text.begin(), text.begin() + static_cast<long>(b), '\n');
    auto all = split_on(py_strip(text), '\n');
    for (size_t i = 1; i < all.size() && i < 49152 - 256 - 2 + 1; ++i) lines.push_back({lead + i + 1, all[i]});
  } else {
    auto all = split_on(text, '\n');
    if (!all.empty() && all.back().empty()) all.pop_back();
    for (size_t i = 0; i < all.size(); ++i) {
      std::string l = py_strip(all[i]);
      if ((i == 0 && l.rfind("#version:", 0) == 0) || l.empty()) continue;
      lines.push_back({i + 1, l});
    }
  }
  json merges = json::array();
  std::unordered_set<std::string> seen;
  for (const auto& [n, line] : lines) {
    std::string where = p.string() + ":" + std::to_string(n);
    auto parts = py_split(line);
    if (parts.size() != 2)
      throw FormatError(where + ": expected two tokens separated by a space, got " + json(line).dump());
    for (const auto& t : parts)
      if (!vocab.lookup.count(t)) throw FormatError(where + ": token " + json(t).dump() + " is not in the vocabulary");
    std::string a = parts[0], b = parts[1];
    std::string merged = a + b;
    if (!vocab.lookup.count(merged))
      throw FormatError(where + ": the merge result " + json(merged).dump() + " is not in the vocabulary");
    if (!seen.insert(a + " " + b).second) continue;
    merges.push_back({std::move(a), std::move(b)});
  }
  return merges;
}

json bpe_model(const Vocab& v, json merges, std::optional<std::string> unk, const std::string& suffix) {
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", unk ? json(*unk) : json(nullptr)},
          {"continuing_subword_prefix", ""},
          {"end_of_word_suffix", suffix},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", false},
          {"vocab", v.model_vocab},
          {"merges", std::move(merges)}};
}

// ---------------------------------------------------------------------------------------------

struct Built {
  json tok;
  std::string source;
};

// Id of a token for a post-processor, as the slow tokenizer's convert_tokens_to_ids: the
// vocabulary, then its added tokens, then the unknown token.
uint32_t token_id(const std::string& token, const Vocab& v, const std::vector<AddedDecoderEntry>& decoder,
                  const SpecialTokens& s, const std::string& cls, const char* role) {
  if (auto it = v.lookup.find(token); it != v.lookup.end()) return it->second;
  for (const auto& e : decoder)
    if (e.token.content == token) return static_cast<uint32_t>(e.index);
  if (auto unk = s.get("unk_token"))
    if (auto it = v.lookup.find(*unk); it != v.lookup.end()) return it->second;
  throw ValueError(cls + ": the " + role + " '" + token + "' is not in the vocabulary");
}

std::string required(const SpecialTokens& s, const char* key, const std::string& cls) {
  auto v = s.get(key);
  if (!v) throw ValueError(cls + " needs a " + key + " (tokenizer_config.json sets it to null)");
  return *v;
}

Built build_bert(const FolderConfig& c, const std::string& cls, SpecialTokens& s, std::vector<AddedDecoderEntry>& decoder) {
  fs::path p = c.dir / "vocab.txt";
  if (!fs::exists(p)) throw IOError(p.string() + ": missing (" + cls + " reads its WordPiece vocabulary from vocab.txt)");
  Vocab v = read_vocab_txt(p);
  std::string unk = required(s, "unk_token", cls), cls_tok = required(s, "cls_token", cls), sep = required(s, "sep_token", cls);
  json t;
  t["model"] = {{"type", "WordPiece"},
                {"unk_token", unk},
                {"continuing_subword_prefix", "##"},
                {"max_input_chars_per_word", 100},
                {"vocab", v.model_vocab}};
  t["normalizer"] = {{"type", "BertNormalizer"},
                     {"clean_text", true},
                     {"handle_chinese_chars", config_value<bool>(c, "tokenize_chinese_chars", true)},
                     {"strip_accents", strip_accents_value(c)},
                     {"lowercase", config_value<bool>(c, "do_lower_case", true)}};
  t["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  uint32_t cls_id = token_id(cls_tok, v, decoder, s, cls, "cls_token");
  uint32_t sep_id = token_id(sep, v, decoder, s, cls, "sep_token");
  t["post_processor"] = template_processing(
      {special_token(cls_tok, 0), sequence("A", 0), special_token(sep, 0)},
      {special_token(cls_tok, 0), sequence("A", 0), special_token(sep, 0), sequence("B", 1), special_token(sep, 1)},
      {{cls_tok, cls_id}, {sep, sep_id}});
  t["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
  AddedList added(v.lookup, v.size);
  add_config_tokens(added, s, decoder);
  t["added_tokens"] = added.to_json();
  return {std::move(t), p.string()};
}

Built build_bpe(Family f, const FolderConfig& c, const std::string& cls, SpecialTokens& s, std::vector<AddedDecoderEntry>& decoder) {
  fs::path vp = c.dir / "vocab.json", mp = c.dir / "merges.txt";
  if (!fs::exists(vp)) throw IOError(vp.string() + ": missing (" + cls + " reads vocab.json and merges.txt)");
  if (!fs::exists(mp)) throw IOError(mp.string() + ": missing (" + cls + " reads vocab.json and merges.txt)");
  Vocab v = read_vocab_json(vp);
  MergesStyle style = f == Family::Clip ? MergesStyle::Clip : f == Family::Qwen2 ? MergesStyle::Qwen2 : MergesStyle::Gpt2;
  json merges = read_merges(mp, style, v);
  bool add_prefix_space = config_value<bool>(c, "add_prefix_space", false);
  json t;
  switch (f) {
    case Family::Gpt2: {
      t["model"] = bpe_model(v, std::move(merges), std::nullopt, "");
      t["pre_tokenizer"] = byte_level(add_prefix_space, true);
      t["decoder"] = byte_level(true, true);
      if (config_value<bool>(c, "add_bos_token", false)) {
        std::string bos = required(s, "bos_token", cls);
        uint32_t bos_id = token_id(bos, v, decoder, s, cls, "bos_token");
        t["post_processor"] = template_processing({special_token(bos, 0), sequence("A", 0)},
                                                  {special_token(bos, 0), sequence("A", 0), sequence("B", 1)}, {{bos, bos_id}});
      } else {
        t["post_processor"] = byte_level(true, false);
      }
      break;
    }
    case Family::Roberta: {
      t["model"] = bpe_model(v, std::move(merges), std::nullopt, "");
      t["pre_tokenizer"] = byte_level(add_prefix_space, true);
      t["decoder"] = byte_level(true, true);
      std::string sep = required(s, "sep_token", cls), cls_tok = required(s, "cls_token", cls);
      t["post_processor"] = {{"type", "RobertaProcessing"},
                             {"sep", {sep, token_id(sep, v, decoder, s, cls, "sep_token")}},
                             {"cls", {cls_tok, token_id(cls_tok, v, decoder, s, cls, "cls_token")}},
                             {"trim_offsets", config_value<bool>(c, "trim_offsets", true)},
                             {"add_prefix_space", add_prefix_space}};
      break;
    }
    case Family::Clip: {
      std::string unk = required(s, "unk_token", cls);
      t["model"] = bpe_model(v, std::move(merges), unk, "</w>");
      t["normalizer"] = {{"type", "Sequence"},
                         {"normalizers", {{{"type", "NFC"}}, replace("Regex", "\\s+", " "), {{"type", "Lowercase"}}}}};
      t["pre_tokenizer"] = {
          {"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"},
             {"pattern", {{"Regex", "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"}}},
             {"behavior", "Removed"},
             {"invert", true}},
            byte_level(false, true)}}};
      t["decoder"] = byte_level(true, true);
      std::string eos = required(s, "eos_token", cls), bos = required(s, "bos_token", cls);
      t["post_processor"] = {{"type", "RobertaProcessing"},
                             {"sep", {eos, token_id(eos, v, decoder, s, cls, "eos_token")}},
                             {"cls", {bos, token_id(bos, v, decoder, s, cls, "bos_token")}},
                             {"trim_offsets", false},
                             {"add_prefix_space", false}};
      break;
    }
    case Family::Qwen2: {
      t["model"] = bpe_model(v, std::move(merges), std::nullopt, "");
      t["normalizer"] = {{"type", "NFC"}};
      t["pre_tokenizer"] = {
          {"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"},
             {"pattern",
              {{"Regex",
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
             {"behavior", "Isolated"},
             {"invert", false}},
            byte_level(add_prefix_space, true, false)}}};
      t["decoder"] = byte_level(true, true);
      t["post_processor"] = byte_level(true, false);
      break;
    }
    default:
      throw ValueError(cls + ": not a vocab.json + merges.txt tokenizer");
  }
  AddedList added(v.lookup, v.size);
  add_config_tokens(added, s, decoder);
  t["added_tokens"] = added.to_json();
  return {std::move(t), vp.string() + " + merges.txt"};
}

// SentencePiece: transformers' SentencePieceExtractor merges for a BPE model, from the pieces'
// scores: every split of every piece into two pieces, the splits of one piece ordered by the ids of
// their parts, then all of them by descending score of the piece (stable).
json spm_bpe_merges(const SentencePieceModel& m, const std::vector<std::pair<std::string, double>>& vocab_scores) {
  std::unordered_map<std::string, size_t> sp_ids;  // {piece: id}, a repeated piece keeping its last id
  for (size_t i = 0; i < m.pieces.size(); ++i) sp_ids[m.pieces[i].piece] = i;
  // dict(vocab_scores): each piece once, at its first position, with its last score.
  std::vector<std::pair<std::string, double>> scores;
  std::unordered_map<std::string, size_t> pos;
  for (const auto& [p, sc] : vocab_scores) {
    auto [it, inserted] = pos.emplace(p, scores.size());
    if (inserted) scores.push_back({p, sc});
    else scores[it->second].second = sc;
  }
  struct Merge {
    std::string l, r;
    double score;
  };
  std::vector<Merge> merges;
  for (const auto& [piece, score] : scores) {
    std::vector<Merge> local;
    for (size_t i = 0; i < piece.size();) {
      i += unicode::char_len(static_cast<unsigned char>(piece[i]));
      if (i >= piece.size()) break;
      std::string l = piece.substr(0, i), r = piece.substr(i);
      if (sp_ids.count(l) && sp_ids.count(r)) local.push_back({std::move(l), std::move(r), score});
    }
    std::stable_sort(local.begin(), local.end(), [&](const Merge& a, const Merge& b) {
      return std::make_pair(sp_ids[a.l], sp_ids[a.r]) < std::make_pair(sp_ids[b.l], sp_ids[b.r]);
    });
    for (auto& x : local) merges.push_back(std::move(x));
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) { return a.score > b.score; });
  json out = json::array();
  for (auto& x : merges) out.push_back({std::move(x.l), std::move(x.r)});
  return out;
}

Built build_spm(Family f, const FolderConfig& c, const std::string& cls, SpecialTokens& s, std::vector<AddedDecoderEntry>& decoder) {
  fs::path p;
  for (const auto& n : spm_file_names(f))
    if (fs::exists(c.dir / n)) {
      p = c.dir / n;
      break;
    }
  if (p.empty())
    throw IOError((c.dir / spm_file_names(f)[0]).string() + ": missing (" + cls + " reads a SentencePiece model)");
  SentencePieceModel m = read_sentencepiece_model(p.string());
  if (m.model_type != SentencePieceModel::Unigram && m.model_type != SentencePieceModel::Bpe)
    throw ValueError(p.string() + ": SentencePiece model type " + std::to_string(m.model_type) +
                     " (word or char) has no fast tokenizer; only unigram and bpe models convert");
  // T5Tokenizer and LlamaTokenizer take `legacy` and `add_prefix_space`; XLMRobertaTokenizer has
  // neither attribute, which the converter reads as legacy with a prefix space.
  bool legacy = f == Family::XlmRoberta || config_value<bool>(c, "legacy", true);
  bool add_prefix_space = f == Family::XlmRoberta || config_value<bool>(c, "add_prefix_space", true);
  std::string prepend_scheme = add_prefix_space ? (legacy ? "always" : "first") : "never";

  // The converter's vocabulary (and unk id) for each class.
  std::vector<std::pair<std::string, double>> vocab;
  int64_t unk_id = m.unk_id;
  bool byte_fallback = false;
  if (f == Family::XlmRoberta) {
    vocab = {{"<s>", 0.0}, {"<pad>", 0.0}, {"</s>", 0.0}, {"<unk>", 0.0}};
    for (size_t i = 3; i < m.pieces.size(); ++i) vocab.push_back({m.pieces[i].piece, m.pieces[i].score});
    vocab.push_back({"<mask>", 0.0});
    unk_id = 3;
  } else {
    for (size_t i = 0; i < m.pieces.size(); ++i) vocab.push_back({m.pieces[i].piece, i < 3 && f == Family::Llama ? 0.0 : m.pieces[i].score});
    if (f == Family::T5) {
      int64_t extra_ids = config_value<int64_t>(c, "extra_ids", 100);
      for (int64_t i = extra_ids - 1; i >= 0; --i) vocab.push_back({"<extra_id_" + std::to_string(i) + ">", 0.0});
    }
    if (f == Family::Llama) {
      unk_id = 0;
      byte_fallback = true;
    }
  }
  Vocab v;
  for (size_t i = 0; i < vocab.size(); ++i) v.lookup[vocab[i].first] = static_cast<uint32_t>(i);
  json t;
  if (m.model_type == SentencePieceModel::Unigram) {
    json arr = json::array();
    for (const auto& [piece, score] : vocab) arr.push_back({piece, score});
    t["model"] = {{"type", "Unigram"}, {"unk_id", unk_id}, {"vocab", std::move(arr)}, {"byte_fallback", byte_fallback}};
    v.size = vocab.size();
  } else {
    json bv = json::object();
    for (size_t i = 0; i < vocab.size(); ++i) bv[vocab[i].first] = i;
    v.size = bv.size();
    t["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", m.unk_piece},
                  {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr},
                  {"fuse_unk", true},
                  {"byte_fallback", byte_fallback},
                  {"ignore_merges", false},
                  {"vocab", std::move(bv)},
                  {"merges", spm_bpe_merges(m, vocab)}};
  }

  if (f == Family::Llama) {
    if (legacy) {
      json seq = json::array();
      if (add_prefix_space) seq.push_back({{"type", "Prepend"}, {"prepend", kMetaspace}});
      seq.push_back(replace("String", " ", kMetaspace));
      t["normalizer"] = {{"type", "Sequence"}, {"normalizers", std::move(seq)}};
    } else {
      t["pre_tokenizer"] = metaspace(prepend_scheme, false);
    }
    json dec = {replace("String", kMetaspace, " "), {{"type", "ByteFallback"}}, {{"type", "Fuse"}}};
    if (add_prefix_space) dec.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    t["decoder"] = {{"type", "Sequence"}, {"decoders", std::move(dec)}};
  } else {
    json seq = json::array();
    if (!m.precompiled_charsmap.empty())
      seq.push_back({{"type", "Precompiled"}, {"precompiled_charsmap", base64_encode(m.precompiled_charsmap)}});
    seq.push_back({{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}});
    seq.push_back(replace("Regex", " {2,}", kMetaspace));
    t["normalizer"] = {{"type", "Sequence"}, {"normalizers", std::move(seq)}};
    t["pre_tokenizer"] = metaspace(prepend_scheme);
    t["decoder"] = metaspace(prepend_scheme);
  }

  // The converter's own added tokens: control pieces (special) and user-defined ones, unnormalized.
  AddedList added(v.lookup, v.size);
  for (size_t i = 0; i < m.pieces.size(); ++i) {
    int type = m.pieces[i].type;
    if (type == SentencePieceModel::Control || type == SentencePieceModel::UserDefined)
      added.add(object_token(m.pieces[i].piece, type == SentencePieceModel::Control, false));
  }
  add_config_tokens(added, s, decoder);

  auto id_of = [&](const std::string& tok, const char* role) {
    if (auto it = v.lookup.find(tok); it != v.lookup.end()) return it->second;
    if (auto id = added.id_of(tok)) return *id;
    throw ValueError(cls + ": the " + std::string(role) + " '" + tok + "' is not in the vocabulary");
  };
  if (f == Family::T5) {
    std::string eos = "</s>";
    t["post_processor"] = template_processing({sequence("A", 0), special_token(eos, 0)},
                                              {sequence("A", 0), special_token(eos, 0), sequence("B", 0), special_token(eos, 0)},
                                              {{eos, id_of(eos, "eos_token")}});
  } else if (f == Family::XlmRoberta) {
    t["post_processor"] = template_processing(
        {special_token("<s>", 0), sequence("A", 0), special_token("</s>", 0)},
        {special_token("<s>", 0), sequence("A", 0), special_token("</s>", 0), special_token("</s>", 0), sequence("B", 0),
         special_token("</s>", 0)},
        {{"</s>", id_of("</s>", "eos_token")}, {"<s>", id_of("<s>", "bos_token")}});
  } else {  // LlamaTokenizerFast.update_post_processor
    bool add_bos = config_value<bool>(c, "add_bos_token", true), add_eos = config_value<bool>(c, "add_eos_token", false);
    json single = json::array(), pair = json::array();
    std::vector<std::pair<std::string, uint32_t>> specials;
    std::string bos, eos;
    if (add_bos) bos = required(s, "bos_token", cls), specials.push_back({bos, id_of(bos, "bos_token")});
    if (add_eos) eos = required(s, "eos_token", cls), specials.push_back({eos, id_of(eos, "eos_token")});
    if (add_bos) single.push_back(special_token(bos, 0));
    single.push_back(sequence("A", 0));
    if (add_eos) single.push_back(special_token(eos, 0));
    pair = single;
    if (add_bos) pair.push_back(special_token(bos, 1));
    pair.push_back(sequence("B", 1));
    if (add_eos) pair.push_back(special_token(eos, 1));
    t["post_processor"] = template_processing(single, pair, specials);
  }
  t["added_tokens"] = added.to_json();
  return {std::move(t), p.string()};
}

bool has_spm(const fs::path& dir) {
  for (const auto& n : spm_file_names(Family::T5))
    if (fs::exists(dir / n)) return true;
  return false;
}

}  // namespace

bool has_legacy_tokenizer_files(const std::string& folder) {
  fs::path dir(folder);
  return fs::exists(dir / "vocab.txt") || (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) || has_spm(dir);
}

LegacyTokenizer convert_legacy_tokenizer(const std::string& folder) {
  fs::path dir(folder);
  if (!fs::is_directory(dir)) throw IOError(folder + ": not a directory");
  FolderConfig c = read_folder_config(dir);
  std::string cls = c.tokenizer_class;
  if (cls.empty()) {
    if (fs::exists(dir / "vocab.txt")) {
      cls = "BertTokenizer";  // a bare vocab.txt: a BERT WordPiece vocabulary
    } else {
      throw ValueError(folder + ": cannot tell which tokenizer the files are for: no tokenizer.json, no tokenizer_class in "
                       "tokenizer_config.json and no known model_type in config.json" +
                       (c.model_type.empty() ? std::string() : " ('" + c.model_type + "')"));
    }
  }
  auto fam = class_families().find(cls);
  if (fam == class_families().end()) {
    std::string known;
    for (const auto& [k, _] : class_families()) known += (known.empty() ? "" : ", ") + k;
    throw ValueError(folder + ": no tokenizer.json, and tokenizer class '" + cls + "'" +
                     (c.class_source.empty() ? std::string() : " (from " + c.class_source + ")") +
                     " cannot be built from legacy files (supported: " + known + ")");
  }
  Family f = fam->second;
  SpecialTokens s;
  std::vector<AddedDecoderEntry> decoder;
  read_tokens(f, c, s, decoder);
  Built b;
  switch (f) {
    case Family::Bert: b = build_bert(c, cls, s, decoder); break;
    case Family::Gpt2:
    case Family::Roberta:
    case Family::Clip:
    case Family::Qwen2: b = build_bpe(f, c, cls, s, decoder); break;
    case Family::T5:
    case Family::Llama:
    case Family::XlmRoberta: b = build_spm(f, c, cls, s, decoder); break;
  }
  b.tok["version"] = "1.0";
  b.tok["truncation"] = nullptr;
  b.tok["padding"] = nullptr;
  for (const char* k : {"normalizer", "pre_tokenizer", "post_processor", "decoder"})
    if (!b.tok.contains(k)) b.tok[k] = nullptr;
  LegacyTokenizer out;
  out.tokenizer_class = cls;
  out.source = b.source;
  out.tokenizer_json = std::move(b.tok);
  for (const char* k : kSpecialKeys)
    if (auto v = s.get(k)) out.special_tokens[k] = *v;
  return out;
}

Tokenizer load_legacy_tokenizer(const std::string& dir) {
  LegacyTokenizer l = convert_legacy_tokenizer(dir);
  return Tokenizer::from_json(l.tokenizer_json, l.source + " (as " + l.tokenizer_class + ")");
}

}  // namespace cppformers::tokenizers
