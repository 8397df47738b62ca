#include "cppformers/training/lora.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "cppformers/autograd/node.hpp"
#include "cppformers/core/error.hpp"
#include "cppformers/core/logging.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/models/gpt2/modeling.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/random.hpp"

namespace cppformers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kPrefix = "base_model.model.";
constexpr const char* kConfigName = "adapter_config.json";
constexpr const char* kWeightsName = "adapter_model.safetensors";

// peft's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING, for the model types cppformers has.
const std::map<std::string, std::vector<std::string>>& default_targets() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"t5", {"q", "v"}},           {"mt5", {"q", "v"}},
      {"bart", {"q_proj", "v_proj"}}, {"gpt2", {"c_attn"}},
      {"bert", {"query", "value"}},   {"roberta", {"query", "value"}},
      {"xlm-roberta", {"query", "value"}}, {"electra", {"query", "value"}},
      {"deberta-v2", {"query_proj", "value_proj"}}, {"llama", {"q_proj", "v_proj"}},
      {"mistral", {"q_proj", "v_proj"}}, {"mixtral", {"q_proj", "v_proj"}},
      {"gemma", {"q_proj", "v_proj"}}, {"gemma2", {"q_proj", "v_proj"}},
      {"qwen2", {"q_proj", "v_proj"}}, {"phi", {"q_proj", "v_proj", "fc1", "fc2"}}};
  return m;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::regex compile(const std::string& pattern, const std::string& what) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw ValueError("LoraConfig: " + what + " '" + pattern + "' is not a valid regular expression: " + e.what());
  }
}

// peft's check_target_module_exists for a list: equal, or a suffix at a dot boundary.
bool matches_name_list(const std::string& path, const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (path == n || ends_with(path, "." + n)) return true;
  return false;
}

// peft's get_pattern_key: the first pattern that matches the path's end at a dot boundary.
template <class V>
std::optional<V> pattern_value(const std::map<std::string, V>& patterns, const std::string& path) {
  for (const auto& [key, value] : patterns)
    if (std::regex_match(path, compile("(.*\\.)?(?:" + key + ")", "pattern key"))) return value;
  return std::nullopt;
}

// Replaces the data under every handle of `param` with a writable copy of `value`.
void assign(const Tensor& param, const Tensor& value) {
  Tensor v = value.detach().to(param.dtype()).contiguous().clone();
  TensorImpl* impl = param.impl();
  impl->storage = v.storage();
  impl->strides = v.strides();
  impl->offset = v.offset();
}

json number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return json(int64_t(v));
  return json(v);
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp);
    f << text;
    if (!f) throw IOError(path.string() + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw IOError(path.string() + ": " + ec.message());
}

}  // namespace

// ---------------------------------------------------------------- LoraConfig

json LoraConfig::to_json() const {
  json j;
  json ranks = json::object(), alphas = json::object();
  for (auto& [k, v] : rank_pattern) ranks[k] = v;
  for (auto& [k, v] : alpha_pattern) alphas[k] = number(v);
  j["alpha_pattern"] = alphas;
  j["auto_mapping"] = nullptr;
  j["base_model_name_or_path"] = base_model_name_or_path.empty() ? json() : json(base_model_name_or_path);
  j["bias"] = bias;
  j["fan_in_fan_out"] = fan_in_fan_out;
  j["inference_mode"] = inference_mode;
  j["init_lora_weights"] = init_lora_weights;
  j["layer_replication"] = nullptr;
  j["layers_pattern"] = nullptr;
  j["layers_to_transform"] = nullptr;
  j["loftq_config"] = json::object();
  j["lora_alpha"] = number(lora_alpha);
  j["lora_dropout"] = lora_dropout;
  j["megatron_config"] = nullptr;
  j["megatron_core"] = "megatron.core";
  j["modules_to_save"] = modules_to_save ? json(*modules_to_save) : json();
  j["peft_type"] = "LORA";
  j["r"] = r;
  j["rank_pattern"] = ranks;
  j["revision"] = revision ? json(*revision) : json();
  if (!target_modules_regex.empty()) j["target_modules"] = target_modules_regex;
  else j["target_modules"] = target_modules.empty() ? json() : json(target_modules);
  j["task_type"] = task_type.empty() ? json() : json(task_type);
  j["use_dora"] = false;
  j["use_rslora"] = use_rslora;
  return j;
}

