#pragma once
// Module: a tree of named parameters and submodules, as torch.nn.Module. Parameter names are
// the dotted paths of the checkpoint ("encoder.layer.0.attention.self.query.weight"), so loading
// weights is a walk over named_parameters(). Modules are not copyable (parameters are registered
// by address); hold them by shared_ptr.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cppformers/core/tensor.hpp"
#include "cppformers/io/safetensors.hpp"

namespace cppformers::nn {

using io::StateDict;

struct LoadResult {
  std::vector<std::string> missing_keys;     // parameters the state dict did not have
  std::vector<std::string> unexpected_keys;  // state-dict entries no parameter wanted
};

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // Every parameter under this module, depth first in registration order, with dotted names.
  std::vector<std::pair<std::string, Tensor>> named_parameters(const std::string& prefix = "") const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;
  StateDict state_dict() const;

  // Assigns parameters from `sd` by name (shape-checked; zero-copy when `dtype` is the stored
  // dtype, else converted). Tensors named in `aliases` (name -> name it shares) take the same
  // tensor. strict: throws listing the missing and unexpected keys, as torch does.
  LoadResult load_state_dict(const StateDict& sd, bool strict = true, DType dtype = kF32);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Copies any parameter that is a read-only view (mmap'd weights) into its own memory, in
  // place, so that optimizers can update it. Handles held elsewhere stay valid.
  void make_parameters_writable();
  void requires_grad_(bool on = true);
  void zero_grad();

  // Points parameter `name` (a dotted path) at the same tensor as `source` (weight tying).
  void tie(const std::string& name, const std::string& source);

  // torch's named_modules(): this module (named `prefix`, "" at the top) and every submodule,
  // depth first in registration order, with dotted paths.
  std::vector<std::pair<std::string, Module*>> named_modules(const std::string& prefix = "");
  // Adds a child at run time (adapters such as LoRA); its parameters then appear under
  // "<name>." in named_parameters(). The caller keeps it alive until detach_module(name).
  void attach_module(const std::string& name, Module* child);
  void detach_module(const std::string& name);

 protected:
  void register_parameter(const std::string& name, Tensor& slot, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m.get());
    return m;
  }

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor*>>* out) const;
  Tensor* find_slot(const std::string& name);
  std::vector<std::pair<std::string, Tensor*>> params_;
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = false;
};

}  // namespace cppformers::nn
