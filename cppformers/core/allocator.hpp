#pragma once
// The CPU caching allocator behind Storage::allocate. Freed blocks are kept in size classes
// and handed out again, so a steady-state forward or decode step does no malloc and touches
// no fresh pages. The cache is capped (CPPFORMERS_CACHE_MB, default 2048); beyond it blocks are
// returned to the system.
#include <cstddef>

namespace cppformers::allocator {

void* allocate(size_t nbytes);           // 64-byte aligned
void deallocate(void* p, size_t nbytes);  // nbytes as passed to allocate
void empty_cache();                       // returns every cached block to the system
size_t cached_bytes();
// The machine's physical memory in bytes (0 if unknown).
size_t physical_memory_bytes();

}  // namespace cppformers::allocator