LoraConfig LoraConfig::from_json(const json& j, const std::string& file) {
  using io::json_get;
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
  const std::string peft_type = json_get(j, "peft_type", "LORA", file);
  if (peft_type != "LORA") throw NotSupportedError(file + ": peft_type '" + peft_type + "' is not supported (only LORA)");
  LoraConfig c;
  c.r = json_get<int64_t>(j, "r", c.r, file);
  if (c.r < 1) throw FormatError(file + ": key 'r' should be >= 1");
  c.lora_alpha = json_get<double>(j, "lora_alpha", c.lora_alpha, file);
  c.lora_dropout = json_get<double>(j, "lora_dropout", c.lora_dropout, file);
  if (!(c.lora_dropout >= 0 && c.lora_dropout < 1)) throw FormatError(file + ": key 'lora_dropout' should be in [0, 1)");
  if (j.contains("target_modules") && j["target_modules"].is_string())
    c.target_modules_regex = j["target_modules"].get<std::string>();
  else
    c.target_modules = json_get<std::vector<std::string>>(j, "target_modules", {}, file);
  c.bias = json_get(j, "bias", "none", file);
  if (c.bias != "none")
    throw NotSupportedError(file + ": key 'bias' is '" + c.bias + "'; only \"none\" is supported");
  c.fan_in_fan_out = json_get<bool>(j, "fan_in_fan_out", false, file);
  c.use_rslora = json_get<bool>(j, "use_rslora", false, file);
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null())
    c.modules_to_save = json_get<std::vector<std::string>>(j, "modules_to_save", {}, file);
  c.task_type = json_get(j, "task_type", "", file);
  c.base_model_name_or_path = json_get(j, "base_model_name_or_path", "", file);
  if (j.contains("revision") && !j["revision"].is_null()) c.revision = json_get(j, "revision", "", file);
  c.inference_mode = json_get<bool>(j, "inference_mode", false, file);
  if (j.contains("init_lora_weights") && j["init_lora_weights"].is_string()) {
    // Initialisations that only change the starting point load like the default; those that
    // rewrite the base weights (pissa, olora, loftq, eva, corda) need code cppformers lacks.
    const std::string init = j["init_lora_weights"].get<std::string>();
    if (init != "gaussian")
      throw NotSupportedError(file + ": key 'init_lora_weights' is '" + init + "', which is not supported");
  } else {
    c.init_lora_weights = json_get<bool>(j, "init_lora_weights", true, file);
  }
  auto read_patterns = [&](const char* key, auto& out) {
    if (!j.contains(key) || j[key].is_null()) return;
    if (!j[key].is_object()) throw FormatError(file + ": key '" + key + "' should be an object");
    for (auto& [k, v] : j[key].items()) {
      if (!v.is_number()) throw FormatError(file + ": key '" + std::string(key) + "." + k + "' should be a number");
      out[k] = v.template get<typename std::decay_t<decltype(out)>::mapped_type>();
    }
  };
  read_patterns("rank_pattern", c.rank_pattern);
  read_patterns("alpha_pattern", c.alpha_pattern);
  // Fields of newer peft versions that change what the adapter computes.
  for (const char* key : {"use_dora", "lora_bias", "use_qalora", "use_bdlora"})
    if (j.contains(key) && j[key].is_boolean() && j[key].get<bool>())
      throw NotSupportedError(file + ": key '" + std::string(key) + "' is true, which is not supported");
  for (const char* key : {"layers_to_transform", "layer_replication", "megatron_config", "trainable_token_indices",
                          "target_parameters", "exclude_modules", "alora_invocation_tokens"})
    if (j.contains(key) && !j[key].is_null() && !(j[key].is_array() && j[key].empty()))
      throw NotSupportedError(file + ": key '" + std::string(key) + "' is set, which is not supported");
  return c;
}

