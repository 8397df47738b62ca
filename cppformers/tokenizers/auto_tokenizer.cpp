#include "cppformers/tokenizers/auto_tokenizer.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/legacy_files.hpp"

namespace cppformers {

namespace tokenizers {

PaddingOption::PaddingOption(const char* s) {
  std::string v = s ? s : "";
  if (v == "longest" || v == "true") kind = Longest;
  else if (v == "max_length") kind = MaxLength;
  else if (v == "do_not_pad" || v == "false" || v.empty()) kind = DoNotPad;
  else throw ValueError("padding: unknown strategy '" + v + "' (expected longest, max_length or do_not_pad)");
}

TruncationOption::TruncationOption(const char* s) {
  std::string v = s ? s : "";
  enabled = true;
  if (v == "longest_first" || v == "true") strategy = TruncationStrategy::LongestFirst;
  else if (v == "only_first") strategy = TruncationStrategy::OnlyFirst;
  else if (v == "only_second") strategy = TruncationStrategy::OnlySecond;
  else if (v == "do_not_truncate" || v == "false" || v.empty()) enabled = false;
  else throw ValueError("truncation: unknown strategy '" + v + "' (expected longest_first, only_first, only_second or do_not_truncate)");
}

std::string clean_up_tokenization(std::string s) {
  auto rep = [&](std::string_view from, std::string_view to) {
    std::string out;
    size_t pos = 0, prev = 0;
    while ((pos = s.find(from, prev)) != std::string::npos) {
      out.append(s, prev, pos - prev);
      out.append(to);
      prev = pos + from.size();
    }
    out.append(s, prev, std::string::npos);
    s = std::move(out);
  };
  rep(" .", ".");
  rep(" ?", "?");
  rep(" !", "!");
  rep(" ,", ",");
  rep(" ' ", "'");
  rep(" n't", "n't");
  rep(" 'm", "'m");
  rep(" 's", "'s");
  rep(" 've", "'ve");
  rep(" 're", "'re");
  return s;
}

}  // namespace tokenizers

using namespace tokenizers;

static std::optional<std::string> special_token_field(const json& cfg, const char* key, const std::string& where) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  throw FormatError(where + ": " + key + ": expected a string or {\"content\": ...}");
}

namespace {
std::atomic<AutoTokenizer::HubResolver> g_hub_resolver{nullptr};

json read_json(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw IOError(p.string() + ": cannot read");
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    throw FormatError(p.string() + ": invalid JSON: " + e.what());
  }
}
// A list of tokens, each a string or {"content": ...}.
std::vector<std::string> token_list(const json& arr) {
  std::vector<std::string> out;
  if (!arr.is_array()) return out;
  for (const auto& x : arr) {
    if (x.is_string()) out.push_back(x.get<std::string>());
    else if (x.is_object() && x.contains("content") && x["content"].is_string()) out.push_back(x["content"].get<std::string>());
  }
  return out;
}
std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw IOError(p.string() + ": cannot read");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

// special_tokens_map.json (its entries override tokenizer_config.json's, as in transformers) and
// the chat template files beside tokenizer_config.json.
static void load_chat_files(const std::string& folder, AutoTokenizer& t, bool special_tokens_map) {
  namespace fs = std::filesystem;
  const fs::path dir(folder);
  std::error_code ec;
  if (fs::path p = dir / "special_tokens_map.json"; special_tokens_map && fs::exists(p, ec)) {
    json m = read_json(p);
    const std::string w = p.string();
    if (!m.is_object()) throw FormatError(w + ": expected a JSON object");
    std::pair<const char*, std::optional<std::string>*> fields[] = {
        {"pad_token", &t.pad_token}, {"bos_token", &t.bos_token}, {"eos_token", &t.eos_token},
        {"unk_token", &t.unk_token}, {"sep_token", &t.sep_token}, {"cls_token", &t.cls_token},
        {"mask_token", &t.mask_token}};
    for (auto& [key, slot] : fields)
      if (auto v = special_token_field(m, key, w)) *slot = v;
    if (auto it = m.find("additional_special_tokens"); it != m.end()) t.additional_special_tokens = token_list(*it);
  }
  if (fs::path p = dir / "chat_template.json"; fs::exists(p, ec)) {  // the processors' file: {"chat_template": ...}
    json j = read_json(p);
    if (!j.is_object() || !j.contains("chat_template"))
      throw FormatError(p.string() + ": expected {\"chat_template\": ...}");
    parse_chat_template_field(j["chat_template"], p.string(), t.chat_templates);
  }
  // chat_template.jinja and additional_chat_templates/NAME.jinja take priority over the others.
  ChatTemplates files;
  if (fs::path p = dir / "chat_template.jinja"; fs::exists(p, ec)) files.named.emplace_back("default", read_text(p));
  if (fs::path extra = dir / "additional_chat_templates"; fs::is_directory(extra, ec)) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(extra, ec))
      if (e.is_regular_file() && e.path().extension() == ".jinja") paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) files.named.emplace_back(p.stem().string(), read_text(p));
  }
  if (files.named.size() == 1 && files.named[0].first == "default") {
    t.chat_templates = ChatTemplates{files.named[0].second, {}};
  } else if (!files.named.empty()) {
    t.chat_templates = std::move(files);
  }
}

