#pragma once
// The optimizer interface shared by SGD, AdamW and Adafactor, shaped like torch.optim.Optimizer:
// parameter groups (each with its own lr and weight decay), step(), zero_grad(), and a state
// that can be saved into a checkpoint and loaded back bit for bit.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/core/tensor.hpp"
#include "cppformers/io/safetensors.hpp"

namespace cppformers::training {

struct ParamGroup {
  std::vector<Tensor> params;
  double lr = 1e-3;
  double weight_decay = 0;
  double initial_lr = -1;  // set by the first scheduler attached (torch's "initial_lr")
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // One update of every parameter that has a .grad; parameters without one are skipped.
  virtual void step() = 0;
  // Drops every parameter's gradient (torch's zero_grad(set_to_none=True), its default).
  void zero_grad();

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // The first group's learning rate; set_lr sets every group's.
  double lr() const { return groups_.empty() ? 0.0 : groups_[0].lr; }
  void set_lr(double lr);
  // Every parameter of every group, in order.
  std::vector<Tensor> params() const;

  // The per-parameter state (moments, step counts) as tensors named "state.<index>.<what>"
  // (index over params() in order), plus the scalar state and hyperparameters as JSON.
  virtual io::StateDict state_tensors() const = 0;
  virtual nlohmann::json state_json() const;
  // Restores what state_tensors()/state_json() saved; the parameter list must match in count
  // and shapes. `where` names the checkpoint in errors.
  virtual void load_state(const io::StateDict& tensors, const nlohmann::json& meta,
                          const std::string& where) = 0;
  // optimizer.safetensors (tensors, with the JSON in its metadata) in `dir`.
  void save(const std::string& dir) const;
  void load(const std::string& dir);

 protected:
  explicit Optimizer(std::vector<ParamGroup> groups, const char* name);
  void check_group_lrs() const;
  void load_group_json(const nlohmann::json& meta, const std::string& where);
  std::vector<ParamGroup> groups_;
  std::string name_;
};

}  // namespace cppformers::training