LoraConfig LoraConfig::from_pretrained(const std::string& dir) {
  const std::string path = (fs::path(dir) / kConfigName).string();
  if (!fs::exists(path)) throw IOError(path + ": no such file (not a peft adapter folder)");
  return from_json(io::read_json_file(path), path);
}

LoraConfig LoraConfig::parse_spec(const std::string& spec) {
  LoraConfig c;
  std::string key;
  std::vector<std::string>* list = nullptr;
  auto bad = [&](const std::string& part, const std::string& why) {
    throw ValueError("--lora: '" + part + "' " + why + " (expected e.g. r=8,alpha=16,dropout=0.1,targets=query,value)");
  };
  auto to_double = [&](const std::string& part, const std::string& v) {
    try {
      size_t used = 0;
      const double d = std::stod(v, &used);
      if (used != v.size()) throw std::invalid_argument(v);
      return d;
    } catch (const std::exception&) {
      bad(part, "is not a number");
    }
    return 0.0;
  };
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string part = spec.substr(start, end - start);
    start = end + 1;
    if (part.empty()) {
      if (end == spec.size()) break;
      bad(part, "is empty");
    }
    const size_t eq = part.find('=');
    if (eq == std::string::npos) {
      if (part == "rslora" || part == "use_rslora") {  // a bare flag, also after a list
        c.use_rslora = true;
        list = nullptr;
        continue;
      }
      if (list) {
        list->push_back(part);
        continue;
      }
      bad(part, "has no '='");
    }
    key = part.substr(0, eq);
    const std::string value = part.substr(eq + 1);
    list = nullptr;
    if (key == "r") {
      const double d = to_double(part, value);
      if (d < 1 || d != std::floor(d)) bad(part, "should be a positive integer");
      c.r = int64_t(d);
    } else if (key == "alpha" || key == "lora_alpha") {
      c.lora_alpha = to_double(part, value);
      if (!(c.lora_alpha > 0)) bad(part, "should be > 0");
    } else if (key == "dropout" || key == "lora_dropout") {
      c.lora_dropout = to_double(part, value);
      if (!(c.lora_dropout >= 0 && c.lora_dropout < 1)) bad(part, "should be in [0, 1)");
    } else if (key == "targets" || key == "target_modules") {
      c.target_modules.clear();
      if (value == "all-linear") {
        c.target_modules_regex = value;
      } else {
        if (!value.empty()) c.target_modules.push_back(value);
        list = &c.target_modules;
      }
    } else if (key == "modules_to_save" || key == "save") {
      c.modules_to_save = std::vector<std::string>{};
      if (!value.empty()) c.modules_to_save->push_back(value);
      list = &*c.modules_to_save;
    } else if (key == "rslora" || key == "use_rslora") {
      if (value != "true" && value != "false" && value != "1" && value != "0") bad(part, "should be true or false");
      c.use_rslora = value == "true" || value == "1";
    } else if (key == "task_type" || key == "task") {
      c.task_type = value;
    } else {
      bad(part, "has an unknown key (r, alpha, dropout, targets, modules_to_save, rslora, task_type)");
    }
  }
  return c;
}

// ---------------------------------------------------------------- LoraLayer

LoraLayer::LoraLayer(int64_t in, int64_t out, int64_t r, double lora_alpha, double dropout, bool use_rslora,
                     bool fan_in_fan_out)
    : lora_A(std::make_shared<nn::Linear>(in, r, false)),
      lora_B(std::make_shared<nn::Linear>(r, out, false)),
      r(r),
      scaling(use_rslora ? lora_alpha / std::sqrt(double(r)) : lora_alpha / double(r)),
      dropout(dropout),
      fan_in_fan_out(fan_in_fan_out) {
  if (r < 1) throw ValueError("LoRA: r should be >= 1, got " + std::to_string(r));
  autograd::NoGradGuard no_grad;
  // nn.Linear's default init, kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const double bound = 1.0 / std::sqrt(double(in));
  lora_A->weight.copy_(ops::rand({r, in}) * (2 * bound) - bound);
  lora_B->weight.zero_();
}

