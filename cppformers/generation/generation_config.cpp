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

void GenerationConfig::update(const json& j, const std::string& file) {
  using io::json_get;
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
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
