#include "cppformers/training/optim/adafactor.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "cppformers/autograd/node.hpp"
#include "cppformers/core/error.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers::training {

namespace {

std::vector<ParamGroup> one_group(std::vector<Tensor> params, const AdafactorOptions& o) {
  return {ParamGroup{std::move(params), o.lr.value_or(0.0), o.weight_decay}};
}

void check_options(const AdafactorOptions& o) {
  if (o.lr && o.relative_step) throw ValueError("Adafactor: cannot combine manual `lr` and `relative_step=True` options");
  if (o.warmup_init && !o.relative_step) throw ValueError("Adafactor: `warmup_init=True` requires `relative_step=True`");
  if (!o.lr && !o.relative_step) throw ValueError("Adafactor: relative_step=False needs an lr");
  if (o.beta1 && !(*o.beta1 >= 0 && *o.beta1 < 1)) throw ValueError("Adafactor: invalid beta1 " + std::to_string(*o.beta1));
  if (!(o.clip_threshold > 0)) throw ValueError("Adafactor: invalid clip_threshold " + std::to_string(o.clip_threshold));
}

Tensor f32_contiguous(const Tensor& t) {
  Tensor c = t.dtype() == kF32 ? t : t.to(kF32);
  return c.is_contiguous() ? c : c.contiguous();
}

double rms(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(x[i]);
  return std::sqrt(s) / std::sqrt(double(n));
}

Shape row_shape(const Shape& s) { return Shape(s.begin(), s.end() - 1); }
Shape col_shape(const Shape& s) {
  Shape c(s.begin(), s.end() - 2);
  c.push_back(s.back());
  return c;
}

}  // namespace

Adafactor::Adafactor(std::vector<Tensor> params, const AdafactorOptions& options)
    : Adafactor(one_group(std::move(params), options), options) {}

Adafactor::Adafactor(std::vector<ParamGroup> groups, const AdafactorOptions& options)
    : Optimizer(std::move(groups), "Adafactor"), opts_(options) {
  check_options(opts_);
  init_state();
}

void Adafactor::init_state() {
  const size_t n = params().size();
  exp_avg_.assign(n, Tensor());
  exp_avg_sq_.assign(n, Tensor());
  exp_avg_sq_row_.assign(n, Tensor());
  exp_avg_sq_col_.assign(n, Tensor());
  steps_.assign(n, 0);
  rms_.assign(n, 0.0);
  last_lr_.assign(n, 0.0);
}

void Adafactor::step() {
  autograd::NoGradGuard no_grad;
  check_group_lrs();
  if (steps_.size() != params().size()) throw ValueError("Adafactor: parameters were added after construction");
  size_t index = 0;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& p : group.params) {
      const size_t i = index++;
      const Tensor grad_t = p.grad();
      if (!grad_t.defined()) continue;
      if (grad_t.shape() != p.shape())
        throw ValueError("Adafactor: parameter " + std::to_string(i) + " has shape " + shape_str(p.shape()) +
                         " but its gradient " + shape_str(grad_t.shape()));
      const Shape& shape = p.shape();
      const bool factored = shape.size() >= 2;
      const int64_t n = p.numel();
      if (steps_[i] == 0) {
        if (opts_.beta1) exp_avg_[i] = Tensor::zeros(shape);
        if (factored) {
          exp_avg_sq_row_[i] = Tensor::zeros(row_shape(shape));
          exp_avg_sq_col_[i] = Tensor::zeros(col_shape(shape));
        } else {
          exp_avg_sq_[i] = Tensor::zeros(shape);
        }
      }
      const bool direct = p.dtype() == kF32 && p.is_contiguous();
      Tensor work = direct ? p : f32_contiguous(p).clone();
      const Tensor g_t = f32_contiguous(grad_t);
      float* w = work.data<float>();
      const float* g = g_t.data<float>();

      const int64_t step = ++steps_[i];
      rms_[i] = rms(w, n);
      double rel_step = group.lr;
      if (opts_.relative_step) {
        const double min_step = opts_.warmup_init ? 1e-6 * double(step) : 1e-2;
        rel_step = std::min(min_step, 1.0 / std::sqrt(double(step)));
      }
      const double param_scale = opts_.scale_parameter ? std::max(opts_.eps2, rms_[i]) : 1.0;
      const double lr = param_scale * rel_step;
      last_lr_[i] = lr;
      const double beta2t = 1.0 - std::pow(double(step), opts_.decay_rate);

      std::vector<float> update(static_cast<size_t>(n));
      if (factored) {
        const int64_t C = shape.back(), R = shape[shape.size() - 2], B = n / (R * C);
        float* row = exp_avg_sq_row_[i].data<float>();  // [B, R]
        float* col = exp_avg_sq_col_[i].data<float>();  // [B, C]
        for (int64_t b = 0; b < B; ++b) {
          const float* gb = g + b * R * C;
          std::vector<double> col_sum(size_t(C), 0.0);
          for (int64_t r = 0; r < R; ++r) {
            double row_sum = 0;
            for (int64_t c = 0; c < C; ++c) {
              const double u = double(gb[r * C + c]) * double(gb[r * C + c]) + opts_.eps1;
              row_sum += u;
              col_sum[size_t(c)] += u;
            }
            float& rv = row[b * R + r];
            rv = float(beta2t * double(rv) + (1.0 - beta2t) * (row_sum / double(C)));
          }
          for (int64_t c = 0; c < C; ++c) {
            float& cv = col[b * C + c];
            cv = float(beta2t * double(cv) + (1.0 - beta2t) * (col_sum[size_t(c)] / double(R)));
          }
          double row_mean = 0;
          for (int64_t r = 0; r < R; ++r) row_mean += double(row[b * R + r]);
          row_mean /= double(R);
          for (int64_t r = 0; r < R; ++r) {
            const double r_factor = 1.0 / std::sqrt(double(row[b * R + r]) / row_mean);
            for (int64_t c = 0; c < C; ++c) {
              const double c_factor = 1.0 / std::sqrt(double(col[b * C + c]));
              update[size_t(b * R * C + r * C + c)] = float(r_factor * c_factor * double(gb[r * C + c]));
            }
          }
        }
      } else {
        float* v = exp_avg_sq_[i].data<float>();
        for (int64_t k = 0; k < n; ++k) {
          const double u = double(g[k]) * double(g[k]) + opts_.eps1;
          v[k] = float(beta2t * double(v[k]) + (1.0 - beta2t) * u);
          update[size_t(k)] = float(double(g[k]) / std::sqrt(double(v[k])));
        }
      }
      const double clip = std::max(1.0, rms(update.data(), n) / opts_.clip_threshold);
      for (float& u : update) u = float(double(u) / clip * lr);
      if (opts_.beta1) {
        float* m = exp_avg_[i].data<float>();
        const double b1 = *opts_.beta1;
        for (int64_t k = 0; k < n; ++k) {
          m[k] = float(b1 * double(m[k]) + (1.0 - b1) * double(update[size_t(k)]));
          update[size_t(k)] = m[k];
        }
      }
      const double wd = group.weight_decay;
      for (int64_t k = 0; k < n; ++k) {
        double pk = double(w[k]);
        if (wd != 0) pk += pk * (-wd * lr);
        w[k] = float(pk - double(update[size_t(k)]));
      }
      if (!direct) p.copy_(work);
    }
  }
}

