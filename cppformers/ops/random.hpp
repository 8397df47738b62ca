#pragma once
// Random numbers: a seedable generator (not torch's bit stream; reproducible within cppformers),
// and the ops that draw from it.
#include <cstdint>
#include <random>

#include "cppformers/core/tensor.hpp"

namespace cppformers::ops {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  void manual_seed(uint64_t seed) { engine_.seed(seed); }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

// The process-wide default generator (cppformers::manual_seed sets it).
Generator& default_generator();
void manual_seed(uint64_t seed);

Tensor randn(const Shape& shape, Generator* gen = nullptr);                 // N(0, 1)
Tensor rand(const Shape& shape, Generator* gen = nullptr);                  // U[0, 1)
Tensor normal(const Shape& shape, double mean, double stddev, Generator* gen = nullptr);
// Zeroes each element with probability p and scales the rest by 1/(1-p) when training;
// the identity otherwise (and when p == 0). The mask comes from a counter-based generator
// (splitmix64 over the element index) keyed by one draw from `gen`, so each call advances
// `gen` by one draw.
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

}  // namespace cppformers::ops
