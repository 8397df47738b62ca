#include "cppformers/generation/generation_config.hpp"

#include <filesystem>

#include "cppformers/io/json.hpp"

namespace cppformers {

using nlohmann::json;

GenerationConfig GenerationConfig::from_json(const json& j, const std::string& file) {
  GenerationConfig g;
  g.update(j, file);
  return g;
}

GenerationConfig GenerationConfig::from_model_config(const PretrainedConfig& c) {
  GenerationConfig g;
  g.pad_token_id = c.pad_token_id;
  g.bos_token_id = c.bos_token_id;
  if (c.extra.contains("eos_token_id") && c.extra["eos_token_id"].is_array()) {
    for (const json& v : c.extra["eos_token_id"])
      if (v.is_number_integer()) g.eos_token_id.push_back(v.get<int64_t>());
  } else if (c.eos_token_id) {
    g.eos_token_id = {*c.eos_token_id};
  }
  return g;
}

GenerationConfig GenerationConfig::from_pretrained(const std::string& dir, const PretrainedConfig* model_config) {
  const std::string file = (std::filesystem::path(dir) / "generation_config.json").string();
  if (std::filesystem::exists(file)) return from_json(io::read_json_file(file), file);
  return model_config ? from_model_config(*model_config) : GenerationConfig();
}

namespace {

// transformers 4.45 generation parameters that cppformers does not implement, with the values
// that leave generation unchanged (null always does).
const std::vector<std::pair<const char*, std::vector<json>>>& unsupported_parameters() {
  static const std::vector<std::pair<const char*, std::vector<json>>> list = {
      {"penalty_alpha", {}},  // contrastive search
      {"num_beam_groups", {1}},
      {"diversity_penalty", {0}},
      {"typical_p", {1}},
      {"epsilon_cutoff", {0}},
      {"eta_cutoff", {0}},
      {"encoder_repetition_penalty", {1}},
      {"encoder_no_repeat_ngram_size", {0}},
      {"force_words_ids", {}},
      {"constraints", {}},
      {"sequence_bias", {}},
      {"exponential_decay_length_penalty", {}},
      {"guidance_scale", {1}},
      {"remove_invalid_values", {false}},
      {"max_time", {}},
      {"dola_layers", {}},
      {"token_healing", {false}},
      {"watermarking_config", {}},
      {"low_memory", {false}},
      {"prompt_lookup_num_tokens", {}},
      {"output_attentions", {false}},
      {"output_hidden_states", {false}},
      {"output_logits", {false}},
  };
  return list;
}

// The other transformers 4.45 generation parameters (implemented, or harmless to ignore), and
// cppformers' own (seed) and the encoder-decoder ones.
const std::vector<const char*>& known_parameters() {
  static const std::vector<const char*> list = {
      "max_length", "max_new_tokens", "min_length", "min_new_tokens", "early_stopping", "stop_strings", "do_sample",
      "num_beams", "use_cache", "cache_implementation", "cache_config", "return_legacy_cache", "temperature", "top_k",
      "top_p", "min_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "bad_words_ids",
      "renormalize_logits", "forced_bos_token_id", "forced_eos_token_id", "suppress_tokens", "begin_suppress_tokens",
      "forced_decoder_ids", "num_return_sequences", "output_scores", "return_dict_in_generate", "pad_token_id",
      "bos_token_id", "eos_token_id", "decoder_start_token_id", "num_assistant_tokens",
      "num_assistant_tokens_schedule", "assistant_confidence_threshold", "max_matching_ngram_size",
      "generation_kwargs", "seed"};
  return list;
}

// A forced token id: an integer, or a one-element list of one (transformers accepts lists).
std::optional<int64_t> forced_id(const json& j, const char* key, const std::string& file) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  const json& v = j[key];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_array() && v.size() == 1 && v[0].is_number_integer()) return v[0].get<int64_t>();
  throw FormatError(file + ": key '" + key + "' should be a token id (an integer), got " + v.dump());
}

}  // namespace

