#pragma once
// Stochastic gradient descent, exactly as torch.optim.SGD:
//   g = grad + weight_decay * p
//   buf = g on the first step, then momentum * buf + (1 - dampening) * g      (if momentum != 0)
//   p -= lr * (nesterov ? g + momentum * buf : (momentum != 0 ? buf : g))
// Parameters are updated in place without autograd recording; parameters with no .grad are
// skipped (and their momentum buffers left untouched), as torch does.
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::training {

class SGD {
 public:
  SGD(std::vector<Tensor> params, double lr, double momentum = 0, double weight_decay = 0,
      bool nesterov = false, double dampening = 0);

  void step();
  // Drops every parameter's gradient (torch's zero_grad(set_to_none=True), its default).
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);  // for schedulers
  const std::vector<Tensor>& params() const { return params_; }

 private:
  std::vector<Tensor> params_;
  std::vector<Tensor> momentum_buffers_;  // undefined until a parameter's first step
  double lr_, momentum_, weight_decay_, dampening_;
  bool nesterov_;
};

}  // namespace cppformers::training
