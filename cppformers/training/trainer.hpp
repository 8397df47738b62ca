#pragma once
// Trainer: the training loop of transformers.Trainer for cppformers models.
//
//   TrainingArguments args{.output_dir = "out", .num_train_epochs = 3, .eval_strategy = "epoch"};
//   Trainer trainer(model, args, train_ds, eval_ds, DataCollatorWithPadding(tok), classification_metrics());
//   trainer.train();
//   trainer.save_model();   // a folder Python's from_pretrained loads
//
// AdamW over two parameter groups as Python's Trainer builds them (weight decay on everything
// but biases and LayerNorm/RMSNorm weights), the lr scheduler of args.lr_scheduler_type,
// gradient accumulation and clipping, logging / evaluation / saving by "steps" or "epoch",
// callbacks (EarlyStoppingCallback), a progress bar on a terminal, and checkpoints
// OUTPUT_DIR/checkpoint-N/ (model, optimizer, scheduler, RNG and trainer state, written under a
// temporary name and renamed) that resume_from_checkpoint continues from bit for bit.
//
// Under `mpirun -np N` (training/distributed.hpp) it trains data-parallel: every process takes
// its share of each global batch of N x per_device_train_batch_size examples (DistributedSampler
// over the same seeded order), gradients (and the logged loss) are averaged in one all-reduce per
// update, parameters start from process 0's, and only process 0 evaluates (the metrics are sent
// to the others), logs and saves, the others waiting at a barrier.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/models/pretrained.hpp"
#include "cppformers/training/data/collators.hpp"
#include "cppformers/training/data/dataset.hpp"
#include "cppformers/training/metrics.hpp"
#include "cppformers/training/optim/lr_scheduler.hpp"
#include "cppformers/training/optim/optimizer.hpp"
#include "cppformers/training/training_args.hpp"

namespace cppformers {

// trainer_state.json, with Python's keys.
struct TrainerState {
  double epoch = 0;
  int64_t global_step = 0;
  int64_t max_steps = 0;
  int64_t num_train_epochs = 0;
  int64_t logging_steps = 500, eval_steps = 500, save_steps = 500;
  int64_t train_batch_size = 8;
  std::optional<double> best_metric;
  std::string best_model_checkpoint;
  nlohmann::json log_history = nlohmann::json::array();
  nlohmann::json callback_states = nlohmann::json::object();

  nlohmann::json to_json() const;
  static TrainerState from_json(const nlohmann::json& j, const std::string& file);
};

struct TrainerControl {
  bool should_training_stop = false;
  bool should_epoch_stop = false;
  bool should_save = false;
  bool should_evaluate = false;
  bool should_log = false;
};

using Metrics = std::map<std::string, double>;

class TrainerCallback {
 public:
  virtual ~TrainerCallback() = default;
  virtual void on_train_begin(const TrainingArguments&, TrainerState&, TrainerControl&) {}
  virtual void on_train_end(const TrainingArguments&, TrainerState&, TrainerControl&) {}
  virtual void on_epoch_begin(const TrainingArguments&, TrainerState&, TrainerControl&) {}
  virtual void on_epoch_end(const TrainingArguments&, TrainerState&, TrainerControl&) {}
  virtual void on_step_end(const TrainingArguments&, TrainerState&, TrainerControl&) {}
  virtual void on_evaluate(const TrainingArguments&, TrainerState&, TrainerControl&, const Metrics&) {}
  virtual void on_log(const TrainingArguments&, TrainerState&, TrainerControl&, const nlohmann::json&) {}
  virtual void on_save(const TrainingArguments&, TrainerState&, TrainerControl&) {}
};

// Stops training when metric_for_best_model has not improved (by more than threshold) for
// `patience` evaluations, as transformers.EarlyStoppingCallback.
class EarlyStoppingCallback : public TrainerCallback {
 public:
  explicit EarlyStoppingCallback(int64_t early_stopping_patience = 1, double early_stopping_threshold = 0.0);
  void on_train_begin(const TrainingArguments&, TrainerState&, TrainerControl&) override;
  void on_evaluate(const TrainingArguments&, TrainerState&, TrainerControl&, const Metrics&) override;
  int64_t patience_counter() const { return counter_; }

