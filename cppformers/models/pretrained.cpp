#include "cppformers/models/pretrained.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "cppformers/core/allocator.hpp"
#include "cppformers/core/logging.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/ops/random.hpp"

namespace cppformers {

namespace fs = std::filesystem;
using nlohmann::json;

void PretrainedConfig::set_num_labels(int64_t n) {
  id2label.clear();
  label2id.clear();
  for (int64_t i = 0; i < n; ++i) {
    id2label[i] = "LABEL_" + std::to_string(i);
    label2id["LABEL_" + std::to_string(i)] = i;
  }
}

static std::optional<int64_t> opt_int(const json& j, const char* key, const std::string& file) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (j[key].is_array()) {  // some configs list several eos ids; the first is the canonical one
    if (j[key].empty()) return std::nullopt;
    json first = json::object({{key, j[key][0]}});
    return io::json_get<int64_t>(first, key, 0, file);
  }
  return io::json_get<int64_t>(j, key, 0, file);
}

void check_parameters_fit_in_memory(double params, const std::string& file, const std::string& sizes) {
  const double mem = double(allocator::physical_memory_bytes());
  if (mem > 0 && params * 2 > mem) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "about %.3g parameters (%.3g GiB in bfloat16), more than this machine's %.3g GiB of memory",
                  params, params * 2 / double(1ull << 30), mem / double(1ull << 30));
    throw FormatError(file + ": the sizes (" + sizes + ") imply " + buf);
  }
}

void PretrainedConfig::parse_common(const json& j, const std::string& file) {
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
  source = file;
  extra = j;
  model_type = io::json_get<std::string>(j, "model_type", "", file);
  architectures = io::json_get<std::vector<std::string>>(j, "architectures", {}, file);
  problem_type = io::json_get<std::string>(j, "problem_type", "", file);
  torch_dtype = io::json_get<std::string>(j, "torch_dtype", "", file);
  tie_word_embeddings = io::json_get<bool>(j, "tie_word_embeddings", true, file);
  pad_token_id = opt_int(j, "pad_token_id", file);
  bos_token_id = opt_int(j, "bos_token_id", file);
  eos_token_id = opt_int(j, "eos_token_id", file);
  id2label.clear();
  label2id.clear();
  if (j.contains("id2label") && !j["id2label"].is_null()) {
    const json& m = j["id2label"];
    if (!m.is_object()) throw FormatError(file + ": key 'id2label' should be an object");
    for (auto& [k, v] : m.items()) {
      if (!v.is_string()) throw FormatError(file + ": key 'id2label." + k + "' should be a string");
      int64_t id;
      try {
        size_t used = 0;
        id = std::stoll(k, &used);
        if (used != k.size()) throw std::invalid_argument(k);
      } catch (const std::exception&) {
        throw FormatError(file + ": key 'id2label' has a non-integer id '" + k + "'");
      }
      id2label[id] = v.get<std::string>();
      label2id[v.get<std::string>()] = id;
    }
  } else {
    set_num_labels(io::json_get<int64_t>(j, "num_labels", 2, file));
  }
}

void PretrainedConfig::write_common(json& j) const {
  for (auto& [k, v] : extra.items())
    if (!j.contains(k)) j[k] = v;
  j["model_type"] = model_type;
  if (!architectures.empty()) j["architectures"] = architectures;
  json i2l = json::object(), l2i = json::object();
  for (auto& [id, name] : id2label) {
    i2l[std::to_string(id)] = name;
    l2i[name] = id;
  }
  j["id2label"] = i2l;
  j["label2id"] = l2i;
  j.erase("num_labels");
  if (!problem_type.empty()) j["problem_type"] = problem_type;
  j["torch_dtype"] = torch_dtype.empty() ? "float32" : torch_dtype;
  j["tie_word_embeddings"] = tie_word_embeddings;
  if (pad_token_id) j["pad_token_id"] = *pad_token_id;
  if (bos_token_id && !j.contains("bos_token_id")) j["bos_token_id"] = *bos_token_id;
  if (eos_token_id && !j.contains("eos_token_id")) j["eos_token_id"] = *eos_token_id;
  if (!j.contains("transformers_version")) j["transformers_version"] = "4.45.2";
}

void apply_label_options(PretrainedConfig& cfg, const FromPretrainedOptions& opts) {
  if (!opts.id2label.empty()) {
    cfg.id2label = opts.id2label;
    cfg.label2id.clear();
    for (auto& [i, n] : cfg.id2label) cfg.label2id[n] = i;
  } else if (opts.num_labels > 0 && opts.num_labels != cfg.num_labels()) {
    cfg.set_num_labels(opts.num_labels);
  }
}

static bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

void PreTrainedModel::init_weights(const std::vector<std::string>& only) {
  std::set<std::string> want(only.begin(), only.end());
  const double std = initializer_range();
  autograd::NoGradGuard no_grad;
  for (auto& [name, t] : named_parameters()) {
    if (!want.empty() && !want.count(name)) continue;
    if (t.storage()->read_only()) continue;
    const bool is_norm = name.find("norm") != std::string::npos || name.find("LayerNorm") != std::string::npos ||
                         name.find("ln_") != std::string::npos;  // GPT-2: ln_1, ln_2, ln_f
    if (t.dim() == 1) {
      t.fill_(is_norm && ends_with(name, "weight") ? 1.0 : 0.0);
    } else {
      t.copy_(ops::normal(t.shape(), 0.0, std));
    }
  }
}

