#pragma once
// The one GEMM interface of the CPU backend, on oneDNN's matmul (measured faster than OpenBLAS
// on this CPU: bench/gemm_backends.cpp, bench/RESULTS.md). Primitives are cached per shape,
// layout and epilogue, so steady-state calls only execute.
#include <cstdint>
#include <memory>
#include <vector>

namespace cppformers::cpu {

// The element types the GEMM reads. bf16 products accumulate in f32 (AVX512-BF16 where the CPU
// has it) and need both operands in bf16.
enum class ElemType { kF32, kBF16 };

// A batch of matrices: dims [batch..., rows, cols] read through `strides` (elements; one per
// dim). A batch stride of 0 broadcasts; any row/col strides are allowed.
struct MatrixView {
  const void* data;
  std::vector<int64_t> strides;
  // Set when the data is immutable while this owner lives (read-only weights): gemm may then
  // keep a copy repacked into the GEMM's preferred layout, reused across calls (B only).
  std::shared_ptr<const void> constant_owner = nullptr;
  ElemType type = ElemType::kF32;
};

enum class Activation { kNone, kGeluErf, kGeluTanh, kRelu, kSilu };

// Fused after the product, in this order: + bias[N] on every row, activation, + residual
// (a contiguous [batch..., M, N] tensor). All optional.
struct Epilogue {
  const float* bias = nullptr;
  Activation activation = Activation::kNone;
  const float* residual = nullptr;
};

// Whether the CPU has a native bf16 dot product (AVX512-BF16 or AMX) for bf16 products.
// Without it oneDNN emulates bf16, slower than f32, and callers should multiply in f32.
bool native_bf16();

// Bytes held by repacked constant weights (see MatrixView::constant_owner), and dropping them.
size_t packed_weight_bytes();
void clear_packed_weights();

// C[b] = epilogue(A[b] (MxK) @ B[b] (KxN)) for every index b of `batch` (shape of the batch
// dims, possibly empty). C (f32) is written through its own strides. A and B have one type.
void gemm(const std::vector<int64_t>& batch, int64_t M, int64_t N, int64_t K, const MatrixView& A,
          const MatrixView& B, float* C, const std::vector<int64_t>& c_strides, const Epilogue& ep = {});

}  // namespace cppformers::cpu
