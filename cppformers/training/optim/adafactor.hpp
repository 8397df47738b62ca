#pragma once
// Adafactor (Shazeer & Stern 2018) with the semantics and defaults of transformers.Adafactor
// (transformers/optimization.py), per parameter with gradient g:
//   step += 1;  RMS = ||p||_2 / sqrt(numel(p))                    (before the update)
//   lr = param_scale * rel_step, where
//        rel_step    = relative_step ? min(warmup_init ? 1e-6 * step : 1e-2, 1 / sqrt(step)) : group lr
//        param_scale = scale_parameter ? max(eps2, RMS) : 1
//   beta2t = 1 - step^decay_rate;   u = g^2 + eps1
//   factored (p has >= 2 dims; moments over the last two):
//        row = beta2t * row + (1 - beta2t) * mean_{last dim}(u)
//        col = beta2t * col + (1 - beta2t) * mean_{second-to-last dim}(u)
//        update = rsqrt(row / mean(row)) [..., :, None] * rsqrt(col) [..., None, :] * g
//   otherwise: v = beta2t * v + (1 - beta2t) * u;  update = rsqrt(v) * g
//   update /= max(1, RMS(update) / clip_threshold);  update *= lr
//   with beta1: m = beta1 * m + (1 - beta1) * update; update = m
//   p -= weight_decay * lr * p  (if weight_decay != 0);  p -= update
// Moments are f32; means, norms and scalars are computed in double. Parameters without a .grad
// are skipped, as torch does.
//
// transformers' Trainer with optim="adafactor" uses lr = learning_rate with
// scale_parameter=False, relative_step=False (see Trainer).
#include <optional>
#include <vector>

#include "cppformers/training/optim/optimizer.hpp"

namespace cppformers::training {

struct AdafactorOptions {
  std::optional<double> lr;  // None (Python's default): requires relative_step
  double eps1 = 1e-30, eps2 = 1e-3;  // Python's eps=(1e-30, 1e-3)
  double clip_threshold = 1.0;
  double decay_rate = -0.8;
  std::optional<double> beta1;  // None: no first moment
  double weight_decay = 0.0;
  bool scale_parameter = true;
  bool relative_step = true;
  bool warmup_init = false;
};

class Adafactor : public Optimizer {
 public:
  // One group with every parameter (options.lr and options.weight_decay). Throws ValueError for
  // the combinations transformers rejects (a manual lr with relative_step, warmup_init without
  // relative_step) and for relative_step=False without an lr.
  Adafactor(std::vector<Tensor> params, const AdafactorOptions& options = {});
  // Several groups, each with its own lr and weight_decay (ignored lr with relative_step).
  Adafactor(std::vector<ParamGroup> groups, const AdafactorOptions& options);

  void step() override;

  const AdafactorOptions& options() const { return opts_; }
  int64_t step_count(size_t i) const { return i < steps_.size() ? steps_[i] : 0; }
  // The learning rate the last step of parameter i used (transformers' _get_lr), 0 before it.
  double last_lr(size_t i) const { return i < last_lr_.size() ? last_lr_[i] : 0.0; }

  io::StateDict state_tensors() const override;
  nlohmann::json state_json() const override;
  void load_state(const io::StateDict& tensors, const nlohmann::json& meta, const std::string& where) override;

 private:
  void init_state();
  AdafactorOptions opts_;
  // Flat over params(); undefined until a parameter's first step.
  std::vector<Tensor> exp_avg_, exp_avg_sq_, exp_avg_sq_row_, exp_avg_sq_col_;
  std::vector<int64_t> steps_;
  std::vector<double> rms_, last_lr_;
};

}  // namespace cppformers::training
