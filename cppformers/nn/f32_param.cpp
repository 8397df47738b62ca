#include "cppformers/nn/f32_param.hpp"

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cppformers/autograd/node.hpp"

namespace cppformers::nn {

namespace {
struct Entry {
  std::weak_ptr<const void> owner;  // the parameter's storage
  Shape shape, strides;             // the view that was converted (views may share a data pointer)
  Tensor f32;
};
}  // namespace

Tensor f32_param(const Tensor& p) {
  if (!p.defined() || p.dtype() == kF32 || !is_floating(p.dtype()) || !p.storage()->read_only() ||
      autograd::needs_grad({&p}))
    return p;
  static std::mutex mu;
  static std::unordered_map<const void*, std::vector<Entry>> cache;
  const std::shared_ptr<const void> owner = p.storage();
  std::lock_guard<std::mutex> lock(mu);
  std::vector<Entry>& slot = cache[p.raw_data()];
  for (const Entry& e : slot)
    if (e.owner.lock() == owner && e.shape == p.shape() && e.strides == p.strides()) return e.f32;
  // A miss: first drop the copies of parameters that are gone, so none outlives its model.
  for (auto it = cache.begin(); it != cache.end();) {
    auto& v = it->second;
    std::erase_if(v, [](const Entry& e) { return e.owner.expired(); });
    it = v.empty() && &v != &slot ? cache.erase(it) : std::next(it);
  }
  slot.push_back(Entry{owner, p.shape(), p.strides(), p.detach().to(kF32).contiguous()});
  return slot.back().f32;
}

}  // namespace cppformers::nn
