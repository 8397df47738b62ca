#include "cppformers/nn/module.hpp"

#include "cppformers/core/huge_pages.hpp"

#include <algorithm>
#include <set>

namespace cppformers::nn {

void Module::register_parameter(const std::string& name, Tensor& slot, Tensor value) {
  slot = std::move(value);
  if (slot.defined() && is_floating(slot.dtype())) slot.requires_grad_(true);
  params_.emplace_back(name, &slot);
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor*>>* out) const {
  for (const auto& [name, slot] : params_)
    if (slot->defined()) out->emplace_back(prefix + name, slot);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(const std::string& prefix) const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect(prefix, &slots);
  std::vector<std::pair<std::string, Tensor>> out;
  out.reserve(slots.size());
  for (auto& [n, s] : slots) out.emplace_back(n, *s);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  std::set<TensorImpl*> seen;  // tied parameters count once
  for (auto& [n, t] : named_parameters())
    if (seen.insert(t.impl()).second) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

StateDict Module::state_dict() const {
  StateDict sd;
  for (auto& [n, t] : named_parameters()) sd[n] = t;
  return sd;
}

Tensor* Module::find_slot(const std::string& name) {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", &slots);
  for (auto& [n, s] : slots)
    if (n == name) return s;
  return nullptr;
}

void Module::tie(const std::string& name, const std::string& source) {
  Tensor* dst = find_slot(name);
  Tensor* src = find_slot(source);
  if (!dst || !src) throw KeyError("tie: no parameter named '" + (dst ? source : name) + "'");
  if (dst->shape() != src->shape())
    throw ValueError("tie: '" + name + "' " + shape_str(dst->shape()) + " and '" + source + "' " +
                     shape_str(src->shape()) + " differ in shape");
  *dst = *src;
}

LoadResult Module::load_state_dict(const StateDict& sd, bool strict, DType dtype) {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", &slots);
  LoadResult r;
  std::set<std::string> used;
  struct Conversion {
    Tensor* slot;
    Tensor src;
    size_t offset;
    bool requires_grad;
  };
  std::vector<Conversion> conversions;
  size_t converted_bytes = 0;
  for (auto& [name, slot] : slots) {
    auto it = sd.find(name);
    if (it == sd.end()) {
      r.missing_keys.push_back(name);
      continue;
    }
    used.insert(name);
    const Tensor& src = it->second;
    if (src.shape() != slot->shape())
      throw ValueError("load_state_dict: tensor '" + name + "' has shape " + shape_str(src.shape()) +
                       ", the model expects " + shape_str(slot->shape()));
    const bool rg = slot->requires_grad();
    Tensor v = src.detach();
    if (v.dtype() != dtype) {
      conversions.push_back({slot, v, converted_bytes, rg});
      converted_bytes += (size_t(v.numel()) * dtype_size(dtype) + 63) / 64 * 64;
    }
    if (rg && is_floating(v.dtype())) v.requires_grad_(true);
    *slot = v;
  }
  // Converted weights share one block, in 2 MiB pages like a checkpoint's own bytes
  // (io/safetensors.cpp: decoding streams them once per token), and are as immutable.
  if (!conversions.empty()) {
    const std::shared_ptr<void> block = shared_block(converted_bytes);
    char* const base = static_cast<char*>(block.get());
    for (const Conversion& c : conversions) {
      const size_t n = size_t(c.src.numel()) * dtype_size(dtype);
      void* at = base + c.offset;
      Tensor::from_storage(Storage::view(at, n, block, false), c.src.shape(), dtype).copy_(c.src);
      *c.slot = Tensor::from_storage(Storage::view(at, n, block, true), c.src.shape(), dtype);
      if (c.requires_grad && is_floating(dtype)) c.slot->requires_grad_(true);
    }
  }
  for (auto& [name, t] : sd)
    if (!used.count(name)) r.unexpected_keys.push_back(name);
  if (strict && (!r.missing_keys.empty() || !r.unexpected_keys.empty())) {
    std::string msg = "load_state_dict: ";
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (size_t i = 0; i < v.size() && i < 20; ++i) s += (i ? ", " : "") + ("'" + v[i] + "'");
      if (v.size() > 20) s += ", ... (" + std::to_string(v.size()) + " in all)";
      return s;
    };
    if (!r.missing_keys.empty()) msg += "missing keys: " + list(r.missing_keys) + ". ";
    if (!r.unexpected_keys.empty()) msg += "unexpected keys: " + list(r.unexpected_keys) + ".";
    throw KeyError(msg);
  }
  return r;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules(const std::string& prefix) {
  std::vector<std::pair<std::string, Module*>> out{{prefix, this}};
  for (auto& [name, child] : children_) {
    auto sub = child->named_modules(prefix.empty() ? name : prefix + "." + name);
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

void Module::attach_module(const std::string& name, Module* child) {
  if (!child) throw ValueError("attach_module: '" + name + "' is null");
  for (auto& [n, c] : children_)
    if (n == name) throw ValueError("attach_module: this module already has a child named '" + name + "'");
  children_.emplace_back(name, child);
}

void Module::detach_module(const std::string& name) {
  children_.erase(std::remove_if(children_.begin(), children_.end(), [&](const auto& c) { return c.first == name; }),
                  children_.end());
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::make_parameters_writable() {
  for (Tensor& t : parameters()) {
    if (!t.storage()->read_only()) continue;
    Tensor copy = t.detach().clone();
    TensorImpl* impl = t.impl();  // swap the data under every handle of this parameter
    impl->storage = copy.storage();
    impl->strides = copy.strides();
    impl->offset = 0;
  }
}

void Module::requires_grad_(bool on) {
  for (Tensor& t : parameters())
    if (is_floating(t.dtype())) t.requires_grad_(on);
}

void Module::zero_grad() {
  for (const Tensor& t : parameters()) t.set_grad(Tensor());
}

}  // namespace cppformers::nn
