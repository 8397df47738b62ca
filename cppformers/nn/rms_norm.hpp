#pragma once
// RMSNorm (Zhang & Sennrich 2019), as Llama's LlamaRMSNorm; weight_offset = 1 gives Gemma's
// variant, whose checkpoints store weight - 1 (y = norm(x) * (1 + weight)).
#include "cppformers/nn/module.hpp"

namespace cppformers::nn {

class RMSNorm : public Module {
 public:
  explicit RMSNorm(int64_t dim, double eps = 1e-6, double weight_offset = 0.0);
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  Tensor weight;  // [dim]
  double eps, weight_offset;
};

}  // namespace cppformers::nn
