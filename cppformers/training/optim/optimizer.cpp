#include "cppformers/training/optim/optimizer.hpp"

#include <filesystem>

#include "cppformers/core/error.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers::training {

Optimizer::Optimizer(std::vector<ParamGroup> groups, const char* name)
    : groups_(std::move(groups)), name_(name) {
  size_t index = 0;
  for (const ParamGroup& g : groups_) {
    if (g.lr < 0) throw ValueError(name_ + ": invalid learning rate " + std::to_string(g.lr));
    if (g.weight_decay < 0)
      throw ValueError(name_ + ": invalid weight_decay " + std::to_string(g.weight_decay));
    for (const Tensor& p : g.params) {
      if (!p.defined()) throw ValueError(name_ + ": parameter " + std::to_string(index) + " is undefined");
      if (!is_floating(p.dtype()))
        throw ValueError(name_ + ": parameter " + std::to_string(index) + " is " + dtype_name(p.dtype()) +
                         ", not a floating tensor");
      ++index;
    }
  }
}

void Optimizer::zero_grad() {
  for (const ParamGroup& g : groups_)
    for (const Tensor& p : g.params) p.set_grad(Tensor());
}

void Optimizer::set_lr(double lr) {
  if (lr < 0) throw ValueError(name_ + ": invalid learning rate " + std::to_string(lr));
  for (ParamGroup& g : groups_) g.lr = lr;
}

void Optimizer::check_group_lrs() const {
  for (const ParamGroup& g : groups_)
    if (g.lr < 0) throw ValueError(name_ + ": invalid learning rate " + std::to_string(g.lr));
}

std::vector<Tensor> Optimizer::params() const {
  std::vector<Tensor> out;
  for (const ParamGroup& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

nlohmann::json Optimizer::state_json() const {
  nlohmann::json j;
  j["optimizer"] = name_;
  j["param_groups"] = nlohmann::json::array();
  for (const ParamGroup& g : groups_)
    j["param_groups"].push_back({{"lr", g.lr}, {"weight_decay", g.weight_decay},
                                 {"initial_lr", g.initial_lr}, {"num_params", g.params.size()}});
  return j;
}

void Optimizer::load_group_json(const nlohmann::json& meta, const std::string& where) {
  if (!meta.is_object() || io::json_get(meta, "optimizer", "", where) != name_)
    throw FormatError(where + ": not a " + name_ + " state (key 'optimizer' says '" +
                      (meta.is_object() && meta.contains("optimizer") ? meta["optimizer"].dump() : "") + "')");
  if (!meta.contains("param_groups") || !meta["param_groups"].is_array() ||
      meta["param_groups"].size() != groups_.size())
    throw FormatError(where + ": key 'param_groups' should be an array of " + std::to_string(groups_.size()) +
                      " groups");
  for (size_t i = 0; i < groups_.size(); ++i) {
    const auto& gj = meta["param_groups"][i];
    const int64_t n = io::json_get<int64_t>(gj, "num_params", -1, where);
    if (n != int64_t(groups_[i].params.size()))
      throw FormatError(where + ": param group " + std::to_string(i) + " has " + std::to_string(n) +
                        " parameters, this optimizer " + std::to_string(groups_[i].params.size()));
    groups_[i].lr = io::json_get<double>(gj, "lr", groups_[i].lr, where);
    groups_[i].weight_decay = io::json_get<double>(gj, "weight_decay", groups_[i].weight_decay, where);
    groups_[i].initial_lr = io::json_get<double>(gj, "initial_lr", groups_[i].initial_lr, where);
  }
}

void Optimizer::save(const std::string& dir) const {
  io::save_file(state_tensors(), (std::filesystem::path(dir) / "optimizer.safetensors").string(),
                {{"optimizer_state", state_json().dump()}});
}

void Optimizer::load(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "optimizer.safetensors").string();
  auto file = io::SafetensorsFile::open(path);
  auto it = file.metadata().find("optimizer_state");
  if (it == file.metadata().end()) throw FormatError(path + ": metadata has no 'optimizer_state'");
  io::StateDict tensors;
  for (const auto& n : file.names()) tensors[n] = file.get(n);
  load_state(tensors, io::parse_json(it->second, path), path);
}

}  // namespace cppformers::training
