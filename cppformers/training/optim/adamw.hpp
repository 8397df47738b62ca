#pragma once
// AdamW exactly as torch.optim.AdamW (torch 1.13, the single-tensor path), per parameter:
//   step += 1
//   p *= 1 - lr * weight_decay                         (decoupled weight decay)
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g * g
//   denom = sqrt(v) / sqrt(1 - beta2^step) + eps        (eps outside the sqrt)
//   p += -(lr / (1 - beta1^step)) * m / denom
// Scalars are computed in double (as Python does) and applied in f32; moments are f32.
// Parameters without a .grad are skipped (their step count does not advance), as torch does.
// Which parameters decay is a matter of param groups (see Trainer: no decay on biases and
// LayerNorm weights); a single-group constructor decays everything, as torch does.
#include <vector>

#include "cppformers/training/optim/optimizer.hpp"

namespace cppformers::training {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  // torch's default
  bool amsgrad = false;
  bool maximize = false;
};

class AdamW : public Optimizer {
 public:
  // One group holding every parameter, with options.lr and options.weight_decay.
  AdamW(std::vector<Tensor> params, const AdamWOptions& options = {});
  // Several groups, each with its own lr and weight_decay (options supply betas, eps, ...).
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options);

  void step() override;

  const AdamWOptions& options() const { return opts_; }
  // The number of steps taken by parameter i (of params()), 0 before its first.
  int64_t step_count(size_t i) const { return i < steps_.size() ? steps_[i] : 0; }

  io::StateDict state_tensors() const override;
  nlohmann::json state_json() const override;
  void load_state(const io::StateDict& tensors, const nlohmann::json& meta, const std::string& where) override;

 private:
  void init_state();
  AdamWOptions opts_;
  // Flat over params(): moments (undefined until a parameter's first step) and step counts.
  std::vector<Tensor> exp_avg_, exp_avg_sq_, max_exp_avg_sq_;
  std::vector<int64_t> steps_;
};

}  // namespace cppformers::training
