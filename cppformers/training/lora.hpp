#pragma once
// LoRA (Hu et al. 2021) as the `peft` library does it, for any cppformers model:
//
//   LoraConfig cfg;                       // peft.LoraConfig's names and defaults
//   cfg.r = 8; cfg.lora_alpha = 16; cfg.lora_dropout = 0.1;
//   cfg.target_modules = {"query", "value"};
//   cfg.task_type = "SEQ_CLS";            // also trains and saves the classifier head
//   auto peft = get_peft_model(model, cfg);
//   Trainer trainer(peft, args, train, eval, ...);    // only the adapter (and head) train
//   trainer.train();
//   peft->save_pretrained("adapter");     // adapter_config.json + adapter_model.safetensors
//   auto again = PeftModel::from_pretrained(base, "adapter");
//   auto merged = again->merge_and_unload();          // a plain model again, B@A folded in
//
// Each targeted nn::Linear (or GPT-2 Conv1D, whose [in, out] weight is peft's fan_in_fan_out)
// keeps its weight frozen and gains lora_A ([r, in], kaiming-uniform with a = sqrt(5), as
// nn.Linear's default init) and lora_B ([out, r], zeros); its output becomes
//   base(x) + lora_B(lora_A(dropout(x))) * scaling,   scaling = lora_alpha / r (/ sqrt(r) with rsLoRA)
// with dropout only in training mode. Modules named in modules_to_save (task_type SEQ_CLS and
// TOKEN_CLS add "classifier" and "score", QUESTION_ANS adds "qa_outputs", as peft's task models
// do) train whole. Everything else is frozen (requires_grad off), so Trainer optimizes the
// adapter alone.
//
// Saved files are peft's: adapter_config.json with LoraConfig's fields (peft 0.13's set, keys
// sorted, inference_mode true) and adapter_model.safetensors with peft's keys and no adapter
// name: "base_model.model.<module path>.lora_A.weight", "...lora_B.weight", and for a module to
// save "base_model.model.<module path>.<its parameter>" (e.g. base_model.model.classifier.weight).
// Python's PeftModel.from_pretrained loads them, and these classes load what peft saves.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/models/pretrained.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

struct LoraConfig {
  int64_t r = 8;
  double lora_alpha = 8;
  double lora_dropout = 0.0;
  // Module names: a module is targeted when its dotted path equals an entry or ends with
  // "." + entry (peft's list semantics). Empty (peft's None): the default of the model type
  // (bert/roberta: query, value; gpt2: c_attn; llama/mistral/qwen2/gemma: q_proj, v_proj; ...).
  std::vector<std::string> target_modules;
  // Instead of the list: a regular expression the whole module path must match (peft's
  // target_modules given as a string), or "all-linear" (every linear layer but the output
  // head, expanded to the list of their paths).
  std::string target_modules_regex;
  std::string bias = "none";  // only "none" is supported
  bool fan_in_fan_out = false;  // set automatically (with a warning) for GPT-2's Conv1D
  bool use_rslora = false;      // scaling = lora_alpha / sqrt(r)
  std::optional<std::vector<std::string>> modules_to_save;  // suffixes of module paths
  // "", SEQ_CLS, TOKEN_CLS, QUESTION_ANS, CAUSAL_LM, SEQ_2_SEQ_LM, FEATURE_EXTRACTION
  std::string task_type;
  std::string base_model_name_or_path;
  std::optional<std::string> revision;
  bool inference_mode = false;
  bool init_lora_weights = true;  // false: lora_B random too (a non-identity start, for tests)
  // Per-module rank / alpha by pattern: a key matches a module path that ends with it at a
  // dot boundary (regular expression, as peft's get_pattern_key).
  std::map<std::string, int64_t> rank_pattern;
  std::map<std::string, double> alpha_pattern;

  // adapter_config.json's object (peft 0.13's fields; auto_mapping is set by PeftModel).
  nlohmann::json to_json() const;
  // Reads adapter_config.json's object. Fields newer peft versions write are accepted; ones
  // that change the computation in ways not implemented (use_dora, lora_bias, layers_to_transform,
  // a bias other than none, ...) are a NotSupportedError naming the key.
  static LoraConfig from_json(const nlohmann::json& j, const std::string& file = "<json>");
  static LoraConfig from_pretrained(const std::string& dir);
  // The command-line form "r=8,alpha=16,dropout=0.1,targets=query,value": keys r, alpha (lora_alpha),
  // dropout (lora_dropout), targets (target_modules), modules_to_save (alias save), rslora,
  // task_type; a part without '=' continues the list of the key before it.
  static LoraConfig parse_spec(const std::string& spec);
};

