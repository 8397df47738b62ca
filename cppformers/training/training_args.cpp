#include "cppformers/training/training_args.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "cppformers/core/error.hpp"
#include "cppformers/core/logging.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/training/optim/lr_scheduler.hpp"

namespace cppformers {

namespace {

// TrainingArguments fields of transformers 4.45 that cppformers accepts but does not act on.
const std::set<std::string>& python_only_keys() {
  static const std::set<std::string> keys{
      "prediction_loss_only", "eval_accumulation_steps", "eval_delay", "torch_empty_cache_steps",
      "lr_scheduler_kwargs", "log_level", "log_level_replica", "log_on_each_node", "logging_dir",
      "logging_nan_inf_filter", "save_safetensors", "save_on_each_node", "save_only_model",
      "restore_callback_states_from_checkpoint", "no_cuda", "use_cpu", "use_mps_device", "jit_mode_eval",
      "use_ipex", "fp16", "fp16_opt_level", "half_precision_backend", "bf16_full_eval", "fp16_full_eval",
      "tf32", "local_rank", "ddp_backend", "tpu_num_cores", "tpu_metrics_debug", "debug", "eval_do_concat_batches",
      "past_index", "remove_unused_columns", "label_names", "ignore_data_skip", "fsdp", "fsdp_min_num_params",
      "fsdp_config", "fsdp_transformer_layer_cls_to_wrap", "accelerator_config", "deepspeed",
      "label_smoothing_factor", "optim_args", "adafactor", "group_by_length", "length_column_name",
      "ddp_find_unused_parameters", "ddp_bucket_cap_mb", "ddp_broadcast_buffers", "dataloader_pin_memory",
      "dataloader_persistent_workers", "dataloader_prefetch_factor", "skip_memory_metrics", "use_legacy_prediction_loop",
      "push_to_hub", "resume_from_checkpoint", "hub_model_id", "hub_strategy", "hub_token", "hub_private_repo",
      "hub_always_push", "gradient_checkpointing", "gradient_checkpointing_kwargs", "include_inputs_for_metrics",
      "include_for_metrics", "auto_find_batch_size", "full_determinism", "torchdynamo", "ray_scope",
      "ddp_timeout", "torch_compile", "torch_compile_backend", "torch_compile_mode", "dispatch_batches",
      "split_batches", "include_tokens_per_second", "include_num_input_tokens_seen", "neftune_noise_alpha",
      "optim_target_modules", "batch_eval_metrics", "eval_on_start", "use_liger_kernel", "eval_use_gather_object",
      "average_tokens_across_devices", "evaluation_strategy", "per_gpu_train_batch_size", "per_gpu_eval_batch_size",
      "mp_parameters", "save_steps_ratio", "hub_revision", "logging_strategy_steps"};
  return keys;
}

void check_strategy(const std::string& value, const char* key, const std::string& file) {
  if (value != "no" && value != "steps" && value != "epoch")
    throw FormatError(file + ": key '" + key + "' should be one of no, steps, epoch, got '" + value + "'");
}

}  // namespace

TrainingArguments TrainingArguments::from_json(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) throw FormatError(file + ": training arguments should be a JSON object");
  TrainingArguments a;
  using io::json_get;
  a.output_dir = json_get(j, "output_dir", a.output_dir.c_str(), file);
  a.overwrite_output_dir = json_get<bool>(j, "overwrite_output_dir", a.overwrite_output_dir, file);
  a.learning_rate = json_get<double>(j, "learning_rate", a.learning_rate, file);
  a.per_device_train_batch_size = json_get<int64_t>(j, "per_device_train_batch_size", a.per_device_train_batch_size, file);
  a.per_device_eval_batch_size = json_get<int64_t>(j, "per_device_eval_batch_size", a.per_device_eval_batch_size, file);
  a.num_train_epochs = json_get<double>(j, "num_train_epochs", a.num_train_epochs, file);
  a.max_steps = json_get<int64_t>(j, "max_steps", a.max_steps, file);
  a.gradient_accumulation_steps = json_get<int64_t>(j, "gradient_accumulation_steps", a.gradient_accumulation_steps, file);
  a.weight_decay = json_get<double>(j, "weight_decay", a.weight_decay, file);
  a.adam_beta1 = json_get<double>(j, "adam_beta1", a.adam_beta1, file);
  a.adam_beta2 = json_get<double>(j, "adam_beta2", a.adam_beta2, file);
  a.adam_epsilon = json_get<double>(j, "adam_epsilon", a.adam_epsilon, file);
  a.max_grad_norm = json_get<double>(j, "max_grad_norm", a.max_grad_norm, file);
  a.optim = json_get(j, "optim", a.optim.c_str(), file);
  if (json_get<bool>(j, "adafactor", false, file)) a.optim = "adafactor";  // Python's deprecated flag
  a.lr_scheduler_type = json_get(j, "lr_scheduler_type", a.lr_scheduler_type.c_str(), file);
  a.warmup_ratio = json_get<double>(j, "warmup_ratio", a.warmup_ratio, file);
  a.warmup_steps = json_get<int64_t>(j, "warmup_steps", a.warmup_steps, file);
  // evaluation_strategy is the older name of eval_strategy
  a.eval_strategy = json_get(j, "evaluation_strategy", a.eval_strategy.c_str(), file);
  a.eval_strategy = json_get(j, "eval_strategy", a.eval_strategy.c_str(), file);
  if (j.contains("eval_steps") && !j["eval_steps"].is_null()) a.eval_steps = json_get<double>(j, "eval_steps", 0, file);
  a.save_strategy = json_get(j, "save_strategy", a.save_strategy.c_str(), file);
  a.save_steps = json_get<double>(j, "save_steps", a.save_steps, file);
  if (j.contains("save_total_limit") && !j["save_total_limit"].is_null())
    a.save_total_limit = json_get<int64_t>(j, "save_total_limit", 0, file);
  a.logging_strategy = json_get(j, "logging_strategy", a.logging_strategy.c_str(), file);
  a.logging_steps = json_get<double>(j, "logging_steps", a.logging_steps, file);
  a.logging_first_step = json_get<bool>(j, "logging_first_step", a.logging_first_step, file);
  a.load_best_model_at_end = json_get<bool>(j, "load_best_model_at_end", a.load_best_model_at_end, file);
  if (j.contains("metric_for_best_model") && !j["metric_for_best_model"].is_null())
    a.metric_for_best_model = json_get(j, "metric_for_best_model", "", file);
  if (j.contains("greater_is_better") && !j["greater_is_better"].is_null())
    a.greater_is_better = json_get<bool>(j, "greater_is_better", false, file);
  a.seed = json_get<int64_t>(j, "seed", a.seed, file);
  if (j.contains("data_seed") && !j["data_seed"].is_null()) a.data_seed = json_get<int64_t>(j, "data_seed", 0, file);
  a.bf16 = json_get<bool>(j, "bf16", a.bf16, file);
  a.dataloader_drop_last = json_get<bool>(j, "dataloader_drop_last", a.dataloader_drop_last, file);
  a.dataloader_num_workers = json_get<int64_t>(j, "dataloader_num_workers", a.dataloader_num_workers, file);
  a.disable_tqdm = json_get<bool>(j, "disable_tqdm", a.disable_tqdm, file);
  if (j.contains("report_to") && !j["report_to"].is_null()) {
    if (j["report_to"].is_string()) a.report_to = {j["report_to"].get<std::string>()};
    else a.report_to = json_get<std::vector<std::string>>(j, "report_to", {}, file);
  }
  a.do_train = json_get<bool>(j, "do_train", a.do_train, file);
  a.do_eval = json_get<bool>(j, "do_eval", a.do_eval, file);
  a.do_predict = json_get<bool>(j, "do_predict", a.do_predict, file);
  a.run_name = json_get(j, "run_name", a.run_name.c_str(), file);

