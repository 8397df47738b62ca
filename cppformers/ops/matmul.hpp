#pragma once
#include "cppformers/core/tensor.hpp"
#include "cppformers/ops/cpu/gemm.hpp"

namespace cppformers::ops {

using Activation = cpu::Activation;

// torch.matmul semantics: 1-d operands are promoted, batch dims broadcast. Strided operands
// (transposes, head views) are read in place.
Tensor matmul(const Tensor& a, const Tensor& b);

// a @ b written into `out` (f32, the result's shape, any strides: e.g. a head-split view of a
// merged buffer). No autograd: for inference paths that know where the result must live.
void matmul_into(const Tensor& a, const Tensor& b, const Tensor& out);

// What linear() may fuse after x @ weight^T + bias: an activation, then + residual (a tensor of
// the output's shape). Fused into the GEMM when no gradient is recorded; composed of the
// separate ops (with their backward) otherwise.
struct LinearEpilogue {
  Activation activation = Activation::kNone;
  Tensor residual;
};

// x @ weight^T + bias, as torch.nn.functional.linear; weight is [out, in], bias [out] or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const LinearEpilogue& epilogue = {});
// The activation alone (the unfused path of an epilogue).
Tensor activate(const Tensor& x, Activation a);

}  // namespace cppformers::ops
