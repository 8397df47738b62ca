#include "cppformers/core/storage.hpp"

#include "cppformers/core/allocator.hpp"

namespace cppformers {

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  auto s = std::make_shared<Storage>();
  void* p = allocator::allocate(nbytes);
  s->data_ = p;
  s->nbytes_ = nbytes;
  s->device_ = device;
  s->owner_ = std::shared_ptr<void>(p, [nbytes](void* q) { allocator::deallocate(q, nbytes); });
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