void AutoTokenizer::set_hub_resolver(HubResolver resolver) { g_hub_resolver = resolver; }

AutoTokenizer AutoTokenizer::from_pretrained(const std::string& id_or_folder) {
  return from_pretrained(id_or_folder, io::HubOptions{});
}

AutoTokenizer AutoTokenizer::from_pretrained(const std::string& id_or_folder, const io::HubOptions& hub) {
  std::error_code ec;
  if (std::filesystem::exists(id_or_folder, ec)) return from_folder(id_or_folder);
  HubResolver resolve = g_hub_resolver.load();
  if (!resolve) return from_folder(id_or_folder);  // the folder-only library: its "not found" message
  return from_folder(resolve(id_or_folder, hub));
}

AutoTokenizer AutoTokenizer::from_folder(const std::string& folder) {
  namespace fs = std::filesystem;
  fs::path dir(folder);
  fs::path tj = fs::is_directory(dir) ? dir / "tokenizer.json" : dir;
  // No tokenizer.json: the legacy files (vocab.txt, vocab.json + merges.txt, a SentencePiece
  // model), converted as transformers' fast tokenizer classes convert them.
  std::optional<LegacyTokenizer> legacy;
  if (!fs::exists(tj) && fs::is_directory(dir) && has_legacy_tokenizer_files(folder)) legacy = convert_legacy_tokenizer(folder);
  if (!legacy && !fs::exists(tj))
    throw IOError(tj.string() + ": no tokenizer.json in '" + folder + "' (nor vocab.txt, vocab.json + merges.txt or a SentencePiece model)");
  AutoTokenizer t(legacy ? Tokenizer::from_json(legacy->tokenizer_json, legacy->source) : Tokenizer::from_file(tj.string()));
  fs::path cfg_path = tj.parent_path() / "tokenizer_config.json";
  if (fs::exists(cfg_path)) {
    std::ifstream f(cfg_path);
    std::stringstream ss;
    ss << f.rdbuf();
    json cfg;
    try {
      cfg = json::parse(ss.str());
    } catch (const json::parse_error& e) {
      throw FormatError(cfg_path.string() + ": invalid JSON: " + e.what());
    }
    std::string w = cfg_path.string();
    if (!cfg.is_object()) throw FormatError(w + ": expected a JSON object");
    t.pad_token = special_token_field(cfg, "pad_token", w);
    t.bos_token = special_token_field(cfg, "bos_token", w);
    t.eos_token = special_token_field(cfg, "eos_token", w);
    t.unk_token = special_token_field(cfg, "unk_token", w);
    t.sep_token = special_token_field(cfg, "sep_token", w);
    t.cls_token = special_token_field(cfg, "cls_token", w);
    t.mask_token = special_token_field(cfg, "mask_token", w);
    if (auto it = cfg.find("model_max_length"); it != cfg.end() && it->is_number()) {
      double v = it->get<double>();
      if (v > 0 && v < 1e18) t.model_max_length = static_cast<size_t>(v);
    }
    if (auto it = cfg.find("padding_side"); it != cfg.end() && it->is_string()) t.padding_side = it->get<std::string>();
    if (auto it = cfg.find("truncation_side"); it != cfg.end() && it->is_string()) t.truncation_side = it->get<std::string>();
    if (auto it = cfg.find("clean_up_tokenization_spaces"); it != cfg.end() && it->is_boolean())
      t.clean_up_tokenization_spaces = it->get<bool>();
    if (auto it = cfg.find("chat_template"); it != cfg.end()) parse_chat_template_field(*it, w, t.chat_templates);
    if (auto it = cfg.find("additional_special_tokens"); it != cfg.end())
      t.additional_special_tokens = token_list(*it);
  }
  // (legacy folders had special_tokens_map.json applied by their conversion)
  load_chat_files(tj.parent_path().string(), t, /*special_tokens_map=*/!legacy);
  if (legacy) {  // special tokens with the class defaults and special_tokens_map.json applied
    auto special = [&](const char* key) -> std::optional<std::string> {
      auto it = legacy->special_tokens.find(key);
      return it == legacy->special_tokens.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    t.pad_token = special("pad_token"), t.bos_token = special("bos_token"), t.eos_token = special("eos_token");
    t.unk_token = special("unk_token"), t.sep_token = special("sep_token"), t.cls_token = special("cls_token");
    t.mask_token = special("mask_token");
  }
  if (!t.pad_token && t.tok_.padding()) t.pad_token = t.tok_.padding()->pad_token;
  return t;
}

std::vector<std::pair<std::string, jinja::Value>> AutoTokenizer::special_tokens_map() const {
  std::vector<std::pair<std::string, jinja::Value>> m;
  std::pair<const char*, const std::optional<std::string>*> fields[] = {
      {"bos_token", &bos_token}, {"eos_token", &eos_token}, {"unk_token", &unk_token}, {"sep_token", &sep_token},
      {"pad_token", &pad_token}, {"cls_token", &cls_token}, {"mask_token", &mask_token}};
  for (auto& [key, v] : fields)
    if (*v && !(*v)->empty()) m.emplace_back(key, jinja::Value(**v));
  if (!additional_special_tokens.empty()) {
    std::vector<jinja::Value> extra(additional_special_tokens.begin(), additional_special_tokens.end());
    m.emplace_back("additional_special_tokens", jinja::Value::list(std::move(extra)));
  }
  return m;
}

static ChatTemplateOutput apply_chat(const AutoTokenizer& tok, const jinja::Value& messages, const ChatTemplateOptions& o) {
  if (!messages.is_list()) throw ValueError("apply_chat_template: messages must be a list of {\"role\", \"content\"} objects");
  const std::string tpl = select_chat_template(tok.chat_templates, o.chat_template, o.tools.has_value());
  ChatTemplateOutput out;
  out.text = render_chat_template(tpl, messages, o, tok.special_tokens_map());
  if (o.tokenize) {
    CallOptions c;
    c.add_special_tokens = false;
    c.truncation = o.truncation;
    c.max_length = o.max_length;
    BatchEncoding b = tok(out.text, c);
    out.input_ids = std::move(b.input_ids[0]);
    out.attention_mask = std::move(b.attention_mask[0]);
  }
  return out;
}

ChatTemplateOutput AutoTokenizer::apply_chat_template(const nlohmann::ordered_json& messages,
                                                      const ChatTemplateOptions& o) const {
  return apply_chat(*this, jinja::Value::from_json(messages), o);
}
ChatTemplateOutput AutoTokenizer::apply_chat_template(const nlohmann::json& messages, const ChatTemplateOptions& o) const {
  return apply_chat(*this, jinja::Value::from_json(messages), o);
}

std::optional<int64_t> AutoTokenizer::token_to_id(const std::string& s) const {
  auto id = tok_.token_to_id(s);
  return id ? std::optional<int64_t>(*id) : std::nullopt;
}

std::optional<int64_t> AutoTokenizer::pad_token_id() const { return pad_token ? token_to_id(*pad_token) : std::nullopt; }

BatchEncoding AutoTokenizer::operator()(const std::string& text, const CallOptions& o) const {
  return (*this)(std::vector<EncodeInput>{{text, std::nullopt}}, o);
}

BatchEncoding AutoTokenizer::operator()(const std::vector<std::string>& texts, const CallOptions& o) const {
  std::vector<EncodeInput> in;
  in.reserve(texts.size());
  for (auto& t : texts) in.push_back({t, std::nullopt});
  return (*this)(in, o);
}

BatchEncoding AutoTokenizer::operator()(const std::vector<EncodeInput>& inputs, const CallOptions& o) const {
  // A copy of the backend configured for this call (the backend itself stays untouched, so calls
  // from several threads do not race).
  std::optional<TruncationParams> trunc;
  std::optional<PaddingParams> pad;
  size_t max_len = o.max_length ? *o.max_length : model_max_length;
  if (o.truncation.enabled && max_len != static_cast<size_t>(-1)) {
    TruncationParams p;
    p.max_length = max_len;
    p.strategy = o.truncation.strategy;
    p.stride = o.stride.value_or(0);
    p.direction = truncation_side == "left" ? TruncationDirection::Left : TruncationDirection::Right;
    trunc = p;
  }
  if (o.padding.kind != PaddingOption::DoNotPad) {
    PaddingParams p;
    if (o.padding.kind == PaddingOption::MaxLength) {
      if (max_len == static_cast<size_t>(-1)) throw ValueError("padding='max_length' needs max_length (or a model_max_length)");
      p.fixed = true;
      p.fixed_length = max_len;
    }
    p.direction = padding_side == "left" ? PaddingDirection::Left : PaddingDirection::Right;
    p.pad_to_multiple_of = o.pad_to_multiple_of.value_or(0);
    if (!pad_token) throw ValueError("padding needs a pad_token, and this tokenizer has none");
    auto id = tok_.token_to_id(*pad_token);
    if (!id) throw ValueError("pad_token '" + *pad_token + "' is not in the vocabulary");
    p.pad_id = *id;
    p.pad_token = *pad_token;
    pad = p;
  }
  std::vector<Encoding> encs;
  {
    // Truncation/padding are applied here exactly as the Rust library would with these settings.
    // On all cores, texts in chunks (as Tokenizer::encode_batch); the first input that fails is named.
    std::vector<Encoding> raw(inputs.size());
    long count = static_cast<long>(inputs.size());
    long chunk = std::clamp<long>(count / (64 * std::max(1, omp_get_max_threads())), 1, 8);
    std::mutex mu;
    size_t first_bad = inputs.size();
    std::string first_error;
#pragma omp parallel for schedule(dynamic, chunk) if (count > 1)
    for (long i = 0; i < count; ++i) {
      try {
        raw[i] = tok_.encode_with(inputs[i], o.add_special_tokens, trunc ? &*trunc : nullptr, nullptr);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (static_cast<size_t>(i) < first_bad) {
          first_bad = static_cast<size_t>(i);
          first_error = e.what();
        }
      }
    }
    if (first_bad < inputs.size()) throw ValueError("input " + std::to_string(first_bad) + ": " + first_error);
    if (pad) pad_encodings(raw, *pad);
    encs = std::move(raw);
  }
  BatchEncoding b;
  for (auto& e : encs) {
    b.input_ids.emplace_back(e.ids.begin(), e.ids.end());
    b.attention_mask.emplace_back(e.attention_mask.begin(), e.attention_mask.end());
    b.token_type_ids.emplace_back(e.type_ids.begin(), e.type_ids.end());
    if (o.return_offsets_mapping) b.offset_mapping.push_back(e.offsets);
  }
  b.encodings = std::move(encs);
  return b;
}

std::vector<int64_t> AutoTokenizer::encode(const std::string& text, bool add_special_tokens) const {
  Encoding e = tok_.encode(text, add_special_tokens);
  return {e.ids.begin(), e.ids.end()};
}

std::string AutoTokenizer::decode(const std::vector<int64_t>& ids, bool skip, std::optional<bool> cleanup) const {
  std::vector<uint32_t> u;
  u.reserve(ids.size());
  for (int64_t i : ids) {
    if (i < 0 || i > 0xFFFFFFFFll) throw ValueError("decode: id " + std::to_string(i) + " is out of range");
    u.push_back(static_cast<uint32_t>(i));
  }
  std::string s = tok_.decode(u, skip);
  if (cleanup.value_or(clean_up_tokenization_spaces)) s = clean_up_tokenization(std::move(s));
  return s;
}

}  // namespace cppformers
