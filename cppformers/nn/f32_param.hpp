#pragma once
// Small parameters (biases, norm weights) of a model kept in bf16/f16: the ops compute in f32
// and would widen them on every call, ~100 small conversions and allocations per decoded token.
// Checkpoint parameters are read-only (loaded or converted ones alike) and never change, so
// their f32 copy is made once and kept while the parameter's storage lives.
#include "cppformers/core/tensor.hpp"

namespace cppformers::nn {

// p's values as f32: p itself when it is f32, undefined, writable (it may change in place), or
// when a gradient is to flow into it; otherwise the cached f32 copy (detached).
Tensor f32_param(const Tensor& p);

}  // namespace cppformers::nn
