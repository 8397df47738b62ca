#pragma once
// Memory for the large tables of a tokenizer (vocab and merges hash tables, the loader's flat
// copies of them, the file's bytes), mapped in 2 MiB transparent huge pages where the kernel
// offers them (THP "madvise" or "always"). First-touch page faults are most of the cost of
// filling fresh memory on virtual machines with shadow paging (4 MiB of 4 KiB pages: ~16 ms on
// the dev machine; in huge pages: ~0.4 ms), and lookups in the tables then miss the TLB less.
// Blocks under kHugePagesMin come from operator new as usual.
#include <cstddef>
#include <memory>
#include <new>

namespace cppformers::tokenizers {

inline constexpr size_t kHugePagesMin = size_t{256} << 10;

// A block of at least `bytes` bytes (bytes >= kHugePagesMin), aligned to 2 MiB; throws
// std::bad_alloc when it cannot be mapped. Free it with huge_pages_free(p, bytes).
void* huge_pages_alloc(size_t bytes);
void huge_pages_free(void* p, size_t bytes) noexcept;

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() noexcept = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    size_t b = n * sizeof(T);
    if (b >= kHugePagesMin) return static_cast<T*>(huge_pages_alloc(b));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) noexcept {
    size_t b = n * sizeof(T);
    if (b >= kHugePagesMin) huge_pages_free(p, b);
    else std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace cppformers::tokenizers