Tensor LoraLayer::forward(const Tensor& x, const Tensor& y) const {
  const Tensor h = dropout > 0 && lora_A->is_training() ? ops::dropout(x, dropout, true) : x;
  return y + (*lora_B)((*lora_A)(h)) * scaling;
}

Tensor LoraLayer::delta_weight() const {
  autograd::NoGradGuard no_grad;
  Tensor d = ops::matmul(lora_B->weight.to(kF32), lora_A->weight.to(kF32)) * scaling;  // [out, in]
  return fan_in_fan_out ? d.transpose(0, 1).contiguous() : d;
}

// ---------------------------------------------------------------- PeftModel

PeftModel::PeftModel(std::shared_ptr<PreTrainedModel> model, LoraConfig config)
    : base_(std::move(model)), config_(std::move(config)) {
  if (!base_) throw ValueError("get_peft_model: model is null");
  if (config_.bias != "none") throw NotSupportedError("LoraConfig: bias '" + config_.bias + "' is not supported (only none)");
  if (config_.r < 1) throw ValueError("LoraConfig: r should be >= 1");
  if (!(config_.lora_dropout >= 0 && config_.lora_dropout < 1)) throw ValueError("LoraConfig: lora_dropout should be in [0, 1)");
  if (config_.base_model_name_or_path.empty() && !base_->config().source.empty())
    config_.base_model_name_or_path = fs::path(base_->config().source).parent_path().string();
  register_module("base_model.model", base_);
  inject();
  train(base_->is_training());
}

std::shared_ptr<PeftModel> get_peft_model(std::shared_ptr<PreTrainedModel> model, LoraConfig config) {
  return std::make_shared<PeftModel>(std::move(model), std::move(config));
}

