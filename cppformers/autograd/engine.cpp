// Reverse-mode differentiation over the tape recorded by autograd::record.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
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
// `owned`: g is a fresh, contiguous tensor that nothing else can reach (see below), kept as is.
static void accumulate_leaf(const Tensor& leaf, const Tensor& g, bool owned = false) {
  const Tensor cur = leaf.grad();
  leaf.set_grad(cur.defined() ? ops::add(cur, g) : owned ? g : g.clone());
}

// Whether grads[k] may become a leaf's .grad without a copy: its storage is viewed by no other
// tensor (no saved tensor, no view, no other impl), it is contiguous, and its handle is not one
// the caller or another input can still reach: not the seed (the caller's `gradient`) and not
// another entry of grads (add hands one tensor to both inputs). Other handles to the same impl
// can only be the engine's own (the node's incoming gradient, freed after the node) or the
// node's closure (freed right after accumulation).
static bool stealable(const std::vector<Tensor>& grads, size_t k, const Tensor& seed) {
  const Tensor& g = grads[k];
  if (g.storage().use_count() != 1 || !g.is_contiguous() || g.same(seed)) return false;
  for (size_t j = 0; j < grads.size(); ++j)
    if (j != k && grads[j].defined() && grads[j].same(g)) return false;
  return true;
}

// CPPFORMERS_AUTOGRAD_PROFILE=1: each backward() prints, on stderr, the time spent in each
// op's backward function and in gradient accumulation, by op name.
static bool profile_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("CPPFORMERS_AUTOGRAD_PROFILE");
    return v && *v && *v != '0';
  }();
  return on;
}

namespace {
// Wall time, and the process's CPU time (which a loaded machine does not inflate).
struct Stamp {
  double wall, cpu;
  static Stamp now() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return {std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(),
            double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec)};
  }
};
struct Profile {
  struct Row {
    double wall = 0, cpu = 0;
    int calls = 0;
  };
  std::map<std::string, Row> by_name;
  void add(const std::string& name, const Stamp& t0) {
    const Stamp t1 = Stamp::now();
    Row& r = by_name[name];
    r.wall += t1.wall - t0.wall;
    r.cpu += t1.cpu - t0.cpu;
    ++r.calls;
  }
  void print() const {
    std::vector<std::pair<std::string, Row>> rows(by_name.begin(), by_name.end());
    std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.wall > b.second.wall; });
    Row total;
    for (auto& r : rows) total.wall += r.second.wall, total.cpu += r.second.cpu;
    std::fprintf(stderr, "autograd profile: %.1f ms wall (%.1f ms CPU, all threads) in backward functions and accumulation\n",
                 total.wall * 1e3, total.cpu * 1e3);
    for (auto& r : rows)
      std::fprintf(stderr, "  %-28s %8.1f ms wall %8.1f ms CPU %6d calls\n", r.first.c_str(), r.second.wall * 1e3,
                   r.second.cpu * 1e3, r.second.calls);
  }
};
}  // namespace

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
  const bool profiling = autograd::profile_enabled();
  autograd::Profile prof;
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
    autograd::Stamp t0 = profiling ? autograd::Stamp::now() : autograd::Stamp{};
    std::vector<Tensor> grads = node->backward(g);
    if (profiling) prof.add(node->name, t0), t0 = autograd::Stamp::now();
    for (size_t k = 0; k < node->inputs.size() && k < grads.size(); ++k) {
      const Tensor& in = node->inputs[k];
      if (!in.defined() || !grads[k].defined()) continue;
      if (grads[k].shape() != in.shape())
        throw ValueError(std::string("backward: op '") + node->name + "' returned gradient " +
                         shape_str(grads[k].shape()) + " for input " + shape_str(in.shape()));
      if (in.grad_fn()) {
        autograd::accumulate(pending[in.grad_fn().get()], grads[k]);
      } else {
        autograd::accumulate_leaf(in, grads[k], autograd::stealable(grads, k, seed));
      }
    }
    if (profiling) prof.add("(accumulate)", t0), t0 = autograd::Stamp::now();
    node->backward = nullptr;  // free saved tensors (retain_graph=False)
    if (profiling) prof.add("(free saved)", t0);
  }
  if (profiling) prof.print();
}

}  // namespace cppformers