// The adapter attached to one linear layer (exposed for tests and tools).
class LoraLayer : public nn::LinearAdapter {
 public:
  LoraLayer(int64_t in_features, int64_t out_features, int64_t r, double lora_alpha, double dropout, bool use_rslora,
            bool fan_in_fan_out);
  Tensor forward(const Tensor& x, const Tensor& y) const override;
  // scaling * lora_B.weight @ lora_A.weight, [out, in] (transposed to [in, out] with fan_in_fan_out).
  Tensor delta_weight() const;

  std::shared_ptr<nn::Linear> lora_A, lora_B;
  int64_t r;
  double scaling, dropout;
  bool fan_in_fan_out;
};

class PeftModel : public PreTrainedModel {
 public:
  // peft.get_peft_model: injects adapters into `model` (modified in place, as peft does) and
  // freezes everything but them and the modules to save. Throws ValueError when no module
  // matches target_modules, NotSupportedError when a matched module is not a linear layer.
  PeftModel(std::shared_ptr<PreTrainedModel> model, LoraConfig config);
  // peft.PeftModel.from_pretrained(model, adapter_dir, is_trainable): reads adapter_config.json
  // and adapter_model.safetensors (a folder) onto `model`. Not trainable: every parameter is
  // frozen and inference_mode is set.
  static std::shared_ptr<PeftModel> from_pretrained(std::shared_ptr<PreTrainedModel> model,
                                                    const std::string& adapter_dir, bool is_trainable = false);

  ModelOutput forward(const ModelInputs& inputs) override;
  const PretrainedConfig& config() const override { return base_->config(); }
  PretrainedConfig& mutable_config() override { return base_->mutable_config(); }
  std::string class_name() const override { return base_->class_name(); }
  std::string base_model_prefix() const override { return base_->base_model_prefix(); }
  std::vector<std::pair<std::string, std::string>> tied_weights() const override;
  double initializer_range() const override { return base_->initializer_range(); }

  // adapter_config.json + adapter_model.safetensors (not the base weights), as peft.
  void save_pretrained(const std::string& dir) const override;
  // The adapter's tensors under peft's saved names (get_peft_model_state_dict).
  io::StateDict get_peft_model_state_dict() const;
  // Loads adapter tensors saved under peft's names (set_peft_model_state_dict). Every adapter
  // tensor the model has must be present (FormatError naming the first missing one); unknown
  // keys are warned about and ignored.
  void set_peft_model_state_dict(const io::StateDict& sd, const std::string& where);
  // set_peft_model_state_dict from DIR/adapter_model.safetensors (Trainer's resume).
  void load_adapter_weights(const std::string& dir);

  // Folds scaling * B @ A into each targeted layer's weight (new tensors: checkpoint weights are
  // read-only), removes the adapters and returns the base model, whose parameters get back the
  // requires_grad flags they had before get_peft_model. This PeftModel is spent afterwards.
  std::shared_ptr<PreTrainedModel> merge_and_unload();
  // The same without merging: the base model as it was (modules to save keep their training).
  std::shared_ptr<PreTrainedModel> unload();

  std::shared_ptr<PreTrainedModel> get_base_model() const { return base_; }
  const LoraConfig& peft_config() const { return config_; }
  // The dotted paths (in the base model) of the adapted layers, and of the modules to save.
  std::vector<std::string> lora_module_names() const;
  const std::vector<std::string>& modules_to_save_names() const { return save_paths_; }
  // {trainable, all} parameter counts (peft's get_nb_trainable_parameters).
  std::pair<int64_t, int64_t> get_nb_trainable_parameters() const;
  std::string trainable_parameters_summary() const;  // print_trainable_parameters' line

 private:
  struct Target {
    std::string path;
    nn::Module* module;             // the nn::Linear or Conv1D
    Tensor* weight;                 // its weight slot ([out, in], or [in, out] for Conv1D)
    std::shared_ptr<nn::LinearAdapter>* hook;  // its adapter slot
    std::shared_ptr<LoraLayer> lora;
  };
  void inject();
  std::shared_ptr<PreTrainedModel> unload_impl(bool merge);
  void check_live(const char* what) const;

  std::shared_ptr<PreTrainedModel> base_;
  LoraConfig config_;
  std::vector<Target> targets_;
  std::vector<std::string> save_paths_;
  std::vector<std::pair<Tensor, bool>> original_requires_grad_;
  bool unloaded_ = false;
};

// peft.get_peft_model.
std::shared_ptr<PeftModel> get_peft_model(std::shared_ptr<PreTrainedModel> model, LoraConfig config);

}  // namespace cppformers