void PeftModel::inject() {
  // What was trainable before, restored by unload().
  for (auto& [name, p] : base_->named_parameters()) original_requires_grad_.emplace_back(p, p.requires_grad());
  base_->requires_grad_(false);

  auto modules = base_->named_modules();
  const std::string model_type = base_->config().model_type;
  // The target list: explicit, a regular expression, all-linear, or the model type's default.
  std::vector<std::string> names = config_.target_modules;
  std::optional<std::regex> regex;
  if (config_.target_modules_regex == "all-linear") {
    // Every linear layer but the output head: the LM head (and any layer tied to the
    // embeddings), or for SEQ_CLS the classifier, as peft's _maybe_include_all_linear_layers.
    std::set<std::string> exclude{"lm_head", "cls.predictions.decoder", "lm_head.decoder"};
    for (auto& [name, source] : base_->tied_weights())
      if (ends_with(name, ".weight")) exclude.insert(name.substr(0, name.size() - 7));
    if (config_.task_type == "SEQ_CLS") {
      for (const char* head : {"classifier", "score"}) {
        bool found = false;
        for (auto& [path, m] : modules) found |= path == head;
        if (found) {
          exclude.insert(head);
          break;
        }
      }
    }
    names.clear();
    for (auto& [path, m] : modules)
      if ((dynamic_cast<nn::Linear*>(m) || dynamic_cast<Conv1D*>(m)) && !exclude.count(path)) names.push_back(path);
    config_.target_modules = names;
    config_.target_modules_regex.clear();
  } else if (!config_.target_modules_regex.empty()) {
    regex = compile(config_.target_modules_regex, "target_modules");
  } else if (names.empty()) {
    auto it = default_targets().find(model_type);
    if (it == default_targets().end())
      throw ValueError("LoraConfig: no default target_modules for model type '" + model_type +
                       "'; please give target_modules");
    names = it->second;
    config_.target_modules = names;
  }

  bool warned_fan_in = false;
  for (auto& [path, module] : modules) {
    if (path.empty()) continue;
    const bool hit = regex ? std::regex_match(path, *regex) : matches_name_list(path, names);
    if (!hit) continue;
    Target t{path, module, nullptr, nullptr, nullptr};
    int64_t in = 0, out = 0;
    bool conv1d = false;
    if (auto* lin = dynamic_cast<nn::Linear*>(module)) {
      t.weight = &lin->weight;
      t.hook = &lin->adapter;
      out = lin->weight.size(0), in = lin->weight.size(1);
    } else if (auto* conv = dynamic_cast<Conv1D*>(module)) {
      t.weight = &conv->weight;
      t.hook = &conv->adapter;
      in = conv->weight.size(0), out = conv->weight.size(1);
      conv1d = true;
    } else {
      throw NotSupportedError("LoRA: target module '" + path +
                              "' is not supported; only linear layers (nn::Linear, GPT-2's Conv1D) can be adapted");
    }
    if (conv1d && !config_.fan_in_fan_out) {
      if (!warned_fan_in)
        log_warning("fan_in_fan_out is set to False but the target module is `Conv1D`. Setting fan_in_fan_out to True.");
      warned_fan_in = true;
      config_.fan_in_fan_out = true;
    } else if (!conv1d && config_.fan_in_fan_out) {
      log_warning("fan_in_fan_out is set to True but the target module is a linear layer. Setting fan_in_fan_out to False.");
      config_.fan_in_fan_out = false;
    }
    if (*t.hook) throw ValueError("LoRA: module '" + path + "' already has an adapter");
    const int64_t r = pattern_value(config_.rank_pattern, path).value_or(config_.r);
    const double alpha = pattern_value(config_.alpha_pattern, path).value_or(config_.lora_alpha);
    t.lora = std::make_shared<LoraLayer>(in, out, r, alpha, config_.lora_dropout, config_.use_rslora, conv1d);
    if (!config_.init_lora_weights) {  // peft leaves both at nn.Linear's default init
      autograd::NoGradGuard no_grad;
      const double bound = 1.0 / std::sqrt(double(r));
      t.lora->lora_B->weight.copy_(ops::rand({out, r}) * (2 * bound) - bound);
    }
    module->attach_module("lora_A", t.lora->lora_A.get());
    module->attach_module("lora_B", t.lora->lora_B.get());
    t.lora->lora_A->train(module->is_training());
    t.lora->lora_B->train(module->is_training());
    *t.hook = t.lora;
    if (config_.inference_mode) {
      t.lora->lora_A->weight.requires_grad_(false);
      t.lora->lora_B->weight.requires_grad_(false);
    }
    targets_.push_back(std::move(t));
  }
  if (targets_.empty()) {
    std::string what = regex ? config_.target_modules_regex : "";
    for (const std::string& n : names) what += (what.empty() ? "" : ", ") + n;
    throw ValueError("Target modules {" + what + "} not found in the base model. Please check the target modules and try again.");
  }

  // Modules to save: the task's head as peft's task models add it, plus the user's.
  std::vector<std::string> save = config_.modules_to_save.value_or(std::vector<std::string>{});
  std::vector<std::string> task_heads;
  if (config_.task_type == "SEQ_CLS" || config_.task_type == "TOKEN_CLS") task_heads = {"classifier", "score"};
  else if (config_.task_type == "QUESTION_ANS") task_heads = {"qa_outputs"};
  if (!task_heads.empty()) {
    for (const std::string& h : task_heads)
      if (std::find(save.begin(), save.end(), h) == save.end()) save.push_back(h);
    config_.modules_to_save = save;
  }
  for (const std::string& name : save) {
    bool found = false;
    for (auto& [path, module] : modules) {
      if (path.empty() || !ends_with(path, name)) continue;  // peft: key.endswith(target_key)
      found = true;
      bool nested = false;  // already inside a module to save
      for (const std::string& s : save_paths_) nested |= path.rfind(s + ".", 0) == 0 || path == s;
      if (nested) continue;
      save_paths_.push_back(path);
      if (!config_.inference_mode)
        for (auto& [pname, p] : module->named_parameters())
          if (is_floating(p.dtype()) && pname.find("lora_") == std::string::npos) p.requires_grad_(true);
    }
    if (!found && std::find(task_heads.begin(), task_heads.end(), name) == task_heads.end())
      log_warning("LoRA: modules_to_save '" + name + "' matches no module of the model");
  }
}

