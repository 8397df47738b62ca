#include "cppformers/training/trainer.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "cppformers/autograd/node.hpp"
#include "cppformers/core/error.hpp"
#include "cppformers/core/logging.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/ops/autocast.hpp"
#include "cppformers/ops/random.hpp"
#include "cppformers/ops/shape.hpp"
#include "cppformers/training/distributed.hpp"
#include "cppformers/training/lora.hpp"
#include "cppformers/training/optim/adafactor.hpp"
#include "cppformers/training/optim/adamw.hpp"
#include "cppformers/training/optim/clip_grad.hpp"
#include "cppformers/training/optim/sgd.hpp"

namespace cppformers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void write_json_file(const fs::path& path, const json& j) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp);
    f << j.dump(2) << "\n";
    if (!f) throw IOError(path.string() + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw IOError(path.string() + ": " + ec.message());
}

std::string format_seconds(double s) {
  const int64_t t = int64_t(s);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)(t / 60), (long long)(t % 60));
  return buf;
}

// The schedule interval in steps: values < 1 are a ratio of max_steps (Python's convention).
int64_t steps_of(double v, int64_t max_steps) {
  if (v < 1) return std::max<int64_t>(1, int64_t(std::ceil(double(max_steps) * v)));
  return int64_t(v);
}

std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  std::mt19937_64 rng(seed * 1000003ULL + uint64_t(epoch));
  for (size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng() % i]);
  return idx;
}

bool is_norm_module(const std::string& param_name) {
  const size_t dot = param_name.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string path = param_name.substr(0, dot);
  const size_t d2 = path.rfind('.');
  std::string module = d2 == std::string::npos ? path : path.substr(d2 + 1);
  std::transform(module.begin(), module.end(), module.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return module.find("norm") != std::string::npos || module.rfind("ln", 0) == 0;
}

// Concatenates [n, ...] tensors along dim 0, padding dim 1 to the longest with `pad`.
Tensor concat_padded(const std::vector<Tensor>& parts, double pad) {
  if (parts.empty()) return Tensor();
  if (parts[0].dim() < 2) return ops::cat(parts, 0);
  int64_t longest = 0;
  for (const Tensor& t : parts) longest = std::max(longest, t.size(1));
  std::vector<Tensor> padded;
  for (const Tensor& t : parts) {
    if (t.size(1) == longest) {
      padded.push_back(t);
      continue;
    }
    Shape s = t.shape();
    s[1] = longest;
    Tensor out = Tensor::full(s, pad, t.dtype());
    out.narrow(1, 0, t.size(1)).copy_(t);
    padded.push_back(out);
  }
  return ops::cat(padded, 0);
}

// The default collator: pads ids with pad_id, masks and type ids with 0, token labels with -100.
DataCollator default_collator(int64_t pad_id) {
  return [pad_id](const std::vector<const Example*>& batch) {
    if (batch.empty()) throw ValueError("data collator: empty batch");
    int64_t len = 0;
    bool types = true, token_labels = false, class_labels = false;
    for (const Example* e : batch) {
      if (e->input_ids.empty()) throw ValueError("data collator: an example has no input_ids (tokenize the dataset first)");
      len = std::max<int64_t>(len, int64_t(e->input_ids.size()));
      types &= e->token_type_ids.size() == e->input_ids.size();
      token_labels |= !e->labels.empty();
      class_labels |= e->label != -100;
    }
    const int64_t B = int64_t(batch.size());
    auto pad = [&](auto member, int64_t fill) {
      Tensor t = Tensor::full({B, len}, double(fill), kI64);
      int64_t* d = t.data<int64_t>();
      for (int64_t r = 0; r < B; ++r) {
        const std::vector<int64_t>& row = batch[r]->*member;
        std::copy(row.begin(), row.begin() + std::min<int64_t>(len, int64_t(row.size())), d + r * len);
      }
      return t;
    };
    ModelInputs in;
    in.input_ids = pad(&Example::input_ids, pad_id);
    in.attention_mask = pad(&Example::attention_mask, 0);
    if (types) in.token_type_ids = pad(&Example::token_type_ids, 0);
    if (token_labels) {
      in.labels = pad(&Example::labels, -100);
    } else if (class_labels) {
      std::vector<int64_t> l;
      for (const Example* e : batch) l.push_back(e->label);
      in.labels = Tensor::from_vector<int64_t>(l, {B});
    }
    return in;
  };
}

// Process 0's metrics on every process (values as raw doubles: NaN and inf travel too).
Metrics broadcast_metrics(const Metrics& m) {
  if (training::distributed::world_size() == 1) return m;
  std::string keys = json(m).dump();  // (the values are overwritten below)
  training::distributed::broadcast_string(keys);
  Metrics out;
  const json parsed = json::parse(keys);
  for (auto& [k, v] : parsed.items()) out[k] = 0;
  std::vector<double> values;
  for (auto& [k, v] : training::distributed::is_main_process() ? m : out) values.push_back(v);
  training::distributed::broadcast(values.data(), values.size() * sizeof(double));
  size_t i = 0;
  for (auto& [k, v] : out) v = values[i++];
  return out;
}

std::string rng_state_string() {
  std::ostringstream ss;
  ss << ops::default_generator().engine();
  return ss.str();
}

}  // namespace

