#include "cppformers/core/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

namespace cppformers {

namespace {
constexpr size_t kHuge = size_t{2} << 20;
size_t rounded(size_t bytes) { return (bytes + kHuge - 1) / kHuge * kHuge; }
}  // namespace

void* huge_pages_alloc(size_t bytes) {
  size_t size = rounded(bytes);
  // Map one huge page more than needed, then unmap the parts before and after the aligned block.
  void* m = ::mmap(nullptr, size + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  auto base = reinterpret_cast<uintptr_t>(m);
  uintptr_t aligned = (base + kHuge - 1) & ~(uintptr_t{kHuge} - 1);
  if (aligned > base) ::munmap(m, aligned - base);
  if (uintptr_t tail = base + size + kHuge - (aligned + size); tail > 0) ::munmap(reinterpret_cast<void*>(aligned + size), tail);
#ifdef MADV_HUGEPAGE
  ::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);  // advice: fine to fail
#endif
  return reinterpret_cast<void*>(aligned);
}

void huge_pages_free(void* p, size_t bytes) noexcept {
  if (p) ::munmap(p, rounded(bytes));
}

std::shared_ptr<void> shared_block(size_t bytes) {
  if (bytes >= kHugePagesMin)
    return std::shared_ptr<void>(huge_pages_alloc(bytes), [bytes](void* p) { huge_pages_free(p, bytes); });
  void* p = std::aligned_alloc(64, bytes == 0 ? 64 : (bytes + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace cppformers
