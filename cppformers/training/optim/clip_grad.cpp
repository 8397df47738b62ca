#include "cppformers/training/optim/clip_grad.hpp"

#include <cmath>
#include <string>

#include "cppformers/autograd/node.hpp"
#include "cppformers/core/error.hpp"

namespace cppformers::training {

namespace {

// One tensor's norm in double, rounded to f32 as torch.norm of an f32 tensor returns it.
double tensor_norm(const Tensor& g, double p) {
  const std::vector<float> v = g.to_vector<float>();
  if (std::isinf(p)) {
    float m = 0;
    for (float x : v) m = std::max(m, std::fabs(x));
    return m;
  }
  double acc = 0;
  if (p == 2.0) {
    for (float x : v) acc += double(x) * double(x);
    return float(std::sqrt(acc));
  }
  if (p == 1.0) {
    for (float x : v) acc += std::fabs(double(x));
    return float(acc);
  }
  for (float x : v) acc += std::pow(std::fabs(double(x)), p);
  return float(std::pow(acc, 1.0 / p));
}

}  // namespace

double grad_norm(const std::vector<Tensor>& params, double norm_type) {
  if (!(norm_type > 0)) throw ValueError("clip_grad_norm_: norm_type must be positive, got " + std::to_string(norm_type));
  std::vector<double> norms;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (g.defined()) norms.push_back(tensor_norm(g, norm_type));
  }
  if (norms.empty()) return 0.0;
  Tensor stacked = Tensor::from_vector<float>(std::vector<float>(norms.begin(), norms.end()), {int64_t(norms.size())});
  return tensor_norm(stacked, norm_type);
}

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type, bool error_if_nonfinite) {
  const double total = grad_norm(params, norm_type);
  if (error_if_nonfinite && !std::isfinite(total))
    throw ValueError("clip_grad_norm_: the total norm of order " + std::to_string(norm_type) +
                     " of the gradients is non-finite, so it cannot be clipped");
  const float coef = float(max_norm / (float(total) + 1e-6f));
  if (coef < 1.0f) {
    autograd::NoGradGuard no_grad;
    for (const Tensor& p : params) {
      const Tensor g = p.grad();
      if (!g.defined()) continue;
      if (g.dtype() == kF32 && g.is_contiguous() && !g.storage()->read_only()) {
        float* d = g.data<float>();
        for (int64_t i = 0, n = g.numel(); i < n; ++i) d[i] *= coef;
      } else {
        p.set_grad(g * double(coef));
      }
    }
  }
  return total;
}

}  // namespace cppformers::training
