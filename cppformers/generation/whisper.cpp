#include "cppformers/generation/whisper.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/models/whisper/config.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::vector<std::pair<int64_t, std::optional<int64_t>>> parse_forced(const json& v, const std::string& where) {
  std::vector<std::pair<int64_t, std::optional<int64_t>>> out;
  if (!v.is_array()) throw FormatError(where + ": 'forced_decoder_ids' must be [[position, token], ...]");
  for (const json& p : v) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !(p[1].is_number_integer() || p[1].is_null()))
      throw FormatError(where + ": 'forced_decoder_ids' must be [[position, token or null], ...]");
    out.emplace_back(p[0].get<int64_t>(), p[1].is_null() ? std::nullopt : std::optional<int64_t>(p[1].get<int64_t>()));
  }
  return out;
}

std::map<std::string, int64_t> parse_id_map(const json& v, const char* key, const std::string& where) {
  if (!v.is_object()) throw FormatError(where + ": '" + key + "' must be an object of token -> id");
  std::map<std::string, int64_t> out;
  for (auto& [k, id] : v.items()) {
    if (!id.is_number_integer()) throw FormatError(where + ": '" + key + "' value of '" + k + "' is not an integer");
    out[k] = id.get<int64_t>();
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

WhisperGenerationConfig WhisperGenerationConfig::from_pretrained(const std::string& dir) {
  WhisperGenerationConfig w;
  const auto gen = fs::path(dir) / "generation_config.json";
  if (fs::exists(gen)) w.update(io::read_json_file(gen.string()), gen.string());
  const auto cfg = fs::path(dir) / "config.json";
  if (fs::exists(cfg)) {
    json c = io::read_json_file(cfg.string());
    if (c.is_object() && c.contains("forced_decoder_ids") && !c["forced_decoder_ids"].is_null())
      w.config_forced_decoder_ids = parse_forced(c["forced_decoder_ids"], cfg.string());
  }
  return w;
}

void WhisperGenerationConfig::update(const json& j, const std::string& where) {
  if (!j.is_object()) return;
  auto opt_int = [&](const char* key, std::optional<int64_t>& slot) {
    if (!j.contains(key)) return;
    if (j[key].is_null()) slot.reset();
    else if (j[key].is_number_integer()) slot = j[key].get<int64_t>();
    else throw FormatError(where + ": '" + key + "' must be an integer");
  };
  opt_int("no_timestamps_token_id", no_timestamps_token_id);
  opt_int("max_initial_timestamp_index", max_initial_timestamp_index);
  if (j.contains("lang_to_id") && !j["lang_to_id"].is_null()) lang_to_id = parse_id_map(j["lang_to_id"], "lang_to_id", where);
  if (j.contains("task_to_id") && !j["task_to_id"].is_null()) task_to_id = parse_id_map(j["task_to_id"], "task_to_id", where);
  if (j.contains("is_multilingual") && !j["is_multilingual"].is_null()) {
    if (!j["is_multilingual"].is_boolean()) throw FormatError(where + ": 'is_multilingual' must be true or false");
    is_multilingual = j["is_multilingual"].get<bool>();
  }
  if (j.contains("forced_decoder_ids")) {
    if (j["forced_decoder_ids"].is_null()) forced_decoder_ids.reset();
    else forced_decoder_ids = parse_forced(j["forced_decoder_ids"], where);
  }
  for (const char* key : {"language", "task"}) {
    if (!j.contains(key)) continue;
    auto& slot = std::string(key) == "language" ? language : task;
    if (j[key].is_null()) slot.reset();
    else if (j[key].is_string()) slot = j[key].get<std::string>();
    else throw ValueError(where + ": '" + key + "' must be a string (one language for all inputs)");
  }
  if (j.contains("return_timestamps") && !j["return_timestamps"].is_null()) {
    const json& r = j["return_timestamps"];
    if (r.is_boolean()) return_timestamps = r.get<bool>();
    else throw ValueError(where + ": 'return_timestamps' must be true or false for generate()");
  }
}

const std::vector<std::pair<std::string, std::string>>& whisper_languages() {
  static const std::vector<std::pair<std::string, std::string>> all = {
      {"en", "english"}, {"zh", "chinese"}, {"de", "german"}, {"es", "spanish"}, {"ru", "russian"}, {"ko", "korean"},
      {"fr", "french"}, {"ja", "japanese"}, {"pt", "portuguese"}, {"tr", "turkish"}, {"pl", "polish"},
      {"ca", "catalan"}, {"nl", "dutch"}, {"ar", "arabic"}, {"sv", "swedish"}, {"it", "italian"},
      {"id", "indonesian"}, {"hi", "hindi"}, {"fi", "finnish"}, {"vi", "vietnamese"}, {"he", "hebrew"},
      {"uk", "ukrainian"}, {"el", "greek"}, {"ms", "malay"}, {"cs", "czech"}, {"ro", "romanian"}, {"da", "danish"},
      {"hu", "hungarian"}, {"ta", "tamil"}, {"no", "norwegian"}, {"th", "thai"}, {"ur", "urdu"}, {"hr", "croatian"},
      {"bg", "bulgarian"}, {"lt", "lithuanian"}, {"la", "latin"}, {"mi", "maori"}, {"ml", "malayalam"},
      {"cy", "welsh"}, {"sk", "slovak"}, {"te", "telugu"}, {"fa", "persian"}, {"lv", "latvian"}, {"bn", "bengali"},
      {"sr", "serbian"}, {"az", "azerbaijani"}, {"sl", "slovenian"}, {"kn", "kannada"}, {"et", "estonian"},
      {"mk", "macedonian"}, {"br", "breton"}, {"eu", "basque"}, {"is", "icelandic"}, {"hy", "armenian"},
      {"ne", "nepali"}, {"mn", "mongolian"}, {"bs", "bosnian"}, {"kk", "kazakh"}, {"sq", "albanian"},
      {"sw", "swahili"}, {"gl", "galician"}, {"mr", "marathi"}, {"pa", "punjabi"}, {"si", "sinhala"},
      {"km", "khmer"}, {"sn", "shona"}, {"yo", "yoruba"}, {"so", "somali"}, {"af", "afrikaans"}, {"oc", "occitan"},
      {"ka", "georgian"}, {"be", "belarusian"}, {"tg", "tajik"}, {"sd", "sindhi"}, {"gu", "gujarati"},
      {"am", "amharic"}, {"yi", "yiddish"}, {"lo", "lao"}, {"uz", "uzbek"}, {"fo", "faroese"},
      {"ht", "haitian creole"}, {"ps", "pashto"}, {"tk", "turkmen"}, {"nn", "nynorsk"}, {"mt", "maltese"},
      {"sa", "sanskrit"}, {"lb", "luxembourgish"}, {"my", "myanmar"}, {"bo", "tibetan"}, {"tl", "tagalog"},
      {"mg", "malagasy"}, {"as", "assamese"}, {"tt", "tatar"}, {"haw", "hawaiian"}, {"ln", "lingala"},
      {"ha", "hausa"}, {"ba", "bashkir"}, {"jw", "javanese"}, {"su", "sundanese"}, {"yue", "cantonese"},  };
  return all;
}

int64_t whisper_language_to_id(const std::string& language, const std::map<std::string, int64_t>& lang_to_id) {
  static const std::map<std::string, std::string> aliases = {
      {"burmese", "my"}, {"valencian", "ca"}, {"flemish", "nl"},  {"haitian", "ht"},  {"letzeburgesch", "lb"},
      {"pushto", "ps"},  {"panjabi", "pa"},   {"moldavian", "ro"}, {"moldovan", "ro"}, {"sinhalese", "si"},
      {"castilian", "es"}, {"mandarin", "zh"}};
  const std::string l = lower(language);
  std::string token;
  if (lang_to_id.count(l)) {
    token = l;
  } else {
    std::string code;
    for (auto& [c, name] : whisper_languages()) {
      if (name == l) code = c;
      if (c == l && code.empty()) code = c;
    }
    if (code.empty() && aliases.count(l)) code = aliases.at(l);
    if (code.empty())
      throw ValueError("Unsupported language: " + l + ". Language should be a Whisper language code (\"fr\") or name (\"french\")");
    token = "<|" + code + "|>";
  }
  auto it = lang_to_id.find(token);
  if (it == lang_to_id.end())
    throw ValueError(token + " is not supported by this specific model as it is not in the `generation_config.lang_to_id`");
  return it->second;
}

void WhisperTimeStampLogitsProcessor::process(const Sequences& input_ids, float* scores, int64_t rows,
                                              int64_t vocab) const {
  const int64_t tb = std::min(timestamp_begin, vocab);
  for (int64_t k = 0; k < rows; ++k) {
    float* s = scores + k * vocab;
    if (no_timestamps_token_id >= 0 && no_timestamps_token_id < vocab) s[no_timestamps_token_id] = kNegInf;
    const auto& ids = input_ids[size_t(k)];
    std::vector<int64_t> seq(ids.begin() + std::min<int64_t>(begin_index, int64_t(ids.size())), ids.end());
    const bool last_ts = !seq.empty() && seq.back() >= timestamp_begin;
    const bool penult_ts = seq.size() < 2 || seq[seq.size() - 2] >= timestamp_begin;
    if (last_ts) {
      if (penult_ts) {
        for (int64_t v = tb; v < vocab; ++v) s[v] = kNegInf;  // has to be text
      } else {
        for (int64_t v = 0; v < std::min(eos_token_id, vocab); ++v) s[v] = kNegInf;  // cannot be text
      }
    }
    int64_t last_timestamp = -1;
    for (int64_t t : seq)
      if (t >= timestamp_begin) last_timestamp = t;
    if (last_timestamp >= 0) {
      // timestamps never decrease; <|0.00|> is not emitted twice
      const int64_t upto = last_ts && !penult_ts ? last_timestamp : last_timestamp + 1;
      for (int64_t v = tb; v < std::min(upto, vocab); ++v) s[v] = kNegInf;
    }
    if (int64_t(ids.size()) == begin_index) {
      for (int64_t v = 0; v < tb; ++v) s[v] = kNegInf;
      if (max_initial_timestamp_index)
        for (int64_t v = std::max<int64_t>(0, timestamp_begin + *max_initial_timestamp_index + 1); v < vocab; ++v)
          s[v] = kNegInf;
    }
    // if the timestamps' total probability beats every text token, a timestamp it is
    std::vector<float> lp(s, s + vocab);
    log_softmax_inplace(lp.data(), vocab);
    float mx = kNegInf;
    for (int64_t v = tb; v < vocab; ++v) mx = std::max(mx, lp[size_t(v)]);
    float ts_logprob = kNegInf;
    if (mx > kNegInf) {
      double sum = 0;
      for (int64_t v = tb; v < vocab; ++v) sum += std::exp(double(lp[size_t(v)] - mx));
      ts_logprob = mx + float(std::log(sum));
    }
    float text_max = kNegInf;
    for (int64_t v = 0; v < tb; ++v) text_max = std::max(text_max, lp[size_t(v)]);
    if (ts_logprob > text_max)
      for (int64_t v = 0; v < tb; ++v) s[v] = kNegInf;
  }
}

std::vector<int64_t> whisper_detect_language(Seq2SeqLM& model, const Tensor& input_features,
                                             const std::map<std::string, int64_t>& lang_to_id, int64_t start) {
  autograd::NoGradGuard no_grad;
  ModelInputs in;
  in.input_features = input_features;
  Seq2SeqState st = model.encode(in);
  const int64_t B = st.encoder_hidden.size(0);
  st.self_cache = std::make_unique<nn::KVCache>(1);
  Tensor logits = model.decode_step(Tensor::from_vector(std::vector<int64_t>(size_t(B), start), {B, 1}), st);
  logits = logits.select(1, 0).to(kF32).contiguous();
  const int64_t V = logits.size(1);
  const float* p = logits.data<float>();
  std::vector<int64_t> out;
  for (int64_t b = 0; b < B; ++b) {
    int64_t best = -1;
    float best_v = kNegInf;
    for (auto& [tok, id] : lang_to_id) {  // argmax over the language tokens; ties: the lowest id
      if (id < 0 || id >= V) continue;
      const float v = p[b * V + id];
      if (best < 0 || v > best_v || (v == best_v && id < best)) best = id, best_v = v;
    }
    if (best < 0) throw ValueError("whisper: no language token of lang_to_id is in the vocabulary");
    out.push_back(best);
  }
  return out;
}

std::vector<std::vector<int64_t>> whisper_init_tokens(Seq2SeqLM& model, const Tensor& input_features,
                                                      const GenerationConfig& config, const WhisperGenerationConfig& w,
                                                      int64_t decoder_start) {
  (void)config;
  if (w.is_multilingual && !*w.is_multilingual && (w.language || w.task))
    throw ValueError("Cannot specify `task` or `language` for an English-only model. If the model is intended to be "
                     "multilingual, pass `is_multilingual=True` to generate, or update the generation config.");
  if (w.language && !w.lang_to_id)
    throw ValueError("The generation config is outdated and is thus not compatible with the `language` argument to "
                     "`generate`: it has no `lang_to_id`");
  if (w.task && !w.task_to_id)
    throw ValueError("The generation config is outdated and is thus not compatible with the `task` argument to "
                     "`generate`: it has no `task_to_id`");
  if (w.return_timestamps && !w.no_timestamps_token_id)
    throw ValueError("You are trying to return timestamps, but the generation config is not properly set: it has no "
                     "`no_timestamps_token_id`");
  auto forced = w.forced_decoder_ids ? w.forced_decoder_ids : w.config_forced_decoder_ids;
  if (forced && (w.task || w.language)) forced.reset();  // the call's language/task win
  std::vector<std::optional<int64_t>> init{decoder_start};
  if (forced && !forced->empty() && (*forced)[0].first == 1) {
    size_t k = 0;
    for (int64_t i = 1; k < forced->size() && (*forced)[k].first == i; ++k, ++i) init.push_back((*forced)[k].second);
    if (k < forced->size())
      throw ValueError("You are using token ids in `forced_decoder_ids` that do not seem to correctly follow the "
                       "prompt pattern of Whisper: positions must be 1, 2, 3, ...");
  }
  const bool lang_undefined = init.size() <= 1 || !init[1];
  const int64_t B = input_features.size(0);
  std::vector<int64_t> lang_ids;
  if (w.language) lang_ids.assign(size_t(B), whisper_language_to_id(*w.language, *w.lang_to_id));
  else if (w.lang_to_id && lang_undefined) lang_ids = whisper_detect_language(model, input_features, *w.lang_to_id, decoder_start);
  std::vector<std::vector<int64_t>> out;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<std::optional<int64_t>> t = init;
    if (!lang_ids.empty()) {
      if (t.size() > 1) t[1] = lang_ids[size_t(b)];
      else t.push_back(lang_ids[size_t(b)]);
    }
    if (w.task) {
      if (*w.task != "translate" && *w.task != "transcribe")
        throw ValueError("The `" + *w.task + "`task is not supported. The task should be one of `['translate', 'transcribe']`");
      auto it = w.task_to_id->find(*w.task);
      if (it == w.task_to_id->end()) throw ValueError("task_to_id has no '" + *w.task + "'");
      t.push_back(it->second);
    } else if (w.language && w.task_to_id) {  // a language but no task: transcribe
      bool has_task = false;
      for (auto& [name, id] : *w.task_to_id)
        for (auto& x : t) has_task = has_task || (x && *x == id);
      if (!has_task) {
        auto it = w.task_to_id->find("transcribe");
        if (it == w.task_to_id->end()) throw ValueError("task_to_id has no 'transcribe'");
        t.push_back(it->second);
      }
    }
    if (w.no_timestamps_token_id) {
      const int64_t nt = *w.no_timestamps_token_id;
      const bool ends_nt = t.back() && *t.back() == nt;
      if (!w.return_timestamps && !ends_nt) t.push_back(nt);
      else if (w.return_timestamps && ends_nt) t.pop_back();
    }
    std::vector<int64_t> ids;
    for (auto& x : t)
      if (x) ids.push_back(*x);
    out.push_back(ids);
  }
  return out;
}

GenerateOutput whisper_generate(Seq2SeqLM& model, const Tensor& input_features, const GenerationConfig& config,
                                const WhisperGenerationConfig& w, const Seq2SeqGenerationExtras& extras) {
  if (!input_features.defined() || input_features.dim() != 3)
    throw ValueError("whisper generate: 'input_features' must be [batch, num_mel_bins, frames]");
  const int64_t start = extras.decoder_start_token_id.value_or(model.decoder_start_token_id());
  const auto init = whisper_init_tokens(model, input_features, config, w, start);
  const int64_t B = input_features.size(0);
  GenerateOutput out;
  out.sequences.resize(size_t(B));
  std::vector<bool> done(size_t(B), false);
  for (int64_t b = 0; b < B; ++b) {
    if (done[size_t(b)]) continue;
    std::vector<int64_t> rows;  // every row with this prompt
    for (int64_t r = b; r < B; ++r)
      if (!done[size_t(r)] && init[size_t(r)] == init[size_t(b)]) rows.push_back(r), done[size_t(r)] = true;
    const auto& prompt = init[size_t(b)];
    const int64_t P = int64_t(prompt.size());
    if (auto* wc = dynamic_cast<const WhisperConfig*>(&model.config()); wc && config.max_new_tokens) {
      const int64_t mtp = wc->max_target_positions;
      if (*config.max_new_tokens + P > mtp)
        throw ValueError("The length of `decoder_input_ids` (" + std::to_string(P) + ") plus `max_new_tokens` (" +
                         std::to_string(*config.max_new_tokens) + ") exceeds the `max_target_positions` of the Whisper "
                         "model: " + std::to_string(mtp));
    }
    Seq2SeqGenerationExtras ex = extras;
    ex.decoder_start_token_id = prompt[0];
    ex.forced_decoder_ids.clear();
    for (int64_t i = 1; i < P; ++i) ex.forced_decoder_ids.emplace_back(i, prompt[size_t(i)]);
    if (w.return_timestamps) {
      const int64_t eos = !config.eos_token_id.empty() ? config.eos_token_id[0] : config.bos_token_id.value_or(0);
      ex.logits_processors.push_back(std::make_shared<WhisperTimeStampLogitsProcessor>(
          *w.no_timestamps_token_id, eos, P, w.max_initial_timestamp_index));
    }
    ModelInputs in;
    in.input_features = rows.size() == size_t(B)
                            ? input_features
                            : ops::index_select(input_features, 0, Tensor::from_vector(rows, {int64_t(rows.size())}));
    GenerateOutput g = generate_seq2seq(model, in, config, ex);
    const size_t per = g.sequences.size() / rows.size();
    for (size_t i = 0; i < rows.size(); ++i) out.sequences[size_t(rows[i])] = g.sequences[i * per];
  }
  return out;
}

}  // namespace cppformers
