// The MPI process group (Open MPI). Compiled with MPI only when CMake found it
// (CPPFORMERS_HAVE_MPI); otherwise make_mpi_process_group() returns null and the single-process
// group is used.
#include <memory>

#include "cppformers/training/distributed.hpp"

#ifdef CPPFORMERS_HAVE_MPI
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "cppformers/core/error.hpp"
#endif

namespace cppformers::training {

#ifdef CPPFORMERS_HAVE_MPI

namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(std::string(what) + ": " + std::string(msg, size_t(len)));
}

// MPI counts are ints: large buffers go in pieces.
constexpr size_t kChunk = size_t(1) << 30;

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

class MpiProcessGroup : public ProcessGroup {
 public:
  MpiProcessGroup() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      // Only the calling thread talks to MPI (OpenMP workers never do).
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      std::atexit(finalize_at_exit);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  }
  std::string backend() const override { return "mpi"; }
  int world_size() const override { return size_; }
  int rank() const override { return rank_; }

  void all_reduce_mean(float* data, size_t n) override {
    if (size_ == 1) return;
    for (size_t at = 0; at < n; at += kChunk) {
      const int count = int(std::min(kChunk, n - at));
      check(MPI_Allreduce(MPI_IN_PLACE, data + at, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    }
    const float inv = 1.0f / float(size_);
    for (size_t i = 0; i < n; ++i) data[i] *= inv;
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  void broadcast(void* data, size_t bytes, int root) override {
    if (root < 0 || root >= size_)
      throw ValueError("broadcast: root " + std::to_string(root) + " is not a rank of " + std::to_string(size_));
    char* p = static_cast<char*>(data);
    for (size_t at = 0; at < bytes; at += kChunk) {
      const int count = int(std::min(kChunk, bytes - at));
      check(MPI_Bcast(p + at, count, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  int size_ = 1, rank_ = 0;
};

}  // namespace

std::unique_ptr<ProcessGroup> make_mpi_process_group() { return std::make_unique<MpiProcessGroup>(); }

#else

std::unique_ptr<ProcessGroup> make_mpi_process_group() { return nullptr; }

#endif

}  // namespace cppformers::training
