#include "cppformers/training/optim/sgd.hpp"

#include <string>

#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/ops/elementwise.hpp"

namespace cppformers::training {

SGD::SGD(std::vector<Tensor> params, double lr, double momentum, double weight_decay, bool nesterov,
         double dampening)
    : SGD(std::vector<ParamGroup>{ParamGroup{std::move(params), lr, weight_decay}}, momentum, nesterov,
          dampening) {}

SGD::SGD(std::vector<ParamGroup> groups, double momentum, bool nesterov, double dampening)
    : Optimizer(std::move(groups), "SGD"), momentum_(momentum), dampening_(dampening), nesterov_(nesterov) {
  if (momentum < 0) throw ValueError("SGD: invalid momentum " + std::to_string(momentum));
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw ValueError("SGD: nesterov momentum requires a momentum and zero dampening");
  momentum_buffers_.resize(params().size());
}

void SGD::step() {
  autograd::NoGradGuard no_grad;
  check_group_lrs();
  size_t index = 0;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& p : group.params) {
      const size_t i = index++;
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (grad.shape() != p.shape())
        throw ValueError("SGD: parameter " + std::to_string(i) + " has shape " + shape_str(p.shape()) +
                         " but its gradient " + shape_str(grad.shape()));
      Tensor g = grad.dtype() == kF32 ? grad : grad.to(kF32);
      if (group.weight_decay != 0) g = ops::add(g, ops::mul(p, Tensor::scalar(group.weight_decay)));
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
      p.copy_(ops::sub(p, ops::mul(g, Tensor::scalar(group.lr))));
    }
  }
}

io::StateDict SGD::state_tensors() const {
  io::StateDict sd;
  for (size_t i = 0; i < momentum_buffers_.size(); ++i)
    if (momentum_buffers_[i].defined()) sd["state." + std::to_string(i) + ".momentum_buffer"] = momentum_buffers_[i];
  return sd;
}

nlohmann::json SGD::state_json() const {
  nlohmann::json j = Optimizer::state_json();
  j["momentum"] = momentum_;
  j["dampening"] = dampening_;
  j["nesterov"] = nesterov_;
  return j;
}

void SGD::load_state(const io::StateDict& tensors, const nlohmann::json& meta, const std::string& where) {
  load_group_json(meta, where);
  const std::vector<Tensor> ps = params();
  momentum_buffers_.assign(ps.size(), Tensor());
  for (size_t i = 0; i < ps.size(); ++i) {
    auto it = tensors.find("state." + std::to_string(i) + ".momentum_buffer");
    if (it == tensors.end()) continue;
    if (it->second.shape() != ps[i].shape())
      throw FormatError(where + ": momentum buffer " + std::to_string(i) + " has shape " +
                        shape_str(it->second.shape()) + ", parameter " + shape_str(ps[i].shape()));
    momentum_buffers_[i] = it->second.to(kF32).contiguous().clone();
  }
}

}  // namespace cppformers::training