void PeftModel::check_live(const char* what) const {
  if (unloaded_) throw ValueError(std::string("PeftModel.") + what + ": the adapters were already unloaded");
}

ModelOutput PeftModel::forward(const ModelInputs& inputs) {
  check_live("forward");
  return base_->forward(inputs);
}

std::vector<std::pair<std::string, std::string>> PeftModel::tied_weights() const {
  auto t = base_->tied_weights();
  for (auto& [a, b] : t) a = kPrefix + a, b = kPrefix + b;
  return t;
}

std::vector<std::string> PeftModel::lora_module_names() const {
  std::vector<std::string> out;
  for (const Target& t : targets_) out.push_back(t.path);
  return out;
}

io::StateDict PeftModel::get_peft_model_state_dict() const {
  check_live("get_peft_model_state_dict");
  io::StateDict sd;
  for (const Target& t : targets_) {
    sd[kPrefix + t.path + ".lora_A.weight"] = t.lora->lora_A->weight.detach();
    sd[kPrefix + t.path + ".lora_B.weight"] = t.lora->lora_B->weight.detach();
  }
  auto modules = base_->named_modules();
  for (const std::string& path : save_paths_)
    for (auto& [mpath, module] : modules) {
      if (mpath != path) continue;
      for (auto& [pname, p] : module->named_parameters())
        if (pname.find("lora_") == std::string::npos) sd[kPrefix + path + "." + pname] = p.detach();
    }
  return sd;
}

void PeftModel::set_peft_model_state_dict(const io::StateDict& sd, const std::string& where) {
  check_live("set_peft_model_state_dict");
  autograd::NoGradGuard no_grad;
  // The model's adapter tensors by saved name, as handles onto the live parameters.
  std::map<std::string, Tensor> live;
  for (const Target& t : targets_) {
    live[kPrefix + t.path + ".lora_A.weight"] = t.lora->lora_A->weight;
    live[kPrefix + t.path + ".lora_B.weight"] = t.lora->lora_B->weight;
  }
  auto modules = base_->named_modules();
  for (const std::string& path : save_paths_)
    for (auto& [mpath, module] : modules)
      if (mpath == path)
        for (auto& [pname, p] : module->named_parameters())
          if (pname.find("lora_") == std::string::npos) live[kPrefix + path + "." + pname] = p;
  for (auto& [name, p] : live) {
    auto it = sd.find(name);
    if (it == sd.end()) throw FormatError(where + ": adapter tensor '" + name + "' is missing");
    if (it->second.shape() != p.shape())
      throw FormatError(where + ": tensor '" + name + "' has shape " + shape_str(it->second.shape()) +
                        ", the model expects " + shape_str(p.shape()));
    if (!is_floating(it->second.dtype()))
      throw FormatError(where + ": tensor '" + name + "' is " + dtype_name(it->second.dtype()) + ", not floating");
    assign(p, it->second);
  }
  std::vector<std::string> unexpected;
  for (auto& [name, t] : sd)
    if (!live.count(name)) unexpected.push_back(name);
  if (!unexpected.empty()) {
    std::string list;
    for (size_t i = 0; i < unexpected.size() && i < 10; ++i) list += (i ? ", " : "") + unexpected[i];
    if (unexpected.size() > 10) list += ", ... (" + std::to_string(unexpected.size()) + " in all)";
    log_warning(where + ": unexpected adapter tensors, ignored: " + list);
  }
}

void PeftModel::load_adapter_weights(const std::string& dir) {
  const fs::path path = fs::path(dir) / kWeightsName;
  if (!fs::exists(path)) {
    if (fs::exists(fs::path(dir) / "adapter_model.bin"))
      throw NotSupportedError((fs::path(dir) / "adapter_model.bin").string() +
                              ": pickled adapters are not read (only adapter_model.safetensors)");
    throw IOError(path.string() + ": no such file");
  }
  auto file = io::SafetensorsFile::open(path.string());
  io::StateDict sd;
  for (const auto& n : file.names()) sd[n] = file.get(n);
  set_peft_model_state_dict(sd, path.string());
}