 private:
  int64_t patience_, counter_ = 0;
  double threshold_;
};

struct TrainOutput {
  int64_t global_step = 0;
  double training_loss = 0;  // mean over the run
  Metrics metrics;           // train_runtime, train_samples_per_second, ..., train_loss
};

struct PredictionOutput {
  Tensor predictions, label_ids;
  Metrics metrics;
};

class Trainer {
 public:
  // Empty datasets mean "none". A null collator pads with the model's pad_token_id (0 if unset)
  // and pads per-token labels with -100.
  Trainer(std::shared_ptr<PreTrainedModel> model, TrainingArguments args, Dataset train_dataset = {},
          Dataset eval_dataset = {}, DataCollator data_collator = nullptr, ComputeMetrics compute_metrics = nullptr,
          std::vector<std::shared_ptr<TrainerCallback>> callbacks = {});

  // resume_from_checkpoint: a checkpoint folder, or "last" for the newest checkpoint-N in
  // output_dir (empty: start fresh).
  TrainOutput train(const std::string& resume_from_checkpoint = "");
  Metrics evaluate(const Dataset* eval_dataset = nullptr, const std::string& metric_key_prefix = "eval");
  PredictionOutput predict(const Dataset& test_dataset, const std::string& metric_key_prefix = "test");
  // save_pretrained into dir (default output_dir), plus the tokenizer files of tokenizer_dir
  // and training_args.json.
  void save_model(const std::string& dir = "");

  void add_callback(std::shared_ptr<TrainerCallback> cb) { callbacks_.push_back(std::move(cb)); }
  // A folder whose tokenizer files (tokenizer.json, tokenizer_config.json, ...) are copied into
  // every saved model and checkpoint, so that they load as a whole (Python's processing_class).
  void set_tokenizer_dir(std::string dir) { tokenizer_dir_ = std::move(dir); }

  TrainerState& state() { return state_; }
  const TrainingArguments& args() const { return args_; }
  PreTrainedModel& model() { return *model_; }
  training::Optimizer* optimizer() { return optimizer_.get(); }
  training::LambdaLR* lr_scheduler() { return scheduler_.get(); }

  // The parameter names Python's Trainer decays (not biases, not norm weights).
  static std::vector<std::string> get_decay_parameter_names(const PreTrainedModel& model);
  // OUTPUT_DIR's checkpoint-N folders, oldest first.
  static std::vector<std::string> sorted_checkpoints(const std::string& output_dir);

 private:
  TrainOutput train_impl(const std::string& resume_from_checkpoint);
  Metrics evaluate_here(const Dataset& ds, const std::string& metric_key_prefix);
  void create_optimizer_and_scheduler(int64_t num_training_steps);
  std::vector<std::pair<std::string, Tensor>> unique_parameters() const;
  ModelInputs collate(const Dataset& ds, const std::vector<size_t>& order, size_t begin, size_t end) const;
  void maybe_log_save_evaluate(double& tr_loss_since_log, int64_t& steps_since_log, double grad_norm);
  void log(nlohmann::json logs);
  bool determine_best_metric(const Metrics& metrics);  // true when metrics are a new best
  void save_checkpoint(bool is_best);
  void rotate_checkpoints();
  void load_checkpoint(const std::string& dir);
  void load_weights(const std::string& dir);
  void copy_tokenizer_files(const std::string& dir) const;
  struct EvalLoop {
    Tensor predictions, label_ids;
    double loss = 0;
    int64_t samples = 0;
    bool has_loss = false;
  };
  EvalLoop evaluation_loop(const Dataset& ds);
  void progress(int64_t step, int64_t total, double loss, double lr, double secs) const;

  std::shared_ptr<PreTrainedModel> model_;
  TrainingArguments args_;
  Dataset train_dataset_, eval_dataset_;
  DataCollator collator_;
  ComputeMetrics compute_metrics_;
  std::vector<std::shared_ptr<TrainerCallback>> callbacks_;
  std::string tokenizer_dir_;
  std::unique_ptr<training::Optimizer> optimizer_;
  std::unique_ptr<training::LambdaLR> scheduler_;
  TrainerState state_;
  TrainerControl control_;
  bool progress_bar_ = false;
};

}  // namespace cppformers
