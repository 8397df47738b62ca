#include "cppformers/ops/loss.hpp"

#include <cmath>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"
#include "cppformers/ops/softmax.hpp"

namespace cppformers::ops {

Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index) {
  if (logits.dim() != 2 || target.dim() != 1 || target.size(0) != logits.size(0))
    throw ValueError("cross_entropy: expected logits [N, C] and target [N], got " +
                     shape_str(logits.shape()) + " and " + shape_str(target.shape()));
  const int64_t N = logits.size(0), C = logits.size(1);
  const std::vector<int64_t> t = target.to_vector<int64_t>();
  int64_t count = 0;
  for (int64_t v : t) {
    if (v == ignore_index) continue;
    if (v < 0 || v >= C)
      throw ValueError("cross_entropy: target " + std::to_string(v) + " is out of range for " +
                       std::to_string(C) + " classes");
    ++count;
  }
  Tensor logp;
  {
    autograd::NoGradGuard no_grad;
    logp = log_softmax(logits, 1).contiguous();
  }
  const float* lp = logp.data<float>();
  double total = 0;
  for (int64_t i = 0; i < N; ++i)
    if (t[i] != ignore_index) total -= lp[i * C + t[i]];
  // torch returns nan for a mean over zero elements
  Tensor loss = Tensor::scalar(count ? total / double(count) : std::nan(""));
  if (autograd::needs_grad({&logits}))
    autograd::record(loss, "cross_entropy", {logits}, [logp, t, count, ignore_index, C](const Tensor& g) {
      const int64_t N = logp.size(0);
      Tensor grad = exp(logp).contiguous();  // softmax
      float* pg = grad.data<float>();
      const float scale = float(g.item() / double(count ? count : 1));
      for (int64_t i = 0; i < N; ++i) {
        float* row = pg + i * C;
        if (t[i] == ignore_index) {
          for (int64_t c = 0; c < C; ++c) row[c] = 0;
          continue;
        }
        row[t[i]] -= 1.0f;
        for (int64_t c = 0; c < C; ++c) row[c] *= scale;
      }
      return std::vector<Tensor>{grad};
    });
  return loss;
}

Tensor mse_loss(const Tensor& input, const Tensor& target) {
  if (input.numel() != target.numel())
    throw ValueError("mse_loss: input " + shape_str(input.shape()) + " and target " +
                     shape_str(target.shape()) + " differ in size");
  Tensor d = sub(input, target.reshape(input.shape()));
  return mean(mul(d, d));
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target) {
  // max(x, 0) - x*y + log(1 + exp(-|x|)), the stable form
  Tensor y = target.to(kF32).reshape(logits.shape());
  Tensor zero = Tensor::scalar(0.0);
  Tensor l = add(sub(maximum(logits, zero), mul(logits, y)), log(add(exp(neg(abs(logits))), Tensor::scalar(1.0))));
  return mean(l);
}

}  // namespace cppformers::ops
