#include "cppformers/nn/layers.hpp"

#include <functional>
#include <map>

#include "cppformers/autograd/node.hpp"
#include "cppformers/nn/f32_param.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers::nn {

Linear::Linear(int64_t in, int64_t out, bool has_bias) {
  register_parameter("weight", weight, Tensor::empty({out, in}));
  if (has_bias) register_parameter("bias", bias, Tensor::empty({out}));
}
Tensor adapted_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const ops::LinearEpilogue& ep,
                      const LinearAdapter* adapter) {
  if (!adapter) return ops::linear(x, weight, bias, ep);
  Tensor y = adapter->forward(x, ops::linear(x, weight, bias));
  if (ep.activation != ops::Activation::kNone) y = ops::activate(y, ep.activation);
  if (ep.residual.defined()) y = y + ep.residual;
  return y;
}

Tensor Linear::forward(const Tensor& x) const {
  return adapter ? adapted_linear(x, weight, f32_param(bias), {}, adapter.get()) : ops::linear(x, weight, f32_param(bias));
}
Tensor Linear::forward(const Tensor& x, const ops::LinearEpilogue& ep) const {
  return adapted_linear(x, weight, f32_param(bias), ep, adapter.get());
}

bool FusedLinears::fusable(const Tensor& x) const {
  if (layers_.size() < 2) return false;
  for (const auto& l : layers_) {
    if (l->adapter) return false;  // the adapter's addition needs each layer's own output
    if (!l->bias.defined() || autograd::needs_grad({&x, &l->weight, &l->bias})) return false;
    if (!l->weight.storage()->read_only() || !l->bias.storage()->read_only()) return false;
    if (l->weight.dtype() != kF32 || l->weight.size(1) != layers_[0]->weight.size(1)) return false;
  }
  return true;
}

std::vector<Tensor> FusedLinears::operator()(const Tensor& x) {
  std::vector<Tensor> out;
  if (!fusable(x)) {
    for (const auto& l : layers_) out.push_back((*l)(x));
    return out;
  }
  std::vector<std::shared_ptr<Storage>> now;
  std::vector<int64_t> offs;
  for (const auto& l : layers_) {
    now.push_back(l->weight.storage()), now.push_back(l->bias.storage());
    offs.push_back(l->weight.offset()), offs.push_back(l->bias.offset());
  }
  if (now != sources_ || offs != offsets_) {  // (re)build the concatenation, read-only like its sources
    std::vector<Tensor> ws, bs;
    for (const auto& l : layers_) ws.push_back(l->weight.detach()), bs.push_back(l->bias.detach());
    auto freeze = [](Tensor t) {
      t = t.contiguous();
      return Tensor::from_storage(Storage::view(t.raw_data(), size_t(t.numel()) * 4, t.storage(), true), t.shape(), kF32);
    };
    weight_ = freeze(ops::cat(ws, 0));
    bias_ = freeze(ops::cat(bs, 0));
    sources_ = now;
    offsets_ = offs;
  }
  const Tensor y = ops::linear(x, weight_, bias_);
  int64_t at = 0;
  for (const auto& l : layers_) {
    const int64_t n = l->weight.size(0);
    out.push_back(y.narrow(-1, at, n));
    at += n;
  }
  return out;
}

Embedding::Embedding(int64_t num, int64_t dim, int64_t padding_idx) : padding_idx(padding_idx) {
  register_parameter("weight", weight, Tensor::empty({num, dim}));
}
Tensor Embedding::forward(const Tensor& ids) const { return ops::embedding(ids, weight, padding_idx); }

LayerNorm::LayerNorm(int64_t dim, double eps, bool affine) : eps(eps) {
  if (affine) {
    register_parameter("weight", weight, Tensor::ones({dim}));
    register_parameter("bias", bias, Tensor::zeros({dim}));
  }
}
Tensor LayerNorm::forward(const Tensor& x) const {
  return ops::layer_norm(x, f32_param(weight), f32_param(bias), eps);
}

Tensor Dropout::forward(const Tensor& x) const { return ops::dropout(x, p, is_training()); }

namespace {
const std::map<std::string, std::function<Tensor(const Tensor&)>>& activations() {
  static const std::map<std::string, std::function<Tensor(const Tensor&)>> table = {
      {"gelu", [](const Tensor& x) { return ops::gelu(x); }},
      {"gelu_new", [](const Tensor& x) { return ops::gelu(x, "tanh"); }},
      {"gelu_fast", [](const Tensor& x) { return ops::gelu(x, "tanh"); }},
      {"gelu_pytorch_tanh", [](const Tensor& x) { return ops::gelu(x, "tanh"); }},
      {"relu", [](const Tensor& x) { return ops::relu(x); }},
      {"silu", [](const Tensor& x) { return ops::silu(x); }},
      {"swish", [](const Tensor& x) { return ops::silu(x); }},
      {"tanh", [](const Tensor& x) { return ops::tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return ops::sigmoid(x); }},
      {"quick_gelu", [](const Tensor& x) { return ops::mul(x, ops::sigmoid(x * 1.702)); }},
  };
  return table;
}
}  // namespace

bool is_known_activation(const std::string& name) { return activations().count(name) > 0; }

ops::Activation fusable_activation(const std::string& name) {
  if (name == "gelu") return ops::Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_fast" || name == "gelu_pytorch_tanh") return ops::Activation::kGeluTanh;
  if (name == "relu") return ops::Activation::kRelu;
  if (name == "silu" || name == "swish") return ops::Activation::kSilu;
  return ops::Activation::kNone;
}

Tensor activation(const std::string& name, const Tensor& x) {
  auto it = activations().find(name);
  if (it == activations().end()) {
    std::string known;
    for (auto& [k, v] : activations()) known += (known.empty() ? "" : ", ") + k;
    throw NotSupportedError("activation '" + name + "' is not supported (known: " + known + ")");
  }
  return it->second(x);
}

}  // namespace cppformers::nn