// ---------------------------------------------------------------- TrainerState

json TrainerState::to_json() const {
  return json{{"best_metric", best_metric ? json(*best_metric) : json()},
              {"best_model_checkpoint", best_model_checkpoint.empty() ? json() : json(best_model_checkpoint)},
              {"epoch", epoch},
              {"eval_steps", eval_steps},
              {"global_step", global_step},
              {"is_hyper_param_search", false},
              {"is_local_process_zero", true},
              {"is_world_process_zero", true},
              {"log_history", log_history},
              {"logging_steps", logging_steps},
              {"max_steps", max_steps},
              {"num_input_tokens_seen", 0},
              {"num_train_epochs", num_train_epochs},
              {"save_steps", save_steps},
              {"stateful_callbacks", callback_states},
              {"total_flos", 0},
              {"train_batch_size", train_batch_size},
              {"trial_name", nullptr},
              {"trial_params", nullptr}};
}

TrainerState TrainerState::from_json(const json& j, const std::string& file) {
  if (!j.is_object()) throw FormatError(file + ": trainer state should be a JSON object");
  TrainerState s;
  s.epoch = io::json_get<double>(j, "epoch", 0, file);
  s.global_step = io::json_get<int64_t>(j, "global_step", 0, file);
  s.max_steps = io::json_get<int64_t>(j, "max_steps", 0, file);
  s.num_train_epochs = io::json_get<int64_t>(j, "num_train_epochs", 0, file);
  s.logging_steps = io::json_get<int64_t>(j, "logging_steps", 500, file);
  s.eval_steps = io::json_get<int64_t>(j, "eval_steps", 500, file);
  s.save_steps = io::json_get<int64_t>(j, "save_steps", 500, file);
  s.train_batch_size = io::json_get<int64_t>(j, "train_batch_size", 8, file);
  if (j.contains("best_metric") && !j["best_metric"].is_null()) s.best_metric = io::json_get<double>(j, "best_metric", 0, file);
  s.best_model_checkpoint = io::json_get(j, "best_model_checkpoint", "", file);
  if (j.contains("log_history")) s.log_history = j["log_history"];
  if (j.contains("stateful_callbacks") && j["stateful_callbacks"].is_object()) s.callback_states = j["stateful_callbacks"];
  return s;
}

// ---------------------------------------------------------------- callbacks

EarlyStoppingCallback::EarlyStoppingCallback(int64_t patience, double threshold)
    : patience_(patience), threshold_(threshold) {
  if (patience < 1) throw ValueError("EarlyStoppingCallback: early_stopping_patience must be >= 1");
}

void EarlyStoppingCallback::on_train_begin(const TrainingArguments& args, TrainerState& state, TrainerControl&) {
  if (!args.metric_for_best_model)
    throw ValueError("EarlyStoppingCallback requires metric_for_best_model (or load_best_model_at_end) to be set");
  if (args.eval_strategy == "no") throw ValueError("EarlyStoppingCallback requires an eval_strategy other than 'no'");
  if (state.callback_states.contains("EarlyStoppingCallback"))
    counter_ = state.callback_states["EarlyStoppingCallback"].value("early_stopping_patience_counter", int64_t(0));
}

