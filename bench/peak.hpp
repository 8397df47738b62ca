#pragma once
// The machine's ceilings, measured in the same run as a benchmark so its ratios are honest:
// the fp32 FMA peak (a register-only FMA loop on every thread), the practical GEMM ceiling
// (one large oneDNN matmul through cppformers::cpu::gemm) and the DRAM read bandwidth.
#include <string>

namespace bench {

struct FmaPeak {
  double gflops = 0;  // best of a few runs, all threads together
  std::string isa;    // "avx512f", "avx2+fma" or "scalar"
};

// A tight loop of independent FMAs on `threads` OpenMP threads (widest ISA the CPU has).
FmaPeak fma_peak(int threads);
// GFLOP/s of one n x n x n f32 GEMM through cppformers::cpu::gemm (best of a few).
double gemm_ceiling(int n = 2048);
// GB/s of reading a 1 GiB buffer with every thread, each streaming its own slice with the widest
// vector loads (best of a few).
double dram_read_gbs(int threads);

// Wall-clock seconds (steady clock).
double now_s();

}  // namespace bench
