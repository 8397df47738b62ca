#include "peak.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
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
  // Integer sums vectorise without reassociation concerns, so the loop is bound by memory.
  const size_t n = (size_t(1) << 30) / sizeof(uint32_t);
  std::vector<uint32_t> buf(n);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (size_t i = 0; i < n; ++i) buf[i] = uint32_t(i & 7);  // first touch by the reading thread
  double best = 0;
  for (int rep = 0; rep < 4; ++rep) {
    uint32_t total = 0;
    const double t0 = now_s();
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : total)
    for (size_t i = 0; i < n; ++i) total += buf[i];
    const double dt = now_s() - t0;
    g_sink = float(total);
    best = std::max(best, double(n * sizeof(uint32_t)) / dt * 1e-9);
  }
  return best;
}

}  // namespace bench
