#include "cppformers/training/optim/sgd.hpp"

#include <string>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/elementwise.hpp"

namespace cppformers::training {

SGD::SGD(std::vector<Tensor> params, double lr, double momentum, double weight_decay, bool nesterov,
         double dampening)
    : params_(std::move(params)), momentum_buffers_(params_.size()), lr_(lr), momentum_(momentum),
      weight_decay_(weight_decay), dampening_(dampening), nesterov_(nesterov) {
  if (lr < 0) throw ValueError("SGD: invalid learning rate " + std::to_string(lr));
  if (momentum < 0) throw ValueError("SGD: invalid momentum " + std::to_string(momentum));
  if (weight_decay < 0) throw ValueError("SGD: invalid weight_decay " + std::to_string(weight_decay));
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw ValueError("SGD: nesterov momentum requires a momentum and zero dampening");
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    if (!p.defined()) throw ValueError("SGD: parameter " + std::to_string(i) + " is undefined");
    if (!is_floating(p.dtype()))
      throw ValueError("SGD: parameter " + std::to_string(i) + " is " + dtype_name(p.dtype()) +
                       ", not a floating tensor");
  }
}

void SGD::set_lr(double lr) {
  if (lr < 0) throw ValueError("SGD: invalid learning rate " + std::to_string(lr));
  lr_ = lr;
}

void SGD::step() {
  autograd::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    if (grad.shape() != p.shape())
      throw ValueError("SGD: parameter " + std::to_string(i) + " has shape " + shape_str(p.shape()) +
                       " but its gradient " + shape_str(grad.shape()));
    Tensor g = grad.dtype() == kF32 ? grad : grad.to(kF32);
    if (weight_decay_ != 0) g = ops::add(g, ops::mul(p, Tensor::scalar(weight_decay_)));
    if (momentum_ != 0) {
      Tensor& buf = momentum_buffers_[i];
      if (!buf.defined()) {
        buf = g.clone();
      } else {
        Tensor scaled = ops::mul(buf, Tensor::scalar(momentum_));
        buf = ops::add(scaled, dampening_ != 0 ? ops::mul(g, Tensor::scalar(1 - dampening_)) : g);
      }
      g = nesterov_ ? ops::add(g, ops::mul(buf, Tensor::scalar(momentum_))) : buf;
    }
    p.copy_(ops::sub(p, ops::mul(g, Tensor::scalar(lr_))));
  }
}

void SGD::zero_grad() {
  for (const Tensor& p : params_) p.set_grad(Tensor());
}

}  // namespace cppformers::training
