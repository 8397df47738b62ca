#pragma once
// The one GEMM interface of the CPU backend, on oneDNN's matmul (measured faster than OpenBLAS
// on this CPU: bench/gemm_backends.cpp, bench/RESULTS.md). Primitives are cached per shape,
// layout and epilogue, so steady-state calls only execute.
#include <cstdint>
#include <memory>
#include <vector>

namespace cppformers::cpu {

// A batch of float matrices: dims [batch..., rows, cols] read through `strides` (elements; one
// per dim). A batch stride of 0 broadcasts; any row/col strides are allowed.
struct MatrixView {
  const float* data;
  std::vector<int64_t> strides;
  // Set when the data is immutable while this owner lives (read-only weights): gemm may then
  // keep a copy repacked into the GEMM's preferred layout, reused across calls (B only).
  std::shared_ptr<const void> constant_owner = nullptr;
};

enum class Activation { kNone, kGeluErf, kGeluTanh, kRelu, kSilu };

// Fused after the product, in this order: + bias[N] on every row, activation, + residual
// (a contiguous [batch..., M, N] tensor). All optional.
struct Epilogue {
  const float* bias = nullptr;
  Activation activation = Activation::kNone;
  const float* residual = nullptr;
};

// Bytes held by repacked constant weights (see MatrixView::constant_owner), and dropping them.
size_t packed_weight_bytes();
void clear_packed_weights();

// C[b] = epilogue(A[b] (MxK) @ B[b] (KxN)) for every index b of `batch` (shape of the batch
// dims, possibly empty). C is written through its own strides.
void gemm(const std::vector<int64_t>& batch, int64_t M, int64_t N, int64_t K, const MatrixView& A,
          const MatrixView& B, float* C, const std::vector<int64_t>& c_strides, const Epilogue& ep = {});

}  // namespace cppformers::cpu