std::shared_ptr<PeftModel> PeftModel::from_pretrained(std::shared_ptr<PreTrainedModel> model, const std::string& dir,
                                                      bool is_trainable) {
  if (!fs::is_directory(dir)) throw IOError(dir + ": no such adapter folder");
  LoraConfig c = LoraConfig::from_pretrained(dir);
  c.inference_mode = !is_trainable;
  auto m = std::make_shared<PeftModel>(std::move(model), c);
  m->load_adapter_weights(dir);
  return m;
}

void PeftModel::save_pretrained(const std::string& dir) const {
  check_live("save_pretrained");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IOError(dir + ": cannot create directory: " + ec.message());
  json j = config_.to_json();
  j["inference_mode"] = true;  // peft saves every adapter so
  if (config_.task_type.empty()) {
    // peft's auto_mapping for a model without a task type: the class to rebuild.
    std::string module = base_->config().model_type;
    std::replace(module.begin(), module.end(), '-', '_');
    j["auto_mapping"] = {{"base_model_class", base_->class_name()},
                         {"parent_library", "transformers.models." + module + ".modeling_" + module}};
  }
  write_file_atomically(fs::path(dir) / kConfigName, j.dump(2) + "\n");
  const fs::path weights = fs::path(dir) / kWeightsName;
  io::save_file(get_peft_model_state_dict(), weights.string() + ".tmp", {{"format", "pt"}});
  fs::rename(weights.string() + ".tmp", weights, ec);
  if (ec) throw IOError(weights.string() + ": " + ec.message());
}

std::shared_ptr<PreTrainedModel> PeftModel::unload_impl(bool merge) {
  autograd::NoGradGuard no_grad;
  std::map<const TensorImpl*, bool> flags;
  for (auto& [p, on] : original_requires_grad_) flags[p.impl()] = on;
  for (Target& t : targets_) {
    if (merge) {
      const Tensor w = *t.weight;
      const bool rg = flags.count(w.impl()) ? flags[w.impl()] : false;
      Tensor merged = (w.detach().to(kF32) + t.lora->delta_weight()).to(w.dtype()).contiguous();
      // Read-only, like the checkpoint weights it replaces (so fused inference paths apply).
      merged = Tensor::from_storage(Storage::view(merged.raw_data(), size_t(merged.numel()) * dtype_size(merged.dtype()),
                                                  merged.storage(), true),
                                    merged.shape(), merged.dtype());
      if (rg) merged.requires_grad_(true);
      *t.weight = merged;
    }
    *t.hook = nullptr;
    t.module->detach_module("lora_A");
    t.module->detach_module("lora_B");
  }
  for (auto& [p, on] : original_requires_grad_)
    if (is_floating(p.dtype())) p.requires_grad_(on);
  targets_.clear();
  save_paths_.clear();
  unloaded_ = true;
  return base_;
}

std::shared_ptr<PreTrainedModel> PeftModel::merge_and_unload() {
  check_live("merge_and_unload");
  return unload_impl(true);
}

std::shared_ptr<PreTrainedModel> PeftModel::unload() {
  check_live("unload");
  return unload_impl(false);
}

std::pair<int64_t, int64_t> PeftModel::get_nb_trainable_parameters() const {
  int64_t trainable = 0, all = 0;
  for (const Tensor& p : parameters()) {
    all += p.numel();
    if (p.requires_grad()) trainable += p.numel();
  }
  return {trainable, all};
}

std::string PeftModel::trainable_parameters_summary() const {
  auto [trainable, all] = get_nb_trainable_parameters();
  auto commas = [](int64_t v) {
    std::string s = std::to_string(v);
    for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
    return s;
  };
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.4f", all > 0 ? 100.0 * double(trainable) / double(all) : 0.0);
  return "trainable params: " + commas(trainable) + " || all params: " + commas(all) + " || trainable%: " + pct;
}

}  // namespace cppformers
