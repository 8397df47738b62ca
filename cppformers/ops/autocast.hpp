#pragma once
// bf16 autocast for the matrix products, as torch.autocast("cpu", dtype=torch.bfloat16): while
// an AutocastGuard(true) lives on a thread, matmul() and linear() on that thread round their f32
// operands to bf16 and multiply them with f32 accumulation. Results stay f32 (torch returns
// bf16 there; keeping f32 only removes a rounding), and every other op runs in f32 as before.
// The backward of a product recorded under autocast multiplies in bf16 too, whatever the state
// when backward() runs. Where the CPU has no native bf16 dot product (AVX512-BF16), products
// stay f32: emulated bf16 would be slower than the f32 it replaces.
namespace cppformers::ops {

class AutocastGuard {
 public:
  explicit AutocastGuard(bool enabled = true);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool previous_;
};

// Whether products on this thread run in bf16 now (a guard is on and the CPU has native bf16).
bool autocast_bf16();

// Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX), which the bf16 GEMM needs.
bool native_bf16_gemm();

}  // namespace cppformers::ops
