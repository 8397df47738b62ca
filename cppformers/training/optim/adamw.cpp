#include "cppformers/training/optim/adamw.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/ops/cpu/vec_grad.hpp"

namespace cppformers::training {

namespace {

void check_options(const AdamWOptions& o) {
  if (!(o.eps >= 0)) throw ValueError("AdamW: invalid epsilon " + std::to_string(o.eps));
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw ValueError("AdamW: invalid beta1 " + std::to_string(o.beta1));
  if (!(o.beta2 >= 0 && o.beta2 < 1)) throw ValueError("AdamW: invalid beta2 " + std::to_string(o.beta2));
}

// A contiguous f32 copy of t (or t itself when it already is one).
Tensor f32_contiguous(const Tensor& t) {
  Tensor c = t.dtype() == kF32 ? t : t.to(kF32);
  return c.is_contiguous() ? c : c.contiguous();
}

}  // namespace

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options)
    : AdamW(std::vector<ParamGroup>{ParamGroup{std::move(params), options.lr, options.weight_decay}}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : Optimizer(std::move(groups), "AdamW"), opts_(options) {
  check_options(opts_);
  init_state();
}

void AdamW::init_state() {
  const size_t n = params().size();
  exp_avg_.assign(n, Tensor());
  exp_avg_sq_.assign(n, Tensor());
  max_exp_avg_sq_.assign(n, Tensor());
  steps_.assign(n, 0);
}

void AdamW::step() {
  autograd::NoGradGuard no_grad;
  check_group_lrs();
  if (steps_.size() != params().size()) throw ValueError("AdamW: parameters were added after construction");
  size_t index = 0;
  for (const ParamGroup& group : groups_) {
    const double lr = group.lr, wd = group.weight_decay;
    for (const Tensor& p : group.params) {
      const size_t i = index++;
      const Tensor grad_t = p.grad();
      if (!grad_t.defined()) continue;
      if (grad_t.shape() != p.shape())
        throw ValueError("AdamW: parameter " + std::to_string(i) + " has shape " + shape_str(p.shape()) +
                         " but its gradient " + shape_str(grad_t.shape()));
      const int64_t n = p.numel();
      if (!exp_avg_[i].defined()) {
        exp_avg_[i] = Tensor::zeros(p.shape());
        exp_avg_sq_[i] = Tensor::zeros(p.shape());
        if (opts_.amsgrad) max_exp_avg_sq_[i] = Tensor::zeros(p.shape());
      }
      const int64_t step = ++steps_[i];
      // The parameter in f32: updated in place when it is a contiguous f32 tensor, else in a
      // copy written back at the end.
      const bool direct = p.dtype() == kF32 && p.is_contiguous();
      Tensor work = direct ? p : f32_contiguous(p).clone();
      const Tensor g_t = f32_contiguous(grad_t);
      float* w = work.data<float>();
      const float* g = g_t.data<float>();
      float* m = exp_avg_[i].data<float>();
      float* v = exp_avg_sq_[i].data<float>();
      float* vmax = opts_.amsgrad ? max_exp_avg_sq_[i].data<float>() : nullptr;

      const float decay = float(1.0 - lr * wd);
      const float b1 = float(opts_.beta1), one_minus_b1 = float(1.0 - opts_.beta1);
      const float b2 = float(opts_.beta2), one_minus_b2 = float(1.0 - opts_.beta2);
      const double bias_correction1 = 1.0 - std::pow(opts_.beta1, double(step));
      const double bias_correction2 = 1.0 - std::pow(opts_.beta2, double(step));
      const float neg_step_size = float(-(lr / bias_correction1));
      const float bc2_sqrt = float(std::sqrt(bias_correction2));
      const float eps = float(opts_.eps);
      const float sign = opts_.maximize ? -1.0f : 1.0f;
      if (!vmax) {
        // The same arithmetic as the loop below, vectorised (cpu::adamw_update), in chunks over
        // the threads; a zero weight decay multiplies by exactly 1.
        const cpu::AdamWStep st{wd != 0 ? decay : 1.0f, b1, one_minus_b1, b2, one_minus_b2,
                                neg_step_size, bc2_sqrt, eps, sign};
        const int64_t chunk = 16384, nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for if (n > 65536) schedule(static)
        for (int64_t c = 0; c < nchunks; ++c) {
          const int64_t o = c * chunk;
          cpu::adamw_update(w + o, g + o, m + o, v + o, std::min(chunk, n - o), st);
        }
        if (!direct) p.copy_(work);
        continue;
      }
#pragma omp parallel for if (n > 65536) schedule(static)
      for (int64_t k = 0; k < n; ++k) {
        const float gk = sign * g[k];
        float pk = w[k];
        if (wd != 0) pk = pk * decay;
        const float mk = m[k] * b1 + one_minus_b1 * gk;
        const float vk = v[k] * b2 + one_minus_b2 * gk * gk;
        m[k] = mk;
        v[k] = vk;
        float vv = vk;
        if (vmax) {
          vmax[k] = std::max(vmax[k], vk);
          vv = vmax[k];
        }
        const float denom = std::sqrt(vv) / bc2_sqrt + eps;
        w[k] = pk + neg_step_size * (mk / denom);
      }
      if (!direct) p.copy_(work);
    }
  }
}

io::StateDict AdamW::state_tensors() const {
  io::StateDict sd;
  for (size_t i = 0; i < exp_avg_.size(); ++i) {
    if (!exp_avg_[i].defined()) continue;
    const std::string pre = "state." + std::to_string(i) + ".";
    sd[pre + "exp_avg"] = exp_avg_[i];
    sd[pre + "exp_avg_sq"] = exp_avg_sq_[i];
    if (max_exp_avg_sq_[i].defined()) sd[pre + "max_exp_avg_sq"] = max_exp_avg_sq_[i];
  }
  return sd;
}

nlohmann::json AdamW::state_json() const {
  nlohmann::json j = Optimizer::state_json();
  j["steps"] = steps_;
  j["betas"] = {opts_.beta1, opts_.beta2};
  j["eps"] = opts_.eps;
  j["amsgrad"] = opts_.amsgrad;
  return j;
}

void AdamW::load_state(const io::StateDict& tensors, const nlohmann::json& meta, const std::string& where) {
  load_group_json(meta, where);
  const auto steps = io::json_get<std::vector<int64_t>>(meta, "steps", {}, where);
  const std::vector<Tensor> ps = params();
  if (steps.size() != ps.size())
    throw FormatError(where + ": key 'steps' has " + std::to_string(steps.size()) + " entries for " +
                      std::to_string(ps.size()) + " parameters");
  init_state();
  for (size_t i = 0; i < ps.size(); ++i) {
    steps_[i] = steps[i];
    const std::string pre = "state." + std::to_string(i) + ".";
    auto get = [&](const char* what, bool required) -> Tensor {
      auto it = tensors.find(pre + what);
      if (it == tensors.end()) {
        if (required) throw FormatError(where + ": tensor '" + pre + what + "' is missing");
        return Tensor();
      }
      if (it->second.shape() != ps[i].shape())
        throw FormatError(where + ": tensor '" + pre + what + "' has shape " + shape_str(it->second.shape()) +
                          ", parameter " + std::to_string(i) + " has " + shape_str(ps[i].shape()));
      return it->second.to(kF32).contiguous().clone();  // own, writable memory
    };
    const bool has = steps[i] > 0;
    exp_avg_[i] = has ? get("exp_avg", true) : Tensor();
    exp_avg_sq_[i] = has ? get("exp_avg_sq", true) : Tensor();
    if (has && opts_.amsgrad) max_exp_avg_sq_[i] = get("max_exp_avg_sq", true);
  }
}

}  // namespace cppformers::training