  const nlohmann::json known = a.to_json();
  for (const auto& [key, value] : j.items()) {
    if (known.contains(key) || key == "evaluation_strategy" || key == "adafactor") continue;
    if (python_only_keys().count(key)) {
      log_warning(file + ": training argument '" + key + "' is not supported by cppformers and is ignored");
      continue;
    }
    throw FormatError(file + ": unknown training argument '" + key + "'");
  }
  a.finalize_with_file(file);
  return a;
}

TrainingArguments TrainingArguments::from_json_file(const std::string& path) {
  return from_json(io::read_json_file(path), path);
}

void TrainingArguments::finalize() { finalize_with_file("TrainingArguments"); }

void TrainingArguments::finalize_with_file(const std::string& file) {
  auto bad = [&](const char* key, const std::string& what) {
    throw FormatError(file + ": key '" + key + "' " + what);
  };
  if (output_dir.empty()) bad("output_dir", "should not be empty");
  if (!(learning_rate >= 0)) bad("learning_rate", "should be >= 0");
  if (per_device_train_batch_size < 1) bad("per_device_train_batch_size", "should be >= 1");
  if (per_device_eval_batch_size < 1) bad("per_device_eval_batch_size", "should be >= 1");
  if (gradient_accumulation_steps < 1) bad("gradient_accumulation_steps", "should be >= 1");
  if (!(num_train_epochs >= 0)) bad("num_train_epochs", "should be >= 0");
  if (!(weight_decay >= 0)) bad("weight_decay", "should be >= 0");
  if (!(max_grad_norm >= 0)) bad("max_grad_norm", "should be >= 0");
  if (!(warmup_ratio >= 0 && warmup_ratio <= 1)) bad("warmup_ratio", "should be in [0, 1]");
  if (warmup_steps < 0) bad("warmup_steps", "should be >= 0");
  check_strategy(eval_strategy, "eval_strategy", file);
  check_strategy(save_strategy, "save_strategy", file);
  check_strategy(logging_strategy, "logging_strategy", file);
  if (optim != "adamw_torch" && optim != "adamw_hf" && optim != "adamw_torch_fused" && optim != "sgd" &&
      optim != "adafactor")
    bad("optim", "should be adamw_torch, adamw_hf, adamw_torch_fused, sgd or adafactor, got '" + optim + "'");
  {
    const auto& names = training::scheduler_names();
    if (std::find(names.begin(), names.end(), lr_scheduler_type) == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      bad("lr_scheduler_type", "should be one of " + known + ", got '" + lr_scheduler_type + "'");
    }
  }
  if (!(logging_steps > 0)) bad("logging_steps", "should be > 0");
  if (!(save_steps > 0)) bad("save_steps", "should be > 0");
  if (eval_strategy == "steps" && !eval_steps) eval_steps = logging_steps;
  if (eval_steps && !(*eval_steps > 0)) bad("eval_steps", "should be > 0");
  if (save_total_limit && *save_total_limit < 0) bad("save_total_limit", "should be >= 0");
  if (load_best_model_at_end) {
    if (eval_strategy == "no") bad("load_best_model_at_end", "requires an eval_strategy other than 'no'");
    if (save_strategy != eval_strategy)
      bad("load_best_model_at_end", "requires the save and eval strategy to match, got save_strategy '" +
                                        save_strategy + "' and eval_strategy '" + eval_strategy + "'");
    if (save_strategy == "steps" && eval_steps && std::fmod(save_steps, *eval_steps) != 0)
      bad("save_steps", "should be a round multiple of eval_steps with load_best_model_at_end");
    if (!metric_for_best_model) metric_for_best_model = "loss";
  }
  if (metric_for_best_model && !greater_is_better) {
    const std::string& m = *metric_for_best_model;
    greater_is_better = !(m == "loss" || m == "eval_loss" ||
                          (m.size() >= 4 && m.compare(m.size() - 4, 4, "loss") == 0));
  }
  for (const std::string& r : report_to)
    if (r != "none" && r != "jsonl" && r != "all")
      bad("report_to", "should be 'none' or 'jsonl' (a JSON-lines log in output_dir), got '" + r + "'");
  if (dataloader_num_workers < 0) bad("dataloader_num_workers", "should be >= 0");
}

