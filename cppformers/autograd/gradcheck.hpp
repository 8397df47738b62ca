#pragma once
// Finite-difference gradient checking, as torch.autograd.gradcheck (adapted to f32 ops).
//
// f maps the inputs to one floating tensor. Its output is reduced to a scalar by a fixed,
// pseudo-random weighted sum (weights in [-1, 1], the same every call), so that every output
// element contributes. The analytic gradient (autograd) of that scalar with respect to every
// input that requires grad is compared with central differences
//     (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)
// accumulated in double; each element must satisfy |analytic - numeric| <= atol + rtol*|numeric|.
// An input whose gradient autograd leaves undefined is compared as zeros (as torch does).
//
// Inputs must be leaf f32 or f64 tensors with no overlapping elements (no expanded views); they are
// perturbed in place and restored. Their .grad is reset by the check. On failure, `report`
// (if given) receives a description naming the input, the element and both values.
#include <functional>
#include <string>
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::autograd {

bool gradcheck(std::function<Tensor(const std::vector<Tensor>&)> f, std::vector<Tensor> inputs,
               double eps = 1e-3, double atol = 1e-3, double rtol = 1e-2,
               std::string* report = nullptr);

}  // namespace cppformers::autograd
