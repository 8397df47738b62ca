#pragma once
// Memory in 2 MiB transparent huge pages where the kernel offers them (THP "madvise" or
// "always"): a checkpoint's bytes (io/safetensors), weights converted at load (nn/module), a
// tokenizer's large tables. Not the caching allocator's blocks: with repacked GEMM weights and
// activations in 2 MiB pages too, the Llama-1.1B prefill ran 15-30% slower (not analysed; a
// likely cause: 2 MiB pages keep the virtual layout's cache-set conflicts that 4 KiB pages
// scatter; bench/RESULTS.md).
// On virtual machines with shadow paging, 4 KiB pages cost twice: first-touch faults are most
// of the cost of filling fresh memory (4 MiB of 4 KiB pages: ~16 ms on the dev machine; in huge
// pages: ~0.4 ms), and streaming reads over 4 KiB pages lose up to half their rate whenever the
// host or the kernel's page monitor (DAMON here) touches the page tables; the decode GEMVs over
// a 1.1B model's weights run ~40% faster from huge pages (bench/RESULTS.md). Lookups in large
// tables miss the TLB less, too. Lives in core but is compiled into the stand-alone tokenizer
// library as well (CMakeLists.txt), which the main library links.
#include <cstddef>
#include <memory>
#include <new>

namespace cppformers {

inline constexpr size_t kHugePagesMin = size_t{256} << 10;

// A block of at least `bytes` bytes (bytes >= kHugePagesMin), aligned to 2 MiB; throws
// std::bad_alloc when it cannot be mapped. Free it with huge_pages_free(p, bytes).
void* huge_pages_alloc(size_t bytes);
void huge_pages_free(void* p, size_t bytes) noexcept;
// A block of `bytes` bytes owned by the returned pointer: in huge pages from kHugePagesMin
// up, else 64-byte aligned heap memory. Throws std::bad_alloc.
std::shared_ptr<void> shared_block(size_t bytes);

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

}  // namespace cppformers
