#include "cppformers/tools/cli/train_extras.hpp"

#include <cstdio>
#include <filesystem>

#include "cppformers/core/error.hpp"
#include "cppformers/training/calibration.hpp"
#include "cppformers/training/lora.hpp"

namespace cppformers::cli {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// peft's task type for a model's head, from its HF class name.
std::string task_type_of(const PreTrainedModel& m) {
  const std::string c = m.class_name();
  if (ends_with(c, "ForSequenceClassification")) return "SEQ_CLS";
  if (ends_with(c, "ForTokenClassification")) return "TOKEN_CLS";
  if (ends_with(c, "ForQuestionAnswering")) return "QUESTION_ANS";
  if (ends_with(c, "ForCausalLM") || ends_with(c, "LMHeadModel")) return "CAUSAL_LM";
  if (ends_with(c, "ForConditionalGeneration")) return "SEQ_2_SEQ_LM";
  return "";
}

}  // namespace

void add_train_extra_options(CLI::App& app, TrainExtras& x) {
  app.add_option("--lora", x.lora,
                 "train a LoRA adapter, e.g. r=8,alpha=16,dropout=0.1,targets=query,value "
                 "(keys: r, alpha, dropout, targets, modules_to_save, rslora, task_type)");
  app.add_flag("--merge", x.merge, "with --lora: also save the merged model to OUTPUT_DIR/merged");
  app.add_flag("--calibrate", x.calibrate,
               "fit a temperature on the eval set after training and store it in config.json "
               "(calibration_temperature)");
}

void check_train_extras(const TrainExtras& x, bool has_eval) {
  if (x.merge && x.lora.empty()) throw ValueError("--merge needs --lora");
  if (x.calibrate && !has_eval) throw ValueError("--calibrate needs evaluation data (--eval or --validation-split)");
  if (x.calibrate && !x.lora.empty() && !x.merge)
    throw ValueError("--calibrate with --lora needs --merge: an adapter folder has no config.json to hold the temperature");
  if (!x.lora.empty()) (void)LoraConfig::parse_spec(x.lora);  // a bad spec fails before any work
}

std::shared_ptr<PreTrainedModel> apply_lora(std::shared_ptr<PreTrainedModel> model, const TrainExtras& x,
                                            const std::string& model_id) {
  if (x.lora.empty()) return model;
  LoraConfig c = LoraConfig::parse_spec(x.lora);
  if (c.task_type.empty()) c.task_type = task_type_of(*model);
  if (!model_id.empty()) c.base_model_name_or_path = model_id;
  auto peft = get_peft_model(std::move(model), c);
  std::fprintf(stderr, "LoRA on %zu modules: %s\n", peft->lora_module_names().size(),
               peft->trainable_parameters_summary().c_str());
  return peft;
}

Metrics calibrate_after_training(Trainer& trainer, const Dataset& eval, const TrainExtras& x) {
  Metrics m;
  if (!x.calibrate) return m;
  const PretrainedConfig& cfg = trainer.model().config();
  if (cfg.problem_type == "regression" || task_type_of(trainer.model()) != "SEQ_CLS")
    throw ValueError("--calibrate: temperature scaling needs a classification model");
  const PredictionOutput p = trainer.predict(eval, "eval");
  if (!p.predictions.defined() || !p.label_ids.defined())
    throw ValueError("--calibrate: the evaluation data gave no logits or no labels");
  const bool multi = cfg.problem_type == "multi_label_classification";
  const TemperatureScaling fit = fit_temperature(p.predictions, p.label_ids, multi);
  set_calibration_temperature(trainer.model().mutable_config(), fit.temperature);
  if (fit.at_bound)
    std::fprintf(stderr, "cppformers train: the calibration temperature reached its bound (%g)\n", fit.temperature);
  m["calibration_temperature"] = fit.temperature;
  m["eval_nll_uncalibrated"] = fit.nll_before;
  m["eval_nll_calibrated"] = fit.nll_after;
  return m;
}

void merge_after_training(Trainer& trainer, const TrainExtras& x, const std::string& tokenizer_dir,
                          const std::string& output_dir) {
  if (!x.merge) return;
  auto* peft = dynamic_cast<PeftModel*>(&trainer.model());
  if (!peft) throw ValueError("--merge needs --lora");
  const fs::path out = fs::path(output_dir) / "merged";
  auto merged = peft->merge_and_unload();
  merged->save_pretrained(out.string());
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json",
                        "merges.txt", "tokenizer.model", "added_tokens.json"}) {
    const fs::path src = fs::path(tokenizer_dir) / f;
    if (!tokenizer_dir.empty() && fs::exists(src)) fs::copy_file(src, out / f, fs::copy_options::overwrite_existing);
  }
  std::fprintf(stderr, "merged model saved to %s\n", out.string().c_str());
}

}  // namespace cppformers::cli
