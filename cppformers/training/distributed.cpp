#include "cppformers/training/distributed.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "cppformers/autograd/node.hpp"
#include "cppformers/core/error.hpp"

namespace cppformers::training {

// distributed_mpi.cpp: the MPI group when built with MPI (CPPFORMERS_HAVE_MPI), else null.
std::unique_ptr<ProcessGroup> make_mpi_process_group();

namespace distributed {

namespace {

class SingleProcessGroup : public ProcessGroup {
 public:
  std::string backend() const override { return "single"; }
  int world_size() const override { return 1; }
  int rank() const override { return 0; }
  void all_reduce_mean(float*, size_t) override {}
  void barrier() override {}
  void broadcast(void*, size_t, int root) override {
    if (root != 0) throw ValueError("broadcast: root " + std::to_string(root) + " is not a rank of a 1-process group");
  }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }
};

std::mutex group_mutex;
std::unique_ptr<ProcessGroup>& group_slot() {
  static std::unique_ptr<ProcessGroup> g;
  return g;
}

std::unique_ptr<ProcessGroup> default_group() {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (size == nullptr || *size == '\0') return make_single_process_group();
  if (auto g = make_mpi_process_group()) return g;
  if (std::atoi(size) > 1)
    throw NotSupportedError(std::string("started by mpirun with ") + size +
                            " processes, but this cppformers was built without MPI (install libopenmpi-dev and rebuild)");
  return make_single_process_group();
}

// The gradient buffer, kept between steps (a model's worth of floats).
std::vector<float>& flat_buffer() {
  static std::vector<float> buf;
  return buf;
}

bool writable_f32(const Tensor& t) {
  return t.dtype() == kF32 && t.is_contiguous() && !t.storage()->read_only();
}

}  // namespace

std::unique_ptr<ProcessGroup> make_single_process_group() { return std::make_unique<SingleProcessGroup>(); }

ProcessGroup& process_group() {
  std::lock_guard<std::mutex> lock(group_mutex);
  auto& g = group_slot();
  if (!g) g = default_group();
  return *g;
}

void set_process_group(std::unique_ptr<ProcessGroup> group) {
  std::lock_guard<std::mutex> lock(group_mutex);
  group_slot() = std::move(group);
}

int world_size() { return process_group().world_size(); }
int rank() { return process_group().rank(); }
void all_reduce_mean(float* data, size_t n) { process_group().all_reduce_mean(data, n); }
void barrier() { process_group().barrier(); }
void broadcast(void* data, size_t bytes, int root) { process_group().broadcast(data, bytes, root); }

void broadcast_string(std::string& s, int root) {
  ProcessGroup& g = process_group();
  if (g.world_size() == 1) return;
  uint64_t n = s.size();
  g.broadcast(&n, sizeof n, root);
  s.resize(size_t(n));
  if (n > 0) g.broadcast(s.data(), size_t(n), root);
}

void all_reduce_gradients(const std::vector<Tensor>& params, std::vector<double>* extras) {
  ProcessGroup& g = process_group();
  if (g.world_size() == 1) return;
  size_t total = extras ? extras->size() : 0;
  for (const Tensor& p : params) total += size_t(p.numel());
  std::vector<float>& buf = flat_buffer();
  buf.resize(total);
  size_t at = 0;
  for (const Tensor& p : params) {
    const size_t n = size_t(p.numel());
    const Tensor gr = p.grad();
    if (!gr.defined()) {
      std::fill(buf.begin() + at, buf.begin() + at + n, 0.0f);
    } else if (gr.dtype() == kF32 && gr.is_contiguous()) {
      std::memcpy(buf.data() + at, gr.data<float>(), n * sizeof(float));
    } else {
      const std::vector<float> v = gr.to_vector<float>();
      std::copy(v.begin(), v.end(), buf.begin() + at);
    }
    at += n;
  }
  if (extras)
    for (double x : *extras) buf[at++] = float(x);

  g.all_reduce_mean(buf.data(), total);

  autograd::NoGradGuard no_grad;
  at = 0;
  for (const Tensor& p : params) {
    const size_t n = size_t(p.numel());
    const float* src = buf.data() + at;
    at += n;
    const Tensor gr = p.grad();
    if (!gr.defined() && std::all_of(src, src + n, [](float x) { return x == 0.0f; })) continue;
    if (gr.defined() && writable_f32(gr) && gr.storage().use_count() == 1) {
      std::memcpy(gr.data<float>(), src, n * sizeof(float));
      continue;
    }
    Tensor fresh = Tensor::empty(p.shape(), kF32);
    std::memcpy(fresh.data<float>(), src, n * sizeof(float));
    p.set_grad(gr.defined() && gr.dtype() != kF32 ? fresh.to(gr.dtype()) : fresh);
  }
  if (extras)
    for (double& x : *extras) x = double(buf[at++]);
}

void broadcast_parameters(const std::vector<Tensor>& params, int root) {
  ProcessGroup& g = process_group();
  if (g.world_size() == 1) return;
  for (const Tensor& p : params) {
    if (!writable_f32(p)) {
      // Any other layout: through an f32 copy.
      Tensor tmp = p.to(kF32).contiguous().clone();
      g.broadcast(tmp.data<float>(), size_t(tmp.numel()) * sizeof(float), root);
      autograd::NoGradGuard no_grad;
      p.copy_(tmp);
      continue;
    }
    g.broadcast(p.data<float>(), size_t(p.numel()) * sizeof(float), root);
  }
}

std::vector<size_t> shard_indices(const std::vector<size_t>& order, int world, int r) {
  if (world < 1 || r < 0 || r >= world)
    throw ValueError("shard_indices: rank " + std::to_string(r) + " of a world of " + std::to_string(world));
  const size_t n = order.size();
  const size_t per_rank = (n + size_t(world) - 1) / size_t(world);
  std::vector<size_t> out;
  if (n == 0) return out;
  out.reserve(per_rank);
  for (size_t i = size_t(r); i < per_rank * size_t(world); i += size_t(world)) out.push_back(order[i % n]);
  return out;
}

int exit_code_for(const std::exception& e) {
  if (dynamic_cast<const IOError*>(&e)) return 3;
  if (dynamic_cast<const FormatError*>(&e) || dynamic_cast<const NotSupportedError*>(&e)) return 4;
  if (dynamic_cast<const Error*>(&e)) return 1;
  return 5;
}

void abort_all(const std::exception& e) {
  ProcessGroup& g = process_group();
  std::fflush(stdout);
  std::fprintf(stderr, "cppformers: error: [rank %d of %d] %s\n", g.rank(), g.world_size(), e.what());
  std::fflush(stderr);
  g.abort(exit_code_for(e));
}

}  // namespace distributed
}  // namespace cppformers::training
