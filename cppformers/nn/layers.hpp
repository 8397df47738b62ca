#pragma once
// The basic layers, with torch.nn's parameter names. Parameters are allocated uninitialised;
// PreTrainedModel initialises them (HF's _init_weights) or loads them.
#include <memory>
#include <string>
#include <vector>

#include "cppformers/nn/module.hpp"
#include "cppformers/ops/matmul.hpp"

namespace cppformers::nn {

// Something added to a linear layer's output (a LoRA adapter, training/lora.hpp): forward(x, y)
// returns y + delta(x), where y is the layer's own x @ W^T + b.
class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  virtual Tensor forward(const Tensor& x, const Tensor& y) const = 0;
};

// x @ weight^T + bias (weight [out, in]), then the adapter's addition if there is one, then the
// epilogue (activation, residual): fused into the GEMM when there is no adapter.
Tensor adapted_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const ops::LinearEpilogue& epilogue,
                      const LinearAdapter* adapter);

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) const;
  // With an activation and/or residual fused after the product (see ops::linear).
  Tensor forward(const Tensor& x, const ops::LinearEpilogue& epilogue) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  Tensor weight, bias;  // [out, in], [out]
  std::shared_ptr<LinearAdapter> adapter;  // set by LoRA; null for a plain layer
};

// Several Linear layers applied to the same input (e.g. attention's q, k, v). When no gradient
// is recorded and every weight is read-only (checkpoint weights, which never change), they run as
// one GEMM over a cached concatenation of their weights; otherwise one by one. One output each.
class FusedLinears {
 public:
  explicit FusedLinears(std::vector<std::shared_ptr<Linear>> layers) : layers_(std::move(layers)) {}
  std::vector<Tensor> operator()(const Tensor& x);

 private:
  bool fusable(const Tensor& x) const;
  std::vector<std::shared_ptr<Linear>> layers_;
  std::vector<std::shared_ptr<Storage>> sources_;  // the storages the cache was built from
  std::vector<int64_t> offsets_;
  Tensor weight_, bias_;
};

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, int64_t padding_idx = -1);
  Tensor forward(const Tensor& ids) const;
  Tensor operator()(const Tensor& ids) const { return forward(ids); }
  Tensor weight;  // [num, dim]
  int64_t padding_idx;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  Tensor weight, bias;
  double eps;
};

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5) : p(p) {}
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  bool active() const { return is_training() && p > 0; }  // false: the identity
  double p;
};

// HF's ACT2FN by name ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish",
// "tanh", "quick_gelu", ...); an unknown name is a NotSupportedError naming it.
Tensor activation(const std::string& name, const Tensor& x);
bool is_known_activation(const std::string& name);
// The activation as a GEMM epilogue, if it is one of those (kNone if it is not).
ops::Activation fusable_activation(const std::string& name);

}  // namespace cppformers::nn