io::StateDict Adafactor::state_tensors() const {
  io::StateDict sd;
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (steps_[i] == 0) continue;
    const std::string pre = "state." + std::to_string(i) + ".";
    if (exp_avg_[i].defined()) sd[pre + "exp_avg"] = exp_avg_[i];
    if (exp_avg_sq_[i].defined()) sd[pre + "exp_avg_sq"] = exp_avg_sq_[i];
    if (exp_avg_sq_row_[i].defined()) sd[pre + "exp_avg_sq_row"] = exp_avg_sq_row_[i];
    if (exp_avg_sq_col_[i].defined()) sd[pre + "exp_avg_sq_col"] = exp_avg_sq_col_[i];
  }
  return sd;
}

nlohmann::json Adafactor::state_json() const {
  nlohmann::json j = Optimizer::state_json();
  j["steps"] = steps_;
  j["RMS"] = rms_;
  j["eps"] = {opts_.eps1, opts_.eps2};
  j["clip_threshold"] = opts_.clip_threshold;
  j["decay_rate"] = opts_.decay_rate;
  j["beta1"] = opts_.beta1 ? nlohmann::json(*opts_.beta1) : nlohmann::json();
  j["scale_parameter"] = opts_.scale_parameter;
  j["relative_step"] = opts_.relative_step;
  j["warmup_init"] = opts_.warmup_init;
  return j;
}

void Adafactor::load_state(const io::StateDict& tensors, const nlohmann::json& meta, const std::string& where) {
  load_group_json(meta, where);
  const auto steps = io::json_get<std::vector<int64_t>>(meta, "steps", {}, where);
  std::vector<double> rms_values;
  if (meta.contains("RMS") && meta["RMS"].is_array())
    for (const auto& v : meta["RMS"]) {
      if (!v.is_number()) throw FormatError(where + ": key 'RMS' should be an array of numbers");
      rms_values.push_back(v.get<double>());
    }
  const std::vector<Tensor> ps = params();
  if (steps.size() != ps.size() || rms_values.size() != ps.size())
    throw FormatError(where + ": keys 'steps' and 'RMS' should have " + std::to_string(ps.size()) + " entries");
  init_state();
  for (size_t i = 0; i < ps.size(); ++i) {
    steps_[i] = steps[i];
    rms_[i] = rms_values[i];
    if (steps[i] == 0) continue;
    const std::string pre = "state." + std::to_string(i) + ".";
    auto get = [&](const char* what, const Shape& expected) -> Tensor {
      auto it = tensors.find(pre + what);
      if (it == tensors.end()) throw FormatError(where + ": tensor '" + pre + what + "' is missing");
      if (it->second.shape() != expected)
        throw FormatError(where + ": tensor '" + pre + what + "' has shape " + shape_str(it->second.shape()) +
                          ", expected " + shape_str(expected));
      return it->second.to(kF32).contiguous().clone();  // own, writable memory
    };
    const Shape& s = ps[i].shape();
    if (opts_.beta1) exp_avg_[i] = get("exp_avg", s);
    if (s.size() >= 2) {
      exp_avg_sq_row_[i] = get("exp_avg_sq_row", row_shape(s));
      exp_avg_sq_col_[i] = get("exp_avg_sq_col", col_shape(s));
    } else {
      exp_avg_sq_[i] = get("exp_avg_sq", s);
    }
  }
}

}  // namespace cppformers::training
