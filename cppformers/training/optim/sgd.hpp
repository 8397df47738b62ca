#pragma once
// Stochastic gradient descent, exactly as torch.optim.SGD:
//   g = grad + weight_decay * p
//   buf = g on the first step, then momentum * buf + (1 - dampening) * g      (if momentum != 0)
//   p -= lr * (nesterov ? g + momentum * buf : (momentum != 0 ? buf : g))
// Parameters are updated in place without autograd recording; parameters with no .grad are
// skipped (and their momentum buffers left untouched), as torch does.
#include <vector>

#include "cppformers/training/optim/optimizer.hpp"

namespace cppformers::training {

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, double lr, double momentum = 0, double weight_decay = 0,
      bool nesterov = false, double dampening = 0);
  // Several groups, each with its own lr and weight_decay.
  SGD(std::vector<ParamGroup> groups, double momentum = 0, bool nesterov = false, double dampening = 0);

  void step() override;

  io::StateDict state_tensors() const override;
  nlohmann::json state_json() const override;
  void load_state(const io::StateDict& tensors, const nlohmann::json& meta, const std::string& where) override;

 private:
  std::vector<Tensor> momentum_buffers_;  // flat over params(); undefined until a first step
  double momentum_, dampening_;
  bool nesterov_;
};

}  // namespace cppformers::training