void PreTrainedModel::apply_ties() {
  for (auto& [name, source] : tied_weights()) tie(name, source);
}

nn::LoadResult PreTrainedModel::load_pretrained(const io::StateDict& sd0, const FromPretrainedOptions& opts,
                                                const std::string& where) {
  // Legacy names (TF-era checkpoints): LayerNorm.gamma/beta.
  io::StateDict sd;
  for (auto& [k, v] : sd0) {
    std::string n = k;
    if (ends_with(n, ".gamma")) n = n.substr(0, n.size() - 6) + ".weight";
    else if (ends_with(n, ".beta")) n = n.substr(0, n.size() - 5) + ".bias";
    sd[n] = v;
  }
  // The base-model prefix, either way (as from_pretrained does).
  const std::string prefix = base_model_prefix() + ".";
  bool ckpt_has_prefix = false, model_has_prefix = false;
  for (auto& [k, v] : sd) ckpt_has_prefix |= k.rfind(prefix, 0) == 0;
  for (auto& [k, v] : named_parameters()) model_has_prefix |= k.rfind(prefix, 0) == 0;
  if (model_has_prefix && !ckpt_has_prefix) {
    io::StateDict renamed;
    for (auto& [k, v] : sd) renamed[prefix + k] = v;
    sd = std::move(renamed);
  } else if (!model_has_prefix && ckpt_has_prefix) {
    io::StateDict renamed;
    for (auto& [k, v] : sd) renamed[k.rfind(prefix, 0) == 0 ? k.substr(prefix.size()) : k] = v;
    sd = std::move(renamed);
  }
  nn::LoadResult r = load_state_dict(sd, false, opts.dtype);
  // Tied parameters missing from the checkpoint take their source's tensor.
  std::set<std::string> tied_targets;
  for (auto& [name, source] : tied_weights()) tied_targets.insert(name);
  apply_ties();
  std::vector<std::string> missing, unexpected;
  const auto ignore_missing = keys_to_ignore_on_load_missing(), ignore_unexpected = keys_to_ignore_on_load_unexpected();
  auto listed = [](const std::vector<std::string>& v, const std::string& k) {
    return std::find(v.begin(), v.end(), k) != v.end();
  };
  for (auto& k : r.missing_keys)
    if (!tied_targets.count(k) && !listed(ignore_missing, k)) missing.push_back(k);
  for (auto& k : r.unexpected_keys)
    if (!listed(ignore_unexpected, k)) unexpected.push_back(k);
  r.missing_keys = missing;
  r.unexpected_keys = unexpected;
  if (opts.strict && (!r.missing_keys.empty() || !r.unexpected_keys.empty()))
    throw KeyError(where + ": checkpoint does not match " + class_name() + " (" +
                   std::to_string(r.missing_keys.size()) + " missing, " +
                   std::to_string(r.unexpected_keys.size()) + " unexpected keys)");
  auto list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + ("'" + v[i] + "'");
    return s + "]";
  };
  if (!r.unexpected_keys.empty())
    log_warning("Some weights of the model checkpoint at " + where + " were not used when initializing " +
                class_name() + ": " + list(r.unexpected_keys));
  if (!r.missing_keys.empty()) {
    init_weights(r.missing_keys);
    log_warning("Some weights of " + class_name() + " were not initialized from the model checkpoint at " +
                where + " and are newly initialized: " + list(r.missing_keys) +
                "\nYou should probably TRAIN this model on a down-stream task to be able to use it for "
                "predictions and inference.");
  }
  apply_ties();
  return r;
}

void PreTrainedModel::save_pretrained(const std::string& dir) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IOError(dir + ": cannot create directory: " + ec.message());
  json j = config().to_json();
  j["architectures"] = std::vector<std::string>{class_name()};
  std::string dtype_name_str = "float32";
  io::StateDict sd;
  std::set<std::string> tied_targets;
  for (auto& [name, source] : tied_weights()) tied_targets.insert(name);
  for (auto& [name, t] : named_parameters()) {
    if (tied_targets.count(name)) continue;
    sd[name] = t.detach();
    if (t.dtype() == kBF16) dtype_name_str = "bfloat16";
    else if (t.dtype() == kF16) dtype_name_str = "float16";
  }
  j["torch_dtype"] = dtype_name_str;
  const std::string cfg_path = (fs::path(dir) / "config.json").string();
  {
    std::ofstream f(cfg_path + ".tmp");
    f << j.dump(2) << "\n";
    if (!f) throw IOError(cfg_path + ": write failed");
  }
  fs::rename(cfg_path + ".tmp", cfg_path, ec);
  if (ec) throw IOError(cfg_path + ": " + ec.message());
  io::save_file(sd, (fs::path(dir) / "model.safetensors").string(), {{"format", "pt"}});
}

}  // namespace cppformers
