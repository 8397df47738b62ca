#include "cppformers/nn/kv_cache.hpp"

#include <algorithm>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/indexing.hpp"

namespace cppformers::nn {

std::pair<Tensor, Tensor> KVCache::update(int64_t layer, const Tensor& k, const Tensor& v) {
  if (k.dim() != 4 || v.dim() != 4 || k.size(0) != v.size(0) || k.size(2) != v.size(2))
    throw ValueError("KVCache::update: keys " + shape_str(k.shape()) + " and values " + shape_str(v.shape()) +
                     " must be [batch, heads, seq, head_dim] with the same batch and seq");
  if (layer < 0) throw ValueError("KVCache::update: negative layer index");
  if (layer >= int64_t(layers_.size())) layers_.resize(size_t(layer + 1));
  autograd::NoGradGuard no_grad;
  Layer& L = layers_[size_t(layer)];
  const int64_t B = k.size(0), Hk = k.size(1), Hv = v.size(1), S = k.size(2), Dk = k.size(3), Dv = v.size(3);
  const int64_t need = L.len + S;
  if (L.k.defined() && (L.k.size(0) != B || L.k.size(1) != Hk || L.k.size(3) != Dk || L.v.size(1) != Hv ||
                        L.v.size(3) != Dv))
    throw ValueError("KVCache::update: layer " + std::to_string(layer) + " holds " + shape_str(L.k.shape()) +
                     ", got keys " + shape_str(k.shape()));
  if (!L.k.defined() || L.k.size(2) < need) {
    const int64_t cap = std::max({need, capacity_, L.k.defined() ? 2 * L.k.size(2) : int64_t(0)});
    Tensor nk = Tensor::empty({B, Hk, cap, Dk}, kF32), nv = Tensor::empty({B, Hv, cap, Dv}, kF32);
    if (L.len > 0) {
      nk.narrow(2, 0, L.len).copy_(L.k.narrow(2, 0, L.len));
      nv.narrow(2, 0, L.len).copy_(L.v.narrow(2, 0, L.len));
    }
    L.k = nk;
    L.v = nv;
  }
  L.k.narrow(2, L.len, S).copy_(k.detach());
  L.v.narrow(2, L.len, S).copy_(v.detach());
  L.len = need;
  return {L.k.narrow(2, 0, need), L.v.narrow(2, 0, need)};
}

int64_t KVCache::length(int64_t layer) const {
  if (layer < 0 || layer >= int64_t(layers_.size())) return 0;
  return layers_[size_t(layer)].len;
}

void KVCache::reorder(const Tensor& index) {
  autograd::NoGradGuard no_grad;
  for (Layer& L : layers_) {
    if (!L.k.defined()) continue;
    L.k = ops::index_select(L.k, 0, index);
    L.v = ops::index_select(L.v, 0, index);
  }
}

void KVCache::reset() {
  for (Layer& L : layers_) L.len = 0;
}

void KVCache::crop(int64_t length) {
  for (Layer& L : layers_) L.len = std::min(L.len, std::max<int64_t>(length, 0));
}

}  // namespace cppformers::nn