int64_t TrainingArguments::get_warmup_steps(int64_t num_training_steps) const {
  return warmup_steps > 0 ? warmup_steps : int64_t(std::ceil(double(num_training_steps) * warmup_ratio));
}

bool TrainingArguments::report_jsonl() const {
  for (const auto& r : report_to)
    if (r == "jsonl" || r == "all") return true;
  return false;
}

nlohmann::json TrainingArguments::to_json() const {
  nlohmann::json j{{"output_dir", output_dir},
                   {"overwrite_output_dir", overwrite_output_dir},
                   {"learning_rate", learning_rate},
                   {"per_device_train_batch_size", per_device_train_batch_size},
                   {"per_device_eval_batch_size", per_device_eval_batch_size},
                   {"num_train_epochs", num_train_epochs},
                   {"max_steps", max_steps},
                   {"gradient_accumulation_steps", gradient_accumulation_steps},
                   {"weight_decay", weight_decay},
                   {"adam_beta1", adam_beta1},
                   {"adam_beta2", adam_beta2},
                   {"adam_epsilon", adam_epsilon},
                   {"max_grad_norm", max_grad_norm},
                   {"optim", optim},
                   {"lr_scheduler_type", lr_scheduler_type},
                   {"warmup_ratio", warmup_ratio},
                   {"warmup_steps", warmup_steps},
                   {"eval_strategy", eval_strategy},
                   {"eval_steps", eval_steps ? nlohmann::json(*eval_steps) : nlohmann::json()},
                   {"save_strategy", save_strategy},
                   {"save_steps", save_steps},
                   {"save_total_limit", save_total_limit ? nlohmann::json(*save_total_limit) : nlohmann::json()},
                   {"logging_strategy", logging_strategy},
                   {"logging_steps", logging_steps},
                   {"logging_first_step", logging_first_step},
                   {"load_best_model_at_end", load_best_model_at_end},
                   {"metric_for_best_model", metric_for_best_model ? nlohmann::json(*metric_for_best_model) : nlohmann::json()},
                   {"greater_is_better", greater_is_better ? nlohmann::json(*greater_is_better) : nlohmann::json()},
                   {"seed", seed},
                   {"data_seed", data_seed ? nlohmann::json(*data_seed) : nlohmann::json()},
                   {"bf16", bf16},
                   {"dataloader_drop_last", dataloader_drop_last},
                   {"dataloader_num_workers", dataloader_num_workers},
                   {"disable_tqdm", disable_tqdm},
                   {"report_to", report_to},
                   {"do_train", do_train},
                   {"do_eval", do_eval},
                   {"do_predict", do_predict},
                   {"run_name", run_name}};
  return j;
}

}  // namespace cppformers