void GenerationConfig::check_kwarg_names(const json& j, const std::string& where) {
  if (!j.is_object()) throw ValueError(where + ": expected a JSON object of generate() arguments, got " + j.dump());
  std::string unknown;
  for (const auto& [key, _] : j.items()) {
    bool found = false;
    for (const char* k : known_parameters()) found = found || key == k;
    for (const auto& [k, neutral] : unsupported_parameters()) found = found || key == k;
    if (!found) unknown += (unknown.empty() ? "'" : ", '") + key + "'";
  }
  if (!unknown.empty())
    throw ValueError(where + ": " + unknown + " " + (unknown.find(',') == std::string::npos ? "is not a" : "are not") +
                     " generation parameter" + (unknown.find(',') == std::string::npos ? "" : "s") +
                     " (transformers: the following `model_kwargs` are not used by the model)");
}

void GenerationConfig::update(const json& j, const std::string& file) {
  using io::json_get;
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
  for (const auto& [key, neutral] : unsupported_parameters()) {
    if (!j.contains(key) || j[key].is_null()) continue;
    bool is_neutral = false;
    for (const json& v : neutral) is_neutral = is_neutral || j[key] == v;
    if (!is_neutral)
      throw NotSupportedError("generate: '" + std::string(key) + "' = " + j[key].dump() + " is not supported (" + file +
                              ")");
  }
  forced_bos_token_id = j.contains("forced_bos_token_id") ? forced_id(j, "forced_bos_token_id", file) : forced_bos_token_id;
  forced_eos_token_id = j.contains("forced_eos_token_id") ? forced_id(j, "forced_eos_token_id", file) : forced_eos_token_id;
  auto opt_int = [&](const char* key, std::optional<int64_t>& slot) {
    if (!j.contains(key)) return;
    if (j[key].is_null()) slot.reset();
    else slot = json_get<int64_t>(j, key, 0, file);
  };
  if (j.contains("max_length") && !j["max_length"].is_null()) max_length = json_get<int64_t>(j, "max_length", 20, file);
  opt_int("max_new_tokens", max_new_tokens);
  min_length = json_get<int64_t>(j, "min_length", min_length, file);
  opt_int("min_new_tokens", min_new_tokens);
  if (j.contains("early_stopping")) {
    const json& e = j["early_stopping"];
    if (e.is_boolean()) early_stopping = e.get<bool>() ? 1 : 0;
    else if (e.is_string() && e.get<std::string>() == "never") early_stopping = 2;
    else if (!e.is_null()) throw FormatError(file + ": key 'early_stopping' should be true, false or \"never\"");
  }
  do_sample = json_get<bool>(j, "do_sample", do_sample, file);
  num_beams = json_get<int64_t>(j, "num_beams", num_beams, file);
  use_cache = json_get<bool>(j, "use_cache", use_cache, file);
  temperature = json_get<double>(j, "temperature", temperature, file);
  top_k = json_get<int64_t>(j, "top_k", top_k, file);
  top_p = json_get<double>(j, "top_p", top_p, file);
  if (j.contains("min_p")) {
    if (j["min_p"].is_null()) min_p.reset();
    else min_p = json_get<double>(j, "min_p", 0.0, file);
  }
  repetition_penalty = json_get<double>(j, "repetition_penalty", repetition_penalty, file);
  length_penalty = json_get<double>(j, "length_penalty", length_penalty, file);
  no_repeat_ngram_size = json_get<int64_t>(j, "no_repeat_ngram_size", no_repeat_ngram_size, file);
  if (j.contains("bad_words_ids") && !j["bad_words_ids"].is_null()) {
    bad_words_ids.clear();
    const json& b = j["bad_words_ids"];
    if (!b.is_array()) throw FormatError(file + ": key 'bad_words_ids' should be a list of lists of ids");
    for (const json& seq : b) {
      if (!seq.is_array() || seq.empty()) throw FormatError(file + ": key 'bad_words_ids' should be a list of non-empty lists of ids");
      std::vector<int64_t> ids;
      for (const json& v : seq) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0)
          throw FormatError(file + ": key 'bad_words_ids' should hold non-negative integer ids");
        ids.push_back(v.get<int64_t>());
      }
      bad_words_ids.push_back(ids);
    }
  }
  if (j.contains("suppress_tokens") && !j["suppress_tokens"].is_null())
    suppress_tokens = json_get<std::vector<int64_t>>(j, "suppress_tokens", {}, file);
  renormalize_logits = json_get<bool>(j, "renormalize_logits", renormalize_logits, file);
  num_return_sequences = json_get<int64_t>(j, "num_return_sequences", num_return_sequences, file);
  output_scores = json_get<bool>(j, "output_scores", output_scores, file);
  opt_int("pad_token_id", pad_token_id);
  opt_int("bos_token_id", bos_token_id);
  if (j.contains("eos_token_id")) {
    const json& e = j["eos_token_id"];
    eos_token_id.clear();
    if (e.is_array()) eos_token_id = json_get<std::vector<int64_t>>(j, "eos_token_id", {}, file);
    else if (!e.is_null()) eos_token_id = {json_get<int64_t>(j, "eos_token_id", 0, file)};
  }
  if (j.contains("stop_strings") && !j["stop_strings"].is_null()) {
    if (j["stop_strings"].is_string()) stop_strings = {j["stop_strings"].get<std::string>()};
    else stop_strings = json_get<std::vector<std::string>>(j, "stop_strings", {}, file);
  }
  if (j.contains("seed") && !j["seed"].is_null()) seed = uint64_t(json_get<int64_t>(j, "seed", 0, file));
}

