#include "peak.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "cppformers/ops/cpu/gemm.hpp"

namespace bench {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

namespace {

volatile float g_sink;
constexpr int kAcc = 16;  // independent chains: > FMA latency x FMA ports

__attribute__((target("avx512f"))) double fma_loop_avx512(int64_t iters) {
  __m512 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm512_add_ps(s, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  g_sink = out[0] + out[15];
  return double(iters) * kAcc * 16 * 2;
}

__attribute__((target("avx2,fma"))) double fma_loop_avx2(int64_t iters) {
  __m256 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  g_sink = out[0] + out[7];
  return double(iters) * kAcc * 8 * 2;
}

double fma_loop_scalar(int64_t iters) {
  float acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = float(i);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < kAcc; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  g_sink = acc[0] + acc[kAcc - 1];
  return double(iters) * kAcc * 2;
}

// Sums n words (n a multiple of 128) with eight independent accumulators of the widest
// vectors: loads are the only work, so the loop runs at the rate memory delivers.
__attribute__((target("avx512f"))) uint32_t read_sum_avx512(const uint32_t* p, size_t n) {
  __m512i acc[8];
  for (auto& a : acc) a = _mm512_set1_epi32(0);
  for (size_t i = 0; i < n; i += 128)
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) acc[j] = _mm512_add_epi32(acc[j], _mm512_loadu_si512(p + i + 16 * j));
  for (int j = 1; j < 8; ++j) acc[0] = _mm512_add_epi32(acc[0], acc[j]);
  alignas(64) uint32_t out[16];
  _mm512_store_si512(out, acc[0]);
  uint32_t s = 0;
  for (uint32_t v : out) s += v;
  return s;
}

__attribute__((target("avx2"))) uint32_t read_sum_avx2(const uint32_t* p, size_t n) {
  __m256i acc[8];
  for (auto& a : acc) a = _mm256_set1_epi32(0);
  for (size_t i = 0; i < n; i += 64)
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j)
      acc[j] = _mm256_add_epi32(acc[j], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8 * j)));
  for (int j = 1; j < 8; ++j) acc[0] = _mm256_add_epi32(acc[0], acc[j]);
  alignas(32) uint32_t out[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), acc[0]);
  uint32_t s = 0;
  for (uint32_t v : out) s += v;
  return s;
}

uint32_t read_sum_scalar(const uint32_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  return s;
}

}  // namespace

FmaPeak fma_peak(int threads) {
  FmaPeak r;
  double (*loop)(int64_t) = fma_loop_scalar;
  r.isa = "scalar";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    loop = fma_loop_avx512;
    r.isa = "avx512f";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    loop = fma_loop_avx2;
    r.isa = "avx2+fma";
  }
  const int64_t iters = 20'000'000;  // ~0.2 s per thread at AVX-512 speeds
  for (int rep = 0; rep < 3; ++rep) {
    double flops = 0;
    const double t0 = now_s();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += loop(iters);
    const double dt = now_s() - t0;
    r.gflops = std::max(r.gflops, flops / dt * 1e-9);
  }
  return r;
}

double gemm_ceiling(int n) {
  std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = float(i % 97) * 0.01f;
    b[i] = float(i % 89) * 0.01f;
  }
  const cppformers::cpu::MatrixView av{a.data(), {n, 1}}, bv{b.data(), {n, 1}};
  double best = 0;
  for (int rep = 0; rep < 6; ++rep) {
    const double t0 = now_s();
    cppformers::cpu::gemm({}, n, n, n, av, bv, c.data(), {n, 1});
    const double dt = now_s() - t0;
    if (rep > 0) best = std::max(best, 2.0 * n * n * double(n) / dt * 1e-9);  // rep 0 builds the primitive
  }
  return best;
}

double dram_read_gbs(int threads) {
  const size_t bytes = size_t(1) << 30;
  // Not a std::vector: its zero fill would touch every page from this thread.
  std::unique_ptr<uint32_t, decltype(&std::free)> mem(static_cast<uint32_t*>(std::aligned_alloc(64, bytes)), &std::free);
  if (!mem) return 0;
  const size_t words = bytes / sizeof(uint32_t);
  __builtin_cpu_init();
  uint32_t (*read)(const uint32_t*, size_t) = __builtin_cpu_supports("avx512f") ? read_sum_avx512
                                              : __builtin_cpu_supports("avx2")  ? read_sum_avx2
                                                                                : read_sum_scalar;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    uint32_t total = 0;
    double dt = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      // Each thread reads one contiguous slice, which it also wrote first (first touch).
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const size_t per = words / size_t(nt) / 128 * 128;  // whole 512-byte blocks
      uint32_t* slice = mem.get() + size_t(t) * per;
      if (rep == 0)
        for (size_t i = 0; i < per; ++i) slice[i] = uint32_t(i & 7);
#pragma omp barrier
#pragma omp single
      dt = now_s();
      total += read(slice, per);
#pragma omp barrier
#pragma omp single
      dt = now_s() - dt;
    }
    g_sink = float(total);
    const size_t per = words / size_t(threads) / 128 * 128;
    if (rep > 0) best = std::max(best, double(per * size_t(threads) * sizeof(uint32_t)) / dt * 1e-9);
  }
  return best;
}

}  // namespace bench
