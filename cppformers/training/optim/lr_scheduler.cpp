#include "cppformers/training/optim/lr_scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "cppformers/core/error.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers::training {

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> lr_lambda, std::string name)
    : opt_(optimizer), lambda_(std::move(lr_lambda)), name_(std::move(name)) {
  for (ParamGroup& g : opt_.param_groups()) {
    if (g.initial_lr < 0) g.initial_lr = g.lr;
    base_lrs_.push_back(g.initial_lr);
  }
  apply();
}

void LambdaLR::apply() {
  auto& groups = opt_.param_groups();
  last_lr_.assign(groups.size(), 0.0);
  const double factor = lambda_(last_epoch_);
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i].lr = base_lrs_[i] * factor;
    last_lr_[i] = groups[i].lr;
  }
}

void LambdaLR::step() {
  ++last_epoch_;
  apply();
}

nlohmann::json LambdaLR::state_dict() const {
  return {{"name", name_}, {"last_epoch", last_epoch_}, {"base_lrs", base_lrs_}, {"_last_lr", last_lr_}};
}

void LambdaLR::load_state_dict(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw FormatError(where + ": the scheduler state should be an object");
  last_epoch_ = io::json_get<int64_t>(j, "last_epoch", 0, where);
  if (j.contains("base_lrs")) {
    if (!j["base_lrs"].is_array() || j["base_lrs"].size() != base_lrs_.size())
      throw FormatError(where + ": key 'base_lrs' should be an array of " + std::to_string(base_lrs_.size()) +
                        " numbers");
    for (size_t i = 0; i < base_lrs_.size(); ++i) {
      if (!j["base_lrs"][i].is_number()) throw FormatError(where + ": key 'base_lrs' should hold numbers");
      base_lrs_[i] = j["base_lrs"][i].get<double>();
      opt_.param_groups()[i].initial_lr = base_lrs_[i];
    }
  }
  apply();
}

const std::vector<std::string>& scheduler_names() {
  static const std::vector<std::string> names{"linear", "cosine", "cosine_with_restarts", "polynomial",
                                              "constant", "constant_with_warmup", "inverse_sqrt"};
  return names;
}

std::function<double(int64_t)> schedule_lambda(const std::string& name, int64_t W, int64_t T, double initial_lr,
                                               const SchedulerOptions& o) {
  if (W < 0) throw ValueError("scheduler: num_warmup_steps must be >= 0, got " + std::to_string(W));
  auto warm = [W](int64_t s) { return double(s) / double(std::max<int64_t>(1, W)); };
  const bool needs_total = name != "constant" && name != "constant_with_warmup" && name != "inverse_sqrt";
  if (needs_total && T < 0)
    throw ValueError("scheduler '" + name + "' requires num_training_steps, got " + std::to_string(T));
  if (name == "constant") return [](int64_t) { return 1.0; };
  if (name == "constant_with_warmup")
    return [=](int64_t s) { return s < W ? warm(s) : 1.0; };
  if (name == "linear")
    return [=](int64_t s) {
      if (s < W) return warm(s);
      return std::max(0.0, double(T - s) / double(std::max<int64_t>(1, T - W)));
    };
  if (name == "cosine") {
    const double cycles = o.num_cycles < 0 ? 0.5 : o.num_cycles;
    return [=](int64_t s) {
      if (s < W) return warm(s);
      const double progress = double(s - W) / double(std::max<int64_t>(1, T - W));
      return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * cycles * 2.0 * progress)));
    };
  }
  if (name == "cosine_with_restarts") {
    const double cycles = o.num_cycles < 0 ? 1.0 : o.num_cycles;
    return [=](int64_t s) {
      if (s < W) return warm(s);
      const double progress = double(s - W) / double(std::max<int64_t>(1, T - W));
      if (progress >= 1.0) return 0.0;
      // Python's % on non-negative floats is fmod
      return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * std::fmod(cycles * progress, 1.0))));
    };
  }
  if (name == "polynomial") {
    if (!(initial_lr > o.lr_end))
      throw ValueError("scheduler 'polynomial': lr_end (" + std::to_string(o.lr_end) +
                       ") must be smaller than initial lr (" + std::to_string(initial_lr) + ")");
    return [=](int64_t s) {
      if (s < W) return warm(s);
      if (s > T) return o.lr_end / initial_lr;
      const double lr_range = initial_lr - o.lr_end;
      const double decay_steps = double(T - W);
      const double pct_remaining = 1.0 - double(s - W) / decay_steps;
      const double decay = lr_range * std::pow(pct_remaining, o.power) + o.lr_end;
      return decay / initial_lr;
    };
  }
  if (name == "inverse_sqrt") {
    const int64_t timescale = o.timescale > 0 ? o.timescale : (W > 0 ? W : 10000);
    return [=](int64_t s) {
      if (s < W) return warm(s);
      const double shift = double(timescale - W);
      return 1.0 / std::sqrt((double(s) + shift) / double(timescale));
    };
  }
  std::string known;
  for (const auto& n : scheduler_names()) known += (known.empty() ? "" : ", ") + n;
  throw NotSupportedError("lr_scheduler_type '" + name + "' is not supported (known: " + known + ")");
}

LambdaLR get_scheduler(const std::string& name, Optimizer& optimizer, int64_t num_warmup_steps,
                       int64_t num_training_steps, const SchedulerOptions& options) {
  double initial_lr = optimizer.param_groups().empty() ? 1.0 : optimizer.param_groups()[0].lr;
  if (!optimizer.param_groups().empty() && optimizer.param_groups()[0].initial_lr >= 0)
    initial_lr = optimizer.param_groups()[0].initial_lr;
  return LambdaLR(optimizer, schedule_lambda(name, num_warmup_steps, num_training_steps, initial_lr, options), name);
}

}  // namespace cppformers::training
