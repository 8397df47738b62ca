#pragma once
// The one GEMM interface of the CPU backend. Implemented on oneDNN's matmul, which measured
// faster than OpenBLAS on this CPU (bench/gemm_backends.cpp, bench/RESULTS.md).
#include <cstdint>

namespace cppformers::cpu {

// A float matrix (or a batch of them) given by its strides, in elements. A stride of 0 on the
// batch broadcasts one matrix over the batch; a column stride != 1 reads it transposed.
struct MatrixView {
  const float* data;
  int64_t batch_stride, row_stride, col_stride;
};

// For b in [0, batch): C[b] = A[b] (MxK) @ B[b] (KxN) (+ bias[N] on every row).
// C is written contiguously as [batch, M, N].
void gemm(int64_t batch, int64_t M, int64_t N, int64_t K, MatrixView A, MatrixView B,
          const float* bias, float* C);

}  // namespace cppformers::cpu