json GenerationConfig::to_json() const {
  json j;
  j["max_length"] = max_length;
  if (max_new_tokens) j["max_new_tokens"] = *max_new_tokens;
  if (forced_bos_token_id) j["forced_bos_token_id"] = *forced_bos_token_id;
  if (forced_eos_token_id) j["forced_eos_token_id"] = *forced_eos_token_id;
  j["min_length"] = min_length;
  if (min_new_tokens) j["min_new_tokens"] = *min_new_tokens;
  j["early_stopping"] = early_stopping == 2 ? json("never") : json(early_stopping == 1);
  j["do_sample"] = do_sample;
  j["num_beams"] = num_beams;
  j["temperature"] = temperature;
  j["top_k"] = top_k;
  j["top_p"] = top_p;
  if (min_p) j["min_p"] = *min_p;
  j["repetition_penalty"] = repetition_penalty;
  j["length_penalty"] = length_penalty;
  j["no_repeat_ngram_size"] = no_repeat_ngram_size;
  j["num_return_sequences"] = num_return_sequences;
  if (pad_token_id) j["pad_token_id"] = *pad_token_id;
  if (bos_token_id) j["bos_token_id"] = *bos_token_id;
  if (eos_token_id.size() == 1) j["eos_token_id"] = eos_token_id[0];
  else if (!eos_token_id.empty()) j["eos_token_id"] = eos_token_id;
  return j;
}

void GenerationConfig::validate() const {
  if (num_beams < 1) throw ValueError("generate: num_beams must be >= 1, got " + std::to_string(num_beams));
  if (num_return_sequences < 1) throw ValueError("generate: num_return_sequences must be >= 1");
  if (!do_sample && num_return_sequences > num_beams)
    throw ValueError("generate: num_return_sequences (" + std::to_string(num_return_sequences) +
                     ") has to be smaller or equal to num_beams (" + std::to_string(num_beams) + ") without sampling");
  if (do_sample && !(temperature > 0))
    throw ValueError("generate: temperature must be strictly positive, got " + std::to_string(temperature));
  if (!(top_p >= 0 && top_p <= 1)) throw ValueError("generate: top_p must be in [0, 1], got " + std::to_string(top_p));
  if (min_p && !(*min_p >= 0 && *min_p <= 1)) throw ValueError("generate: min_p must be in [0, 1]");
  if (top_k < 0) throw ValueError("generate: top_k must be >= 0");
  if (!(repetition_penalty > 0)) throw ValueError("generate: repetition_penalty must be strictly positive");
  if (max_new_tokens && *max_new_tokens <= 0)
    throw ValueError("generate: max_new_tokens must be greater than 0, but is " + std::to_string(*max_new_tokens));
  if (min_new_tokens && *min_new_tokens < 0)
    throw ValueError("generate: min_new_tokens must be >= 0, but is " + std::to_string(*min_new_tokens));
  if (min_length < 0) throw ValueError("generate: min_length must be >= 0, but is " + std::to_string(min_length));
  if (max_length < 0) throw ValueError("generate: max_length must be >= 0, but is " + std::to_string(max_length));
}

}  // namespace cppformers
