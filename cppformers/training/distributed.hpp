#pragma once
// Data-parallel training across processes: a small process-group interface (the collectives
// the Trainer needs) with an MPI implementation and a single-process fallback, so that the same
// calls can later sit on NCCL.
//
//   mpirun -np 2 cppformers train ...      # two processes, gradients averaged over MPI
//
// The process-wide group is chosen on first use: MPI when the program was started by Open MPI's
// mpirun (OMPI_COMM_WORLD_SIZE is set) and cppformers was built with MPI, else one process.
// MPI is initialised only then (and finalised at exit), so a plain run never touches it.
// Launched by mpirun with more than one process in a build without MPI is an error, not N
// independent runs writing the same output folder.
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::training {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual std::string backend() const = 0;  // "single", "mpi" (later "nccl")
  virtual int world_size() const = 0;
  virtual int rank() const = 0;
  // In place: every process ends with the element-wise mean over all processes (the same
  // values on every process, as MPI's reductions give them).
  virtual void all_reduce_mean(float* data, size_t n) = 0;
  virtual void barrier() = 0;
  // In place: every process ends with root's `bytes` bytes.
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // Ends every process of the group with `code` (MPI_Abort); never returns.
  [[noreturn]] virtual void abort(int code) = 0;
};

namespace distributed {

// The process-wide group (created on first call; see the file comment).
ProcessGroup& process_group();
// Replaces the process-wide group (tests; a future NCCL group). Null restores the default choice.
void set_process_group(std::unique_ptr<ProcessGroup> group);
// A one-process group (the fallback).
std::unique_ptr<ProcessGroup> make_single_process_group();

int world_size();
int rank();
inline bool is_main_process() { return rank() == 0; }
void all_reduce_mean(float* data, size_t n);
void barrier();
void broadcast(void* data, size_t bytes, int root = 0);
// A string of any length from root to every process.
void broadcast_string(std::string& s, int root = 0);

// Averages the gradients of `params` over the processes: one flattened f32 buffer, one
// all-reduce. A parameter without a gradient here counts as zeros; it gets one only if some
// process had a non-zero gradient for it. `extras` (e.g. the step's loss) travel in the same
// buffer and come back averaged too. No-op with one process.
void all_reduce_gradients(const std::vector<Tensor>& params, std::vector<double>* extras = nullptr);
// Copies root's values of `params` into every process's (as DDP does when it wraps a model).
void broadcast_parameters(const std::vector<Tensor>& params, int root = 0);

// DistributedSampler(shuffle=False, drop_last=False) over an already shuffled `order`: pads it
// to a multiple of world_size by repeating its head, then takes positions rank, rank +
// world_size, ... So each global batch of world_size * B examples is split among the ranks.
std::vector<size_t> shard_indices(const std::vector<size_t>& order, int world_size, int rank);

// The exit code cppformers uses for an exception (README, "Exit codes").
int exit_code_for(const std::exception& e);
// Runs f(); with more than one process, an exception in it is reported on stderr with the rank
// and ends every process (abort), because the others would wait for this one forever.
template <class F>
auto abort_all_on_error(F&& f) -> decltype(f());
[[noreturn]] void abort_all(const std::exception& e);

template <class F>
auto abort_all_on_error(F&& f) -> decltype(f()) {
  if (world_size() == 1) return f();
  try {
    return f();
  } catch (const std::exception& e) {
    abort_all(e);
  }
}

}  // namespace distributed
}  // namespace cppformers::training
