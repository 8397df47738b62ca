// Reverse-mode differentiation over the tape recorded by autograd::record.
#include <unordered_map>
#include <unordered_set>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/elementwise.hpp"

namespace cppformers::autograd {

static thread_local bool g_grad_enabled = true;
bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool on) { g_grad_enabled = on; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

void record(const Tensor& out, const char* name, std::vector<Tensor> inputs,
            std::function<std::vector<Tensor>(const Tensor&)> backward) {
  if (!g_grad_enabled) return;
  bool any = false;
  for (auto& t : inputs) {
    if (t.defined() && !t.requires_grad()) t = Tensor();
    any |= t.defined();
  }
  if (!any) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  out.impl()->requires_grad = true;
  out.set_grad_fn(std::move(node));
}

static void accumulate(Tensor& slot, const Tensor& g) {
  slot = slot.defined() ? ops::add(slot, g) : g;
}

// A leaf's .grad must be a tensor of its own: the incoming gradient may be shared with other
// leaves (add passes one tensor to both inputs) or be the caller's `gradient`, and optimizers
// and clip_grad_norm_ update .grad in place.
static void accumulate_leaf(const Tensor& leaf, const Tensor& g) {
  const Tensor cur = leaf.grad();
  leaf.set_grad(cur.defined() ? ops::add(cur, g) : g.clone());
}

}  // namespace cppformers::autograd

namespace cppformers {

void Tensor::backward(const Tensor& gradient) const {
  using autograd::Node;
  if (!requires_grad())
    throw ValueError("backward: tensor does not require grad and has no grad_fn");
  Tensor seed = gradient;
  if (!seed.defined()) {
    if (numel() != 1)
      throw ValueError("backward: grad can be implicitly created only for scalar outputs, got " +
                       shape_str(shape()));
    seed = Tensor::ones(shape(), dtype());
  }
  if (seed.shape() != shape())
    throw ValueError("backward: gradient shape " + shape_str(seed.shape()) +
                     " does not match tensor shape " + shape_str(shape()));
  autograd::NoGradGuard no_grad;
  if (!grad_fn()) {  // a leaf
    autograd::accumulate_leaf(*this, seed);
    return;
  }
  // Topological order by iterative DFS (post-order), then walk it in reverse.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{grad_fn().get(), 0}};
  seen.insert(grad_fn().get());
  while (!stack.empty()) {
    auto& [node, i] = stack.back();
    if (i < node->inputs.size()) {
      const Tensor& in = node->inputs[i++];
      if (in.defined() && in.grad_fn() && seen.insert(in.grad_fn().get()).second)
        stack.push_back({in.grad_fn().get(), 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  std::unordered_map<Node*, Tensor> pending;
  pending[grad_fn().get()] = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = pending.find(node);
    if (found == pending.end()) continue;
    Tensor g = std::move(found->second);
    pending.erase(found);
    if (!node->backward)
      throw ValueError("backward: the graph through '" + node->name +
                       "' was already freed by an earlier backward()");
    std::vector<Tensor> grads = node->backward(g);
    for (size_t k = 0; k < node->inputs.size() && k < grads.size(); ++k) {
      const Tensor& in = node->inputs[k];
      if (!in.defined() || !grads[k].defined()) continue;
      if (grads[k].shape() != in.shape())
        throw ValueError(std::string("backward: op '") + node->name + "' returned gradient " +
                         shape_str(grads[k].shape()) + " for input " + shape_str(in.shape()));
      if (in.grad_fn()) {
        autograd::accumulate(pending[in.grad_fn().get()], grads[k]);
      } else {
        autograd::accumulate_leaf(in, grads[k]);
      }
    }
    node->backward = nullptr;  // free saved tensors (retain_graph=False)
  }
}

}  // namespace cppformers
