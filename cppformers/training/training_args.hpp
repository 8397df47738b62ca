#pragma once
// TrainingArguments: transformers' names and defaults (the subset cppformers acts on), loadable
// from a JSON file as HfArgumentParser.parse_json_file reads one. Unknown keys that Python
// knows are accepted with a warning (they do nothing here); unknown keys Python does not know
// are an error naming the key.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cppformers {

struct TrainingArguments {
  std::string output_dir = "trainer_output";
  bool overwrite_output_dir = false;

  double learning_rate = 5e-5;
  int64_t per_device_train_batch_size = 8;
  int64_t per_device_eval_batch_size = 8;
  double num_train_epochs = 3.0;
  int64_t max_steps = -1;  // > 0 overrides num_train_epochs
  int64_t gradient_accumulation_steps = 1;

  double weight_decay = 0.0;
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
  double max_grad_norm = 1.0;  // 0 turns clipping off
  std::string optim = "adamw_torch";  // adamw_torch (adamw_hf, adamw_torch_fused alias it), sgd, adafactor

  std::string lr_scheduler_type = "linear";
  double warmup_ratio = 0.0;
  int64_t warmup_steps = 0;  // > 0 wins over warmup_ratio

  std::string eval_strategy = "no";  // no, steps, epoch
  std::optional<double> eval_steps;  // < 1: a ratio of the total steps; unset: logging_steps
  std::string save_strategy = "steps";
  double save_steps = 500;
  std::optional<int64_t> save_total_limit;
  std::string logging_strategy = "steps";
  double logging_steps = 500;
  bool logging_first_step = false;

  bool load_best_model_at_end = false;
  std::optional<std::string> metric_for_best_model;  // default "loss" with load_best_model_at_end
  std::optional<bool> greater_is_better;               // default: false for *loss metrics

  int64_t seed = 42;
  std::optional<int64_t> data_seed;
  bool bf16 = false;
  bool dataloader_drop_last = false;
  int64_t dataloader_num_workers = 0;
  bool disable_tqdm = false;
  std::vector<std::string> report_to = {"none"};  // "none", or "jsonl" (OUTPUT_DIR/training_log.jsonl)
  bool do_train = false, do_eval = false, do_predict = false;
  std::string run_name;

  // Reads a JSON object of arguments (keys as in Python). FormatError names the file and key.
  static TrainingArguments from_json(const nlohmann::json& j, const std::string& file = "<json>");
  static TrainingArguments from_json_file(const std::string& path);
  nlohmann::json to_json() const;
  // Checks the values (as __post_init__ does) and fills the derived defaults
  // (metric_for_best_model, greater_is_better, eval_steps). Called by from_json and Trainer.
  void finalize();

  // Warmup steps for a run of num_training_steps: warmup_steps if > 0, else
  // ceil(warmup_ratio * num_training_steps) (get_warmup_steps).
  int64_t get_warmup_steps(int64_t num_training_steps) const;
  bool report_jsonl() const;

 private:
  void finalize_with_file(const std::string& file);
};

}  // namespace cppformers
