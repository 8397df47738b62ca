#include "cppformers/core/dtype.hpp"

namespace cppformers {

size_t dtype_size(DType t) {
  switch (t) {
    case kF64: case kI64: return 8;
    case kF32: case kI32: return 4;
    case kF16: case kBF16: return 2;
    case kU8: case kBool: return 1;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case kF32: return "float32";
    case kF16: return "float16";
    case kBF16: return "bfloat16";
    case kF64: return "float64";
    case kI64: return "int64";
    case kI32: return "int32";
    case kU8: return "uint8";
    case kBool: return "bool";
  }
  return "?";
}

bool is_floating(DType t) { return t == kF32 || t == kF16 || t == kBF16 || t == kF64; }

const char* dtype_to_safetensors(DType t) {
  switch (t) {
    case kF32: return "F32";
    case kF16: return "F16";
    case kBF16: return "BF16";
    case kF64: return "F64";
    case kI64: return "I64";
    case kI32: return "I32";
    case kU8: return "U8";
    case kBool: return "BOOL";
  }
  return "?";
}

bool dtype_from_safetensors(const std::string& s, DType* out) {
  static const struct { const char* name; DType t; } table[] = {
      {"F32", kF32}, {"F16", kF16}, {"BF16", kBF16}, {"F64", kF64}, {"I64", kI64},
      {"I32", kI32}, {"U8", kU8}, {"BOOL", kBool}};
  for (auto& e : table)
    if (s == e.name) { *out = e.t; return true; }
  return false;
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do { ++e; man <<= 1; } while (!(man & 0x400));
      u = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000 | man << 13;
  } else {
    u = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000;
  int32_t exp = int32_t((u >> 23) & 0xff) - 127 + 15;
  uint32_t man = u & 0x7fffff;
  if (((u >> 23) & 0xff) == 0xff) return uint16_t(sign | 0x7c00 | (man ? 0x200 : 0));
  if (exp >= 31) return uint16_t(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return uint16_t(sign);
    man |= 0x800000;
    uint32_t shift = uint32_t(14 - exp);
    uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = sign | uint32_t(exp) << 10 | man >> 13, rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;
  return uint16_t(half);
}

}  // namespace cppformers