void EarlyStoppingCallback::on_evaluate(const TrainingArguments& args, TrainerState& state, TrainerControl& control,
                                        const Metrics& metrics) {
  std::string key = *args.metric_for_best_model;
  if (key.rfind("eval_", 0) != 0) key = "eval_" + key;
  auto it = metrics.find(key);
  if (it == metrics.end()) {
    log_warning("early stopping required metric_for_best_model, but did not find " + key + " so early stopping is disabled");
    return;
  }
  const double v = it->second;
  const bool greater = args.greater_is_better.value_or(true);
  if (!state.best_metric || ((greater ? v > *state.best_metric : v < *state.best_metric) &&
                             std::fabs(v - *state.best_metric) > threshold_))
    counter_ = 0;
  else
    ++counter_;
  state.callback_states["EarlyStoppingCallback"] = {{"early_stopping_patience_counter", counter_}};
  if (counter_ >= patience_) control.should_training_stop = true;
}

// ---------------------------------------------------------------- Trainer

Trainer::Trainer(std::shared_ptr<PreTrainedModel> model, TrainingArguments args, Dataset train_dataset,
                 Dataset eval_dataset, DataCollator data_collator, ComputeMetrics compute_metrics,
                 std::vector<std::shared_ptr<TrainerCallback>> callbacks)
    : model_(std::move(model)), args_(std::move(args)), train_dataset_(std::move(train_dataset)),
      eval_dataset_(std::move(eval_dataset)), collator_(std::move(data_collator)),
      compute_metrics_(std::move(compute_metrics)), callbacks_(std::move(callbacks)) {
  if (!model_) throw ValueError("Trainer: model is null");
  args_.finalize();
  if (!collator_) collator_ = default_collator(model_->config().pad_token_id.value_or(0));
  progress_bar_ = !args_.disable_tqdm && isatty(fileno(stderr)) && training::distributed::is_main_process();
  if (args_.bf16 && !ops::native_bf16_gemm())
    log_warning("Trainer: bf16=true, but this CPU has no native bf16 dot product (AVX512-BF16); "
                "the matrix products stay float32");
  ops::manual_seed(uint64_t(args_.seed));
}

std::vector<std::pair<std::string, Tensor>> Trainer::unique_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::set<const TensorImpl*> seen;
  for (auto& [name, p] : model_->named_parameters()) {
    if (!seen.insert(p.impl()).second) continue;
    out.emplace_back(name, p);
  }
  return out;
}

std::vector<std::string> Trainer::get_decay_parameter_names(const PreTrainedModel& model) {
  std::vector<std::string> names;
  for (auto& [name, p] : model.named_parameters())
    if (name.find("bias") == std::string::npos && !is_norm_module(name)) names.push_back(name);
  return names;
}

void Trainer::create_optimizer_and_scheduler(int64_t num_training_steps) {
  const auto decay_names = get_decay_parameter_names(*model_);
  const std::set<std::string> decay(decay_names.begin(), decay_names.end());
  training::ParamGroup with{{}, args_.learning_rate, args_.weight_decay}, without{{}, args_.learning_rate, 0.0};
  for (auto& [name, p] : unique_parameters()) {
    if (!p.requires_grad()) continue;
    (decay.count(name) ? with : without).params.push_back(p);
  }
  std::vector<training::ParamGroup> groups{with, without};
  if (args_.optim == "sgd") {
    optimizer_ = std::make_unique<training::SGD>(groups);
  } else if (args_.optim == "adafactor") {  // as Python's Trainer: lr given, no relative step or scaling
    training::AdafactorOptions o;
    o.lr = args_.learning_rate;
    o.scale_parameter = false;
    o.relative_step = false;
    optimizer_ = std::make_unique<training::Adafactor>(groups, o);
  } else {
    training::AdamWOptions o;
    o.lr = args_.learning_rate;
    o.beta1 = args_.adam_beta1;
    o.beta2 = args_.adam_beta2;
    o.eps = args_.adam_epsilon;
    o.weight_decay = args_.weight_decay;
    optimizer_ = std::make_unique<training::AdamW>(groups, o);
  }
  scheduler_ = std::make_unique<training::LambdaLR>(training::get_scheduler(
      args_.lr_scheduler_type, *optimizer_, args_.get_warmup_steps(num_training_steps), num_training_steps));
}

