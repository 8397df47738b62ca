#include "cppformers/ops/random.hpp"

#include <algorithm>
#include <cmath>

#include "cppformers/autograd/node.hpp"
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

namespace {

// The dropout mask is counter-based: element i (in row-major order) is kept when the 32-bit
// half (i & 1) of splitmix64's output number i / 2 of the stream `key` is >= threshold. One
// call draws one key from the generator, so the generator's state (and a checkpoint of it)
// moves by one draw per call whatever the size, and the backward recomputes the mask from the
// key instead of keeping it.
inline uint64_t splitmix64(uint64_t key, uint64_t counter) {
  uint64_t z = key + (counter + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// y[i] = x[i] * (kept(i) ? scale : 0) for the n elements from `first` (even) on.
void dropout_span(const float* x, float* y, int64_t first, int64_t n, uint64_t key, uint32_t threshold,
                  float scale) {
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    const uint64_t r = splitmix64(key, uint64_t(first + i) >> 1);
    y[i] = x[i] * (uint32_t(r) >= threshold ? scale : 0.0f);
    y[i + 1] = x[i + 1] * (uint32_t(r >> 32) >= threshold ? scale : 0.0f);
  }
  if (i < n) y[i] = x[i] * (uint32_t(splitmix64(key, uint64_t(first + i) >> 1)) >= threshold ? scale : 0.0f);
}

void dropout_apply(const float* x, float* y, int64_t n, uint64_t key, uint32_t threshold, float scale) {
  const int64_t chunk = 16384, nchunks = (n + chunk - 1) / chunk;  // even, so chunks start on pairs
#pragma omp parallel for if (n >= 65536) schedule(static)
  for (int64_t c = 0; c < nchunks; ++c)
    dropout_span(x + c * chunk, y + c * chunk, c * chunk, std::min(chunk, n - c * chunk), key, threshold, scale);
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  if (p < 0 || p > 1) throw ValueError("dropout: probability must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0) return x;
  if (p == 1) return mul(x, Tensor::scalar(0.0));
  Generator& g = gen ? *gen : default_generator();
  const uint64_t key = g.engine()();
  // keep with probability 1 - p: u >= p * 2^32 for u uniform over 32 bits
  const uint32_t threshold = uint32_t(std::min(std::llround(p * 4294967296.0), 4294967295LL));
  const float scale = float(1.0 / (1.0 - p));
  const Tensor xc = (x.dtype() == kF32 ? x.detach() : x.detach().to(kF32)).contiguous();
  Tensor y = Tensor::empty(xc.shape(), kF32);
  dropout_apply(xc.data<float>(), y.data<float>(), xc.numel(), key, threshold, scale);
  if (autograd::needs_grad({&x}))
    autograd::record(y, "dropout", {x}, [key, threshold, scale](const Tensor& grad) {
      const Tensor gc = (grad.dtype() == kF32 ? grad : grad.to(kF32)).contiguous();
      Tensor dx = Tensor::empty(gc.shape(), kF32);
      dropout_apply(gc.data<float>(), dx.data<float>(), gc.numel(), key, threshold, scale);
      return std::vector<Tensor>{dx};
    });
  return y;
}

}  // namespace cppformers::ops
