#pragma once
// A per-layer key/value cache for incremental decoding, preallocated for `capacity` positions
// (it grows, by reallocation, if a sequence outgrows it). Each layer stores [batch, kv_heads,
// capacity, head_dim] buffers, allocated on the layer's first update; update() copies the new
// keys/values in place and returns views of everything stored so far, so a decode step
// allocates nothing for the cache. Positions are cache slots, as HF's cache_position: slot t
// holds the t-th token of the (left-padded) sequence.
#include <utility>
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::nn {

class KVCache {
 public:
  explicit KVCache(int64_t capacity = 0) : capacity_(capacity) {}

  // Appends k and v ([B, H, S, D]) to layer `layer`; returns (keys, values) for all positions
  // stored so far ([B, H, past + S, D] views into the buffers).
  std::pair<Tensor, Tensor> update(int64_t layer, const Tensor& k, const Tensor& v);
  // Positions stored in `layer` (0 before the first forward).
  int64_t length(int64_t layer = 0) const;
  int64_t capacity() const { return capacity_; }
  int64_t num_layers() const { return int64_t(layers_.size()); }
  // Beam search: batch row i takes what row index[i] held (index: i64 [B]).
  void reorder(const Tensor& index);
  // Drops everything stored (buffers are kept for reuse).
  void reset();
  // Keeps only the first `length` positions of every layer (e.g. to reuse a prompt's cache).
  void crop(int64_t length);

 private:
  struct Layer {
    Tensor k, v;  // [B, H, cap, D]
    int64_t len = 0;
  };
  int64_t capacity_;
  std::vector<Layer> layers_;
};

}  // namespace cppformers::nn
