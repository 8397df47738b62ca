#pragma once
// The autograd tape. An op whose inputs require grad records a Node on its output: the inputs
// (edges to their own nodes, or to leaves that accumulate .grad) and a backward function from
// the output's gradient to one gradient per input. Tensor::backward() (engine.cpp) walks the
// nodes in reverse topological order. Saved tensors live in the backward closure; a saved
// output must be saved detached, so that no node owns its own output.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::autograd {

struct Node {
  std::string name;                 // the op, for error messages and debugging
  std::vector<Tensor> inputs;       // undefined entries for inputs that need no grad
  std::function<std::vector<Tensor>(const Tensor& grad_output)> backward;
};

// Whether ops record nodes now (thread-local; on by default).
bool grad_enabled();
void set_grad_enabled(bool on);

// Turns recording off for its lifetime, as torch.no_grad() does.
class NoGradGuard {
 public:
  NoGradGuard() : prev_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when recording is on and any of the inputs requires grad.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

// Records `out` as produced by op `name` from `inputs`; `backward` maps the gradient of `out`
// to one gradient per input (in order; undefined where none). A no-op unless needs_grad.
void record(const Tensor& out, const char* name, std::vector<Tensor> inputs,
            std::function<std::vector<Tensor>(const Tensor&)> backward);

}  // namespace cppformers::autograd
