#pragma once
// Storage: a block of bytes that tensors view. Either heap memory it owns, or a read-only
// view into memory someone else owns (a safetensors file's data section), kept alive by `owner`.
#include <cstddef>
#include <memory>

#include "cppformers/core/device.hpp"

namespace cppformers {

class Storage {
 public:
  // Heap storage of nbytes, 64-byte aligned, uninitialised.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device = kCPU);
  // A view of external memory; `owner` keeps it valid (e.g. the mapping of a file).
  static std::shared_ptr<Storage> view(void* data, size_t nbytes, std::shared_ptr<void> owner,
                                       bool read_only);

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  bool read_only() const { return read_only_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  bool read_only_ = false;
  Device device_;
  std::shared_ptr<void> owner_;
};

}  // namespace cppformers
