#include "cppformers/nn/rms_norm.hpp"

#include "cppformers/nn/f32_param.hpp"
#include "cppformers/ops/rms_norm.hpp"

namespace cppformers::nn {

RMSNorm::RMSNorm(int64_t dim, double eps, double weight_offset) : eps(eps), weight_offset(weight_offset) {
  register_parameter("weight", weight, weight_offset != 0 ? Tensor::zeros({dim}) : Tensor::ones({dim}));
}

Tensor RMSNorm::forward(const Tensor& x) const { return ops::rms_norm(x, f32_param(weight), eps, weight_offset); }

}  // namespace cppformers::nn
