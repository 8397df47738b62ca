#include "cppformers/core/storage.hpp"

#include <cstdlib>
#include <new>

namespace cppformers {

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  auto s = std::make_shared<Storage>();
  size_t rounded = (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p) throw std::bad_alloc();
  s->data_ = p;
  s->nbytes_ = nbytes;
  s->device_ = device;
  s->owner_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return s;
}

std::shared_ptr<Storage> Storage::view(void* data, size_t nbytes, std::shared_ptr<void> owner,
                                       bool read_only) {
  auto s = std::make_shared<Storage>();
  s->data_ = data;
  s->nbytes_ = nbytes;
  s->read_only_ = read_only;
  s->owner_ = std::move(owner);
  return s;
}

}  // namespace cppformers
