#pragma once
// What every model shares: the PretrainedConfig fields, and PreTrainedModel's from_pretrained
// loading rules (base-model prefix either way, tied weights, newly initialised heads, dtype)
// and save_pretrained (config.json + model.safetensors that Python loads unchanged).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/io/hub.hpp"
#include "cppformers/models/model_io.hpp"
#include "cppformers/nn/module.hpp"

namespace cppformers {

struct PretrainedConfig {
  std::string model_type;
  std::vector<std::string> architectures;
  std::map<int64_t, std::string> id2label;  // default {0: LABEL_0, 1: LABEL_1}
  std::map<std::string, int64_t> label2id;
  std::string problem_type;  // "", regression, single_label_classification, multi_label_classification
  std::string torch_dtype;
  bool tie_word_embeddings = true;
  std::optional<int64_t> pad_token_id, bos_token_id, eos_token_id;
  std::string source;    // the file it came from, for error messages
  nlohmann::json extra;  // every field of config.json, so save keeps what cppformers does not model

  int64_t num_labels() const { return int64_t(id2label.size()); }
  void set_num_labels(int64_t n);  // LABEL_0..LABEL_{n-1}, as Python's num_labels setter

  // Parses the common fields; throws FormatError naming the file and key on a wrong type.
  void parse_common(const nlohmann::json& j, const std::string& file);
  // Writes the common fields into j (over `extra`).
  void write_common(nlohmann::json& j) const;
  // The JSON for config.json; architectures are set by save_pretrained.
  virtual nlohmann::json to_json() const = 0;
  virtual ~PretrainedConfig() = default;
};

// Absurd sizes in a config.json (num_hidden_layers 1e12, head_dim 2^40, ...) would hang or fail to
// allocate while the model is built: FormatError naming `file` and `sizes` (e.g. "vocab_size 32000,
// ...") when the `params` they imply, at 2 bytes each, exceed this machine's memory.
void check_parameters_fit_in_memory(double params, const std::string& file, const std::string& sizes);

struct FromPretrainedOptions {
  DType dtype = kF32;            // weights are converted to this (Python's default float32)
  int64_t num_labels = -1;       // overrides the config's labels (LABEL_0..), as Python's kwarg
  std::map<int64_t, std::string> id2label;  // overrides the config's labels when non-empty
  bool strict = false;           // fail on missing/unexpected keys instead of warning
  // A Hub id ("org/name") is fetched through the cache with these, as Python's kwargs of the same
  // names (see io/hub.hpp); a local folder ignores them.
  std::string revision = "main";  // branch, tag or commit
  std::string token;              // empty: HF_TOKEN, else the token file
  std::string cache_dir;          // empty: HF_HUB_CACHE, else $HF_HOME/hub
  bool local_files_only = false;  // the cache only, no request
  bool force_download = false;    // fetch again even when cached

  io::HubOptions hub_options() const {
    io::HubOptions h;
    h.revision = revision;
    h.token = token;
    h.cache_dir = cache_dir;
    h.local_files_only = local_files_only;
    h.force_download = force_download;
    return h;
  }
};

class PreTrainedModel : public nn::Module {
 public:
  virtual ModelOutput forward(const ModelInputs& inputs) = 0;
  ModelOutput operator()(const ModelInputs& inputs) { return forward(inputs); }

  virtual const PretrainedConfig& config() const = 0;
  virtual PretrainedConfig& mutable_config() = 0;
  // The HF class name (written to config.json "architectures").
  virtual std::string class_name() const = 0;
  // "bert", "roberta", ...: the attribute holding the base model in head models.
  virtual std::string base_model_prefix() const = 0;
  // Parameters that share another's tensor: {name, source} (e.g. an LM head and the embeddings).
  virtual std::vector<std::pair<std::string, std::string>> tied_weights() const { return {}; }
  // The std of HF's _init_weights normal init.
  virtual double initializer_range() const { return 0.02; }
  // Checkpoint keys that may be absent (the parameter keeps its constructed value, no warning)
  // or present and unused (dropped without warning), as Python's
  // _keys_to_ignore_on_load_missing / _keys_to_ignore_on_load_unexpected (exact names here).
  virtual std::vector<std::string> keys_to_ignore_on_load_missing() const { return {}; }
  virtual std::vector<std::string> keys_to_ignore_on_load_unexpected() const { return {}; }

  // HF's _init_weights: normal(0, initializer_range) for matrices, zeros for biases, ones for
  // norm weights; embedding padding rows zeroed. Only the named parameters (all if empty).
  void init_weights(const std::vector<std::string>& only = {});
  // Loads a checkpoint's state dict with from_pretrained's rules; returns what was missing
  // (now newly initialised) and unexpected (ignored), and warns about both as Python does.
  nn::LoadResult load_pretrained(const io::StateDict& sd, const FromPretrainedOptions& opts,
                                 const std::string& where);
  void apply_ties();
  // Writes config.json and model.safetensors (tied parameters stored once, as Python does).
  // Virtual so that a LoRA PeftModel saves its adapter instead (training/lora.hpp).
  virtual void save_pretrained(const std::string& dir) const;
};

// Reads labels (id2label/num_labels) into a config when the options override them.
void apply_label_options(PretrainedConfig& cfg, const FromPretrainedOptions& opts);

}  // namespace cppformers
