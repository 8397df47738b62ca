#pragma once
#include <string>

namespace cppformers {

struct Device {
  enum Type { kCPU, kCUDA } type = kCPU;
  int index = 0;
  bool operator==(const Device&) const = default;
  std::string str() const { return type == kCPU ? "cpu" : "cuda:" + std::to_string(index); }
};
inline const Device kCPU{};

}  // namespace cppformers
