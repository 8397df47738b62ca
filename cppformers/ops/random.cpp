#include "cppformers/ops/random.hpp"

#include "cppformers/ops/elementwise.hpp"

namespace cppformers::ops {

Generator& default_generator() {
  static Generator g(0);
  return g;
}
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

Tensor normal(const Shape& shape, double mean, double stddev, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = Tensor::empty(shape, kF32);
  std::normal_distribution<float> dist{float(mean), float(stddev)};
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(g.engine());
  return t;
}
Tensor randn(const Shape& shape, Generator* gen) { return normal(shape, 0.0, 1.0, gen); }

Tensor rand(const Shape& shape, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = Tensor::empty(shape, kF32);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(g.engine());
  return t;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  if (p < 0 || p > 1) throw ValueError("dropout: probability must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0) return x;
  if (p == 1) return mul(x, Tensor::scalar(0.0));
  Tensor keep = ge(rand(x.shape(), gen), Tensor::scalar(p));
  Tensor mask = mul(keep.to(kF32), Tensor::scalar(1.0 / (1.0 - p)));
  return mul(x, mask);
}

}  // namespace cppformers::ops