ModelInputs Trainer::collate(const Dataset& ds, const std::vector<size_t>& order, size_t begin, size_t end) const {
  std::vector<const Example*> batch;
  for (size_t i = begin; i < end; ++i) batch.push_back(&ds[order[i]]);
  return collator_(batch);
}

void Trainer::progress(int64_t step, int64_t total, double loss, double lr, double secs) const {
  if (!progress_bar_) return;
  const double rate = secs > 0 ? double(step) / secs : 0;
  const double eta = rate > 0 ? double(total - step) / rate : 0;
  const int width = 24;
  const int filled = total > 0 ? int(double(width) * double(step) / double(total)) : 0;
  std::string bar(filled, '#');
  bar += std::string(width - filled, ' ');
  std::fprintf(stderr, "\r%3d%%|%s| %lld/%lld [%s<%s, %.2f it/s, loss=%.4g, lr=%.3g]",
               total > 0 ? int(100 * step / total) : 0, bar.c_str(), (long long)step, (long long)total,
               format_seconds(secs).c_str(), format_seconds(eta).c_str(), rate, loss, lr);
  if (step == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

void Trainer::log(json logs) {
  logs["step"] = state_.global_step;
  if (!logs.contains("epoch")) logs["epoch"] = std::round(state_.epoch * 100) / 100;
  state_.log_history.push_back(logs);
  for (auto& cb : callbacks_) cb->on_log(args_, state_, control_, logs);
  if (!training::distributed::is_main_process()) return;  // one process reports
  if (!args_.disable_tqdm) {
    if (progress_bar_) std::fprintf(stderr, "\n");
    std::fprintf(stderr, "%s\n", logs.dump().c_str());
  }
  if (args_.report_jsonl()) {
    fs::create_directories(args_.output_dir);
    std::ofstream f(fs::path(args_.output_dir) / "training_log.jsonl", std::ios::app);
    f << logs.dump() << "\n";
  }
}

void Trainer::maybe_log_save_evaluate(double& tr_loss_since_log, int64_t& steps_since_log, double grad_norm) {
  if (control_.should_log && steps_since_log > 0) {
    json logs;
    logs["loss"] = std::round(tr_loss_since_log / double(steps_since_log) * 1e4) / 1e4;
    logs["grad_norm"] = grad_norm;
    logs["learning_rate"] = scheduler_->get_last_lr()[0];
    tr_loss_since_log = 0;
    steps_since_log = 0;
    log(logs);
  }
  control_.should_log = false;
  bool new_best = false;
  if (control_.should_evaluate) new_best = determine_best_metric(evaluate());
  control_.should_evaluate = false;
  if (control_.should_save) {
    save_checkpoint(new_best);
    for (auto& cb : callbacks_) cb->on_save(args_, state_, control_);
  }
  control_.should_save = false;
}

bool Trainer::determine_best_metric(const Metrics& metrics) {
  if (!args_.metric_for_best_model) return false;
  std::string key = *args_.metric_for_best_model;
  if (key.rfind("eval_", 0) != 0) key = "eval_" + key;
  auto it = metrics.find(key);
  if (it == metrics.end()) {
    std::string names;
    for (auto& [k, v] : metrics) names += (names.empty() ? "" : ", ") + k;
    throw KeyError("Trainer: metric_for_best_model '" + *args_.metric_for_best_model +
                   "' is not among the evaluation metrics (" + names + ")");
  }
  const double v = it->second;
  const bool greater = args_.greater_is_better.value_or(true);
  if (state_.best_metric && !(greater ? v > *state_.best_metric : v < *state_.best_metric)) return false;
  state_.best_metric = v;
  return true;
}

void Trainer::copy_tokenizer_files(const std::string& dir) const {
  if (tokenizer_dir_.empty()) return;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json",
                        "merges.txt", "tokenizer.model", "added_tokens.json"}) {
    const fs::path src = fs::path(tokenizer_dir_) / f;
    if (fs::exists(src)) fs::copy_file(src, fs::path(dir) / f, fs::copy_options::overwrite_existing);
  }
}

