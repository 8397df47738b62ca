#pragma once
// f32 -> bf16 over contiguous memory, SIMD (Highway, chosen at run time) and on all threads for
// large inputs. Rounds to nearest even and keeps NaNs quiet NaNs: the same bits as
// cppformers::f32_to_bf16 (core/dtype.hpp) element by element.
#include <cstdint>

namespace cppformers::cpu {

void f32_to_bf16(const float* x, uint16_t* y, int64_t n);

}  // namespace cppformers::cpu
