#pragma once
// The `cppformers train` options for LoRA and calibration, kept apart from train.cpp:
//
//   --lora r=8,alpha=16,dropout=0.1,targets=query,value   train a LoRA adapter instead of the
//        whole model (peft's LoraConfig; the task's head is trained and saved with it); the
//        output dir then holds adapter_config.json + adapter_model.safetensors, as peft saves.
//   --merge        also save the model with the adapter folded in to OUTPUT_DIR/merged
//   --calibrate    fit a temperature on the evaluation set after training (temperature
//        scaling) and store it in the saved config.json as "calibration_temperature", which
//        the text-classification pipeline applies.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cppformers/models/pretrained.hpp"
#include "cppformers/training/trainer.hpp"

namespace cppformers::cli {

struct TrainExtras {
  std::string lora;  // the --lora spec (empty: full fine-tuning)
  bool merge = false;
  bool calibrate = false;
};

void add_train_extra_options(CLI::App& app, TrainExtras& x);

// Checks the combination of options before any work: --merge needs --lora; --calibrate needs
// evaluation data and, with --lora, --merge (an adapter folder has no config.json).
void check_train_extras(const TrainExtras& x, bool has_eval);

// The model to train: `model` itself, or with --lora a PeftModel around it (task_type from the
// model's head unless the spec gives one; base_model_name_or_path = model_id).
std::shared_ptr<PreTrainedModel> apply_lora(std::shared_ptr<PreTrainedModel> model, const TrainExtras& x,
                                            const std::string& model_id);

// With --calibrate (a classifier and evaluation data): fits the temperature on the predictions
// for `eval` and sets it in the model's config; returns the metrics to report
// (calibration_temperature, eval_nll_uncalibrated, eval_nll_calibrated).
Metrics calibrate_after_training(Trainer& trainer, const Dataset& eval, const TrainExtras& x);

// With --merge: folds the adapter into the base weights and saves OUTPUT_DIR/merged (with the
// tokenizer files of tokenizer_dir). Call last: the PeftModel is spent afterwards.
void merge_after_training(Trainer& trainer, const TrainExtras& x, const std::string& tokenizer_dir,
                          const std::string& output_dir);

}  // namespace cppformers::cli