void Trainer::save_checkpoint(bool is_best) {
  const std::string name = "checkpoint-" + std::to_string(state_.global_step);
  const fs::path out = fs::path(args_.output_dir) / name;
  const fs::path tmp = fs::path(args_.output_dir) / ("tmp-" + name);
  if (is_best) state_.best_model_checkpoint = out.string();
  // Data-parallel processes hold the same model and optimizer state: process 0 writes it.
  if (training::distributed::is_main_process()) training::distributed::abort_all_on_error([&] {
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    model_->save_pretrained(tmp.string());
    copy_tokenizer_files(tmp.string());
    optimizer_->save(tmp.string());
    write_json_file(tmp / "scheduler.json", scheduler_->state_dict());
    write_json_file(tmp / "rng_state.json", json{{"generator", "mt19937_64"}, {"state", rng_state_string()}});
    write_json_file(tmp / "training_args.json", args_.to_json());
    write_json_file(tmp / "trainer_state.json", state_.to_json());
    // Only a complete folder gets the final name: a crash leaves at most a tmp-checkpoint-N.
    fs::remove_all(out);
    fs::rename(tmp, out);
    rotate_checkpoints();
  });
  training::distributed::barrier();
}

std::vector<std::string> Trainer::sorted_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  if (!fs::is_directory(output_dir)) return {};
  static const std::regex re("checkpoint-([0-9]+)");
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    std::smatch m;
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && std::regex_match(n, m, re)) found.push_back({std::stoll(m[1]), entry.path().string()});
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [step, path] : found) out.push_back(path);
  return out;
}

void Trainer::rotate_checkpoints() {
  if (!args_.save_total_limit || *args_.save_total_limit <= 0) return;
  auto ckpts = sorted_checkpoints(args_.output_dir);
  int64_t limit = *args_.save_total_limit;
  // As Python's _sorted_checkpoints: the best checkpoint moves to the second-to-last place so
  // that it is deleted last; with a limit of 1 and a best that is not the newest, two stay.
  if (!state_.best_model_checkpoint.empty()) {
    const auto best_name = fs::path(state_.best_model_checkpoint).filename();
    auto it = std::find_if(ckpts.begin(), ckpts.end(), [&](const std::string& c) { return fs::path(c).filename() == best_name; });
    if (it != ckpts.end()) {
      for (size_t i = size_t(it - ckpts.begin()); i + 2 < ckpts.size(); ++i) std::swap(ckpts[i], ckpts[i + 1]);
      if (limit == 1 && fs::path(ckpts.back()).filename() != best_name) limit = 2;
    }
  }
  const int64_t excess = int64_t(ckpts.size()) - limit;
  for (int64_t i = 0; i < excess; ++i) fs::remove_all(ckpts[i]);
}

void Trainer::load_weights(const std::string& dir) {
  if (auto* peft = dynamic_cast<PeftModel*>(model_.get())) {  // a LoRA checkpoint holds the adapter alone
    peft->load_adapter_weights(dir);
    return;
  }
  const io::StateDict sd = io::load_checkpoint(dir);
  autograd::NoGradGuard no_grad;
  std::set<std::string> tied;
  for (auto& [name, source] : model_->tied_weights()) tied.insert(name);
  for (auto& [name, p] : unique_parameters()) {
    auto it = sd.find(name);
    if (it == sd.end()) {
      if (tied.count(name)) continue;
      throw FormatError(dir + ": checkpoint has no tensor '" + name + "'");
    }
    if (it->second.shape() != p.shape())
      throw FormatError(dir + ": tensor '" + name + "' has shape " + shape_str(it->second.shape()) + ", the model " +
                        shape_str(p.shape()));
    p.copy_(it->second);
  }
}

