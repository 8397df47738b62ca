#pragma once
// Learning-rate schedules as transformers' get_scheduler builds them: a LambdaLR whose lambda
// scales each group's initial lr by a factor of the step (schedule lambdas of
// transformers/optimization.py, computed in double as Python does).
//   constant                 1
//   constant_with_warmup     s / W during warmup, then 1
//   linear                   s / W, then max(0, (T - s) / (T - W))
//   cosine                   s / W, then max(0, 0.5 * (1 + cos(pi * 2 * num_cycles * progress)))  (num_cycles 0.5)
//   cosine_with_restarts     s / W, then 0 once progress >= 1, else
//                            max(0, 0.5 * (1 + cos(pi * ((num_cycles * progress) mod 1))))        (num_cycles 1)
//   polynomial               s / W, then ((lr0 - lr_end) * (1 - (s - W) / (T - W))^power + lr_end) / lr0,
//                            lr_end / lr0 after T (lr_end 1e-7, power 1)
//   inverse_sqrt             s / W, then 1 / sqrt((s + timescale - W) / timescale) (timescale W or 10000)
// with W = num_warmup_steps, T = num_training_steps, progress = (s - W) / max(1, T - W) and every
// division by W or T - W guarded by max(1, .) as Python does.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/training/optim/optimizer.hpp"

namespace cppformers::training {

// torch.optim.lr_scheduler.LambdaLR: on construction every group's lr becomes
// initial_lr * lambda(0); each step() advances last_epoch and sets initial_lr * lambda(last_epoch).
class LambdaLR {
 public:
  LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> lr_lambda, std::string name = "lambda");

  void step();
  int64_t last_epoch() const { return last_epoch_; }
  // The lr of each group now (get_last_lr()).
  std::vector<double> get_last_lr() const { return last_lr_; }
  double lr_lambda(int64_t step) const { return lambda_(step); }
  const std::string& name() const { return name_; }

  nlohmann::json state_dict() const;
  void load_state_dict(const nlohmann::json& j, const std::string& where);

 private:
  void apply();
  Optimizer& opt_;
  std::function<double(int64_t)> lambda_;
  std::string name_;
  std::vector<double> base_lrs_, last_lr_;
  int64_t last_epoch_ = 0;
};

struct SchedulerOptions {
  double num_cycles = -1;      // cosine: 0.5, cosine_with_restarts: 1 when left at -1
  double lr_end = 1e-7;        // polynomial
  double power = 1.0;          // polynomial
  int64_t timescale = -1;      // inverse_sqrt: num_warmup_steps, or 10000 without warmup
};

// The factor of the named schedule at `step` (the lambda get_scheduler would build).
// `initial_lr` is only used by polynomial. Unknown names throw NotSupportedError listing the known.
std::function<double(int64_t)> schedule_lambda(const std::string& name, int64_t num_warmup_steps,
                                               int64_t num_training_steps, double initial_lr = 1.0,
                                               const SchedulerOptions& options = {});
// transformers.get_scheduler.
LambdaLR get_scheduler(const std::string& name, Optimizer& optimizer, int64_t num_warmup_steps,
                       int64_t num_training_steps, const SchedulerOptions& options = {});
const std::vector<std::string>& scheduler_names();

}  // namespace cppformers::training
