#pragma once
// Element types. Compute happens in f32 (floats) and i64 (integers); f16/bf16 are storage types
// that widen to f32 exactly, as torch does when a checkpoint is upcast.
#include <cstdint>
#include <cstring>
#include <string>

namespace cppformers {

enum class DType : uint8_t { kF32, kF16, kBF16, kF64, kI64, kI32, kU8, kBool };
inline constexpr DType kF32 = DType::kF32, kF16 = DType::kF16, kBF16 = DType::kBF16,
                       kF64 = DType::kF64, kI64 = DType::kI64, kI32 = DType::kI32,
                       kU8 = DType::kU8, kBool = DType::kBool;

size_t dtype_size(DType t);
const char* dtype_name(DType t);          // "float32", "bfloat16", ... (torch's names)
bool is_floating(DType t);
// safetensors dtype strings ("F32", "BF16", ...); from_safetensors returns false if unknown.
const char* dtype_to_safetensors(DType t);
bool dtype_from_safetensors(const std::string& s, DType* out);

// IEEE half and bfloat16 <-> float, bit-exact widening; narrowing rounds to nearest even.
inline float bf16_to_f32(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace cppformers