void Trainer::load_checkpoint(const std::string& dir) {
  if (!fs::is_directory(dir)) throw IOError(dir + ": no such checkpoint folder");
  load_weights(dir);
  optimizer_->load(dir);
  const std::string sched = (fs::path(dir) / "scheduler.json").string();
  scheduler_->load_state_dict(io::read_json_file(sched), sched);
  const std::string rng = (fs::path(dir) / "rng_state.json").string();
  {
    const json j = io::read_json_file(rng);
    std::istringstream ss(io::json_get(j, "state", "", rng));
    ss >> ops::default_generator().engine();
    if (!ss) throw FormatError(rng + ": key 'state' is not a generator state");
  }
  const std::string st = (fs::path(dir) / "trainer_state.json").string();
  state_ = TrainerState::from_json(io::read_json_file(st), st);
}

TrainOutput Trainer::train(const std::string& resume_from_checkpoint) {
  return training::distributed::abort_all_on_error([&] { return train_impl(resume_from_checkpoint); });
}

TrainOutput Trainer::train_impl(const std::string& resume_from_checkpoint) {
  if (train_dataset_.empty()) throw ValueError("Trainer.train: no train_dataset");
  const auto t0 = std::chrono::steady_clock::now();
  model_->make_parameters_writable();
  {
    bool any = false;
    for (const Tensor& p : model_->parameters()) any |= p.requires_grad();
    if (!any && dynamic_cast<PeftModel*>(model_.get()))
      throw ValueError("Trainer.train: the PeftModel has no trainable parameter (load the adapter with is_trainable)");
    if (!any) model_->requires_grad_(true);  // a model loaded for inference: train all of it
  }

  const int64_t bs = args_.per_device_train_batch_size, gas = args_.gradient_accumulation_steps;
  const int64_t n_total = int64_t(train_dataset_.size());
  // Data parallel: this process's share of each epoch (padded to a multiple of the world size).
  const int world = training::distributed::world_size();
  const int64_t n = (n_total + world - 1) / world;
  const int64_t len_dataloader = args_.dataloader_drop_last ? n / bs : (n + bs - 1) / bs;
  if (len_dataloader == 0) throw ValueError("Trainer.train: the train dataset has fewer examples than one batch");
  // Updates per epoch: one per gas batches, the last window of an epoch possibly shorter.
  const int64_t nupe = (len_dataloader + gas - 1) / gas;
  int64_t max_steps, num_epochs;
  if (args_.max_steps > 0) {
    max_steps = args_.max_steps;
    num_epochs = max_steps / nupe + int64_t(max_steps % nupe > 0);
  } else {
    max_steps = int64_t(std::ceil(args_.num_train_epochs * double(nupe)));
    num_epochs = int64_t(std::ceil(args_.num_train_epochs));
  }

  create_optimizer_and_scheduler(max_steps);
  state_ = TrainerState{};
  control_ = TrainerControl{};
  int64_t epochs_trained = 0, batches_to_skip = 0;
  if (!resume_from_checkpoint.empty()) {
    std::string dir = resume_from_checkpoint;
    if (dir == "last" || dir == "true") {
      const auto ckpts = sorted_checkpoints(args_.output_dir);
      if (ckpts.empty()) throw IOError(args_.output_dir + ": no checkpoint-N folder to resume from");
      dir = ckpts.back();
    }
    load_checkpoint(dir);
    epochs_trained = state_.global_step / nupe;
    batches_to_skip = (state_.global_step % nupe) * gas;
  }
  if (world > 1) {  // every process starts from process 0's weights, as DDP does
    std::vector<Tensor> all;
    for (auto& [name, p] : unique_parameters()) all.push_back(p);
    training::distributed::broadcast_parameters(all);
  }
  state_.max_steps = max_steps;
  state_.num_train_epochs = num_epochs;
  state_.logging_steps = steps_of(args_.logging_steps, max_steps);
  state_.eval_steps = steps_of(args_.eval_steps.value_or(args_.logging_steps), max_steps);
  state_.save_steps = steps_of(args_.save_steps, max_steps);
  state_.train_batch_size = bs;

  model_->train();
  for (auto& cb : callbacks_) cb->on_train_begin(args_, state_, control_);
  const uint64_t data_seed = uint64_t(args_.data_seed.value_or(args_.seed));
  const std::vector<Tensor> params = optimizer_->params();
  double tr_loss_total = 0, tr_loss_since_log = 0, last_grad_norm = 0;
  int64_t steps_since_log = 0, steps_this_run = 0;
  const int64_t start_step = state_.global_step;
  auto secs = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  for (int64_t epoch = epochs_trained; epoch < num_epochs && state_.global_step < max_steps; ++epoch) {
    const auto order =
        training::distributed::shard_indices(epoch_order(size_t(n_total), data_seed, epoch), world, training::distributed::rank());
    for (auto& cb : callbacks_) cb->on_epoch_begin(args_, state_, control_);
    optimizer_->zero_grad();
    double window_loss = 0;
    for (int64_t step = 0; step < len_dataloader; ++step) {
      if (batches_to_skip > 0) {
        --batches_to_skip;
        continue;
      }
      const size_t begin = size_t(step * bs), end = size_t(std::min<int64_t>(n, (step + 1) * bs));
      const ModelInputs batch = collate(train_dataset_, order, begin, end);
      ModelOutput out;
      {
        ops::AutocastGuard autocast(args_.bf16);  // the products in bf16; backward follows the forward
        out = model_->forward(batch);
      }
      if (!out.loss.defined())
        throw ValueError("Trainer.train: the model returned no loss; the training data needs labels");
      const double loss_value = out.loss.item();
      if (gas > 1) (out.loss / double(gas)).backward();
      else out.loss.backward();
      window_loss += loss_value / double(gas);

      const bool last_in_epoch = step + 1 == len_dataloader;
      if ((step + 1) % gas != 0 && !last_in_epoch) continue;
      if (world > 1) {  // one all-reduce: the gradients and the window's loss, averaged
        std::vector<double> loss{window_loss};
        training::distributed::all_reduce_gradients(params, &loss);
        window_loss = loss[0];
      }
      if (args_.max_grad_norm > 0) last_grad_norm = training::clip_grad_norm_(params, args_.max_grad_norm);
      else last_grad_norm = training::grad_norm(params);
      optimizer_->step();
      scheduler_->step();
      optimizer_->zero_grad();
      ++state_.global_step;
      ++steps_this_run;
      state_.epoch = double(epoch) + double(step + 1) / double(len_dataloader);
      tr_loss_total += window_loss;
      tr_loss_since_log += window_loss;
      ++steps_since_log;
      progress(state_.global_step, max_steps, window_loss, scheduler_->get_last_lr()[0], secs());
      window_loss = 0;

      // DefaultFlowCallback
      const int64_t gs = state_.global_step;
      if (gs == 1 && args_.logging_first_step) control_.should_log = true;
      if (args_.logging_strategy == "steps" && gs % state_.logging_steps == 0) control_.should_log = true;
      if (args_.eval_strategy == "steps" && gs % state_.eval_steps == 0) control_.should_evaluate = true;
      if (args_.save_strategy == "steps" && gs % state_.save_steps == 0) control_.should_save = true;
      if (gs >= max_steps) {
        control_.should_training_stop = true;
        if (args_.save_strategy != "no") control_.should_save = true;
      }
      for (auto& cb : callbacks_) cb->on_step_end(args_, state_, control_);
      maybe_log_save_evaluate(tr_loss_since_log, steps_since_log, last_grad_norm);
      if (control_.should_epoch_stop || control_.should_training_stop) break;
    }
    control_.should_epoch_stop = false;
    if (args_.logging_strategy == "epoch") control_.should_log = true;
    if (args_.eval_strategy == "epoch") control_.should_evaluate = true;
    if (args_.save_strategy == "epoch") control_.should_save = true;
    for (auto& cb : callbacks_) cb->on_epoch_end(args_, state_, control_);
    maybe_log_save_evaluate(tr_loss_since_log, steps_since_log, last_grad_norm);
    if (control_.should_training_stop) break;
  }

  if (args_.load_best_model_at_end && !state_.best_model_checkpoint.empty() &&
      fs::is_directory(state_.best_model_checkpoint))
    load_weights(state_.best_model_checkpoint);

  TrainOutput result;
  result.global_step = state_.global_step;
  result.training_loss = steps_this_run > 0 ? tr_loss_total / double(steps_this_run) : 0.0;
  const double runtime = secs();
  result.metrics = {{"train_runtime", runtime},
                    {"train_samples_per_second", double((state_.global_step - start_step) * bs * gas * world) / runtime},
                    {"train_steps_per_second", double(state_.global_step - start_step) / runtime},
                    {"train_loss", result.training_loss},
                    {"epoch", state_.epoch}};
  json summary(result.metrics);
  log(summary);
  for (auto& cb : callbacks_) cb->on_train_end(args_, state_, control_);
  return result;
}

