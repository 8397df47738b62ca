#include "cppformers/core/allocator.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include <unistd.h>

namespace cppformers::allocator {

namespace {

// Size classes: multiples of 64 bytes up to 4 KiB, then 8 steps per power of two, so a
// cached block wastes at most 12.5%.
size_t size_class(size_t n) {
  if (n <= 4096) return (n + 63) / 64 * 64;
  size_t p = 4096;
  while (p * 2 < n) p *= 2;
  const size_t step = p / 8;
  return (n + step - 1) / step * step;
}

struct Cache {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_blocks;
  size_t bytes = 0, limit = 0;
  Cache() {
    const char* env = std::getenv("CPPFORMERS_CACHE_MB");
    limit = size_t(env ? std::atoll(env) : 2048) << 20;
  }
  ~Cache() { release_all(); }
  void release_all() {
    for (auto& [sz, v] : free_blocks)
      for (void* p : v) std::free(p);
    free_blocks.clear();
    bytes = 0;
  }
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: storages may outlive static destruction
  return *c;
}

}  // namespace

void* allocate(size_t nbytes) {
  const size_t sz = size_class(nbytes ? nbytes : 1);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.find(sz);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.bytes -= sz;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, sz);
  if (!p) {
    empty_cache();
    p = std::aligned_alloc(64, sz);
    if (!p) throw std::bad_alloc();
  }
  return p;
}

void deallocate(void* p, size_t nbytes) {
  if (!p) return;
  const size_t sz = size_class(nbytes ? nbytes : 1);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.bytes + sz <= c.limit) {
      c.free_blocks[sz].push_back(p);
      c.bytes += sz;
      return;
    }
  }
  std::free(p);
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.release_all();
}

size_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.bytes;
}

size_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? size_t(pages) * size_t(page) : 0;
}

}  // namespace cppformers::allocator