Trainer::EvalLoop Trainer::evaluation_loop(const Dataset& ds) {
  EvalLoop r;
  if (ds.empty()) throw ValueError("Trainer: empty evaluation dataset");
  const bool was_training = model_->is_training();
  model_->eval();
  autograd::NoGradGuard no_grad;
  std::vector<size_t> order(ds.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t bs = size_t(args_.per_device_eval_batch_size);
  std::vector<Tensor> logits, labels;
  for (size_t b = 0; b < ds.size(); b += bs) {
    const size_t e = std::min(ds.size(), b + bs);
    const ModelInputs batch = collate(ds, order, b, e);
    ops::AutocastGuard autocast(args_.bf16);  // as Python's Trainer evaluates under its autocast
    ModelOutput out = model_->forward(batch);
    if (out.loss.defined()) {
      r.loss += out.loss.item() * double(e - b);
      r.has_loss = true;
    }
    if (out.logits.defined()) logits.push_back(out.logits.to(kF32).contiguous());
    if (batch.labels.defined()) labels.push_back(batch.labels);
    r.samples += int64_t(e - b);
  }
  if (was_training) model_->train();
  r.loss /= double(std::max<int64_t>(1, r.samples));
  r.predictions = concat_padded(logits, -100.0);
  if (labels.size() == logits.size() || logits.empty()) r.label_ids = concat_padded(labels, -100.0);
  return r;
}

Metrics Trainer::evaluate(const Dataset* eval_dataset, const std::string& prefix) {
  const Dataset& ds = eval_dataset ? *eval_dataset : eval_dataset_;
  // Data parallel: process 0 evaluates, every process gets its metrics (the same decisions follow).
  Metrics m;
  if (training::distributed::is_main_process())
    m = training::distributed::abort_all_on_error([&] { return evaluate_here(ds, prefix); });
  m = broadcast_metrics(m);
  json logs(m);
  log(logs);
  for (auto& cb : callbacks_) cb->on_evaluate(args_, state_, control_, m);
  return m;
}

Metrics Trainer::evaluate_here(const Dataset& ds, const std::string& prefix) {
  const auto t0 = std::chrono::steady_clock::now();
  const EvalLoop r = evaluation_loop(ds);
  Metrics m;
  if (compute_metrics_ && r.predictions.defined() && r.label_ids.defined())
    for (auto& [k, v] : compute_metrics_(EvalPrediction{r.predictions, r.label_ids})) m[prefix + "_" + k] = v;
  if (r.has_loss) m[prefix + "_loss"] = r.loss;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m[prefix + "_runtime"] = secs;
  m[prefix + "_samples_per_second"] = double(r.samples) / secs;
  return m;
}

PredictionOutput Trainer::predict(const Dataset& test_dataset, const std::string& prefix) {
  const EvalLoop r = evaluation_loop(test_dataset);
  PredictionOutput out{r.predictions, r.label_ids, {}};
  if (compute_metrics_ && r.predictions.defined() && r.label_ids.defined())
    for (auto& [k, v] : compute_metrics_(EvalPrediction{r.predictions, r.label_ids})) out.metrics[prefix + "_" + k] = v;
  if (r.has_loss) out.metrics[prefix + "_loss"] = r.loss;
  return out;
}

void Trainer::save_model(const std::string& dir) {
  const std::string out = dir.empty() ? args_.output_dir : dir;
  if (training::distributed::is_main_process()) training::distributed::abort_all_on_error([&] {
    model_->save_pretrained(out);
    copy_tokenizer_files(out);
    write_json_file(fs::path(out) / "training_args.json", args_.to_json());
  });
  training::distributed::barrier();
}

}  // namespace cppformers
