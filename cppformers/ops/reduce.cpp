#include "cppformers/ops/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/cpu/vec_grad.hpp"
#include "cppformers/ops/elementwise.hpp"

namespace cppformers::ops {

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t n = std::max<int64_t>(ndim, 1);
  if (dim < -n || dim >= n)
    throw ValueError(std::string(op) + ": dim " + std::to_string(dim) + " out of range for a " +
                     std::to_string(ndim) + "-d tensor");
  return dim < 0 ? dim + n : dim;
}

namespace {

// x viewed as [outer, n, inner] along `dim`, contiguous, in f32 (or i64 for integers).
struct Rows {
  Tensor x;
  int64_t outer, n, inner;
};
Rows as_rows(const Tensor& x0, int64_t dim, DType dt) {
  Tensor x = (x0.dtype() == dt ? x0 : x0.detach().to(dt)).contiguous();
  Rows r{x, 1, 1, 1};
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < dim) r.outer *= x.shape()[d];
    else if (d == dim) r.n = x.shape()[d];
    else r.inner *= x.shape()[d];
  }
  return r;
}

Shape reduced_shape(const Shape& s, int64_t dim, bool keepdim) {
  Shape out = s;
  if (out.empty()) return out;
  if (keepdim) out[dim] = 1;
  else out.erase(out.begin() + dim);
  return out;
}

template <class T, class Acc>
Tensor sum_dim(const Tensor& x, int64_t dim, bool keepdim, DType dt) {
  Rows r = as_rows(x, dim, dt);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dim, keepdim), dt);
  const T* px = r.x.data<T>();
  T* po = out.data<T>();
  const bool parallel = r.outer * r.n * r.inner >= 65536;
  if (r.inner == 1) {
#pragma omp parallel for if (parallel) schedule(static)
    for (int64_t o = 0; o < r.outer; ++o) {
      Acc acc = 0;
      const T* row = px + o * r.n;
      for (int64_t k = 0; k < r.n; ++k) acc += row[k];
      po[o] = T(acc);
    }
    return out;
  }
  // Columns in blocks, so that the threads share the work even when outer is 1 (a bias
  // gradient); each element is still summed over k in order.
  constexpr int64_t kBlock = 256;
  const int64_t nblocks = (r.inner + kBlock - 1) / kBlock;
#pragma omp parallel for collapse(2) if (parallel) schedule(static)
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t b = 0; b < nblocks; ++b) {
      const int64_t lo = b * kBlock, len = std::min(kBlock, r.inner - lo);
      Acc acc[kBlock] = {};
      for (int64_t k = 0; k < r.n; ++k) {
        const T* row = px + (o * r.n + k) * r.inner + lo;
        if constexpr (std::is_same_v<T, float> && std::is_same_v<Acc, double>) cpu::accumulate_f64(row, acc, len);
        else for (int64_t i = 0; i < len; ++i) acc[i] += row[i];
      }
      for (int64_t i = 0; i < len; ++i) po[o * r.inner + lo + i] = T(acc[i]);
    }
  return out;
}

std::vector<int64_t> normalized_dims(std::vector<int64_t> dims, int64_t ndim, const char* op) {
  if (dims.empty())
    for (int64_t d = 0; d < ndim; ++d) dims.push_back(d);
  for (auto& d : dims) d = normalize_dim(d, ndim, op);
  std::sort(dims.begin(), dims.end());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  return dims;
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> dims0, bool keepdim) {
  const std::vector<int64_t> dims = normalized_dims(dims0, x.dim(), "sum");
  const DType dt = is_floating(x.dtype()) ? kF32 : kI64;
  Tensor y = x.detach();
  if (x.dim() == 0) {
    y = y.to(dt).contiguous().clone();
  } else {
    for (auto it = dims.rbegin(); it != dims.rend(); ++it)  // last first, so indices stay valid
      y = dt == kF32 ? sum_dim<float, double>(y, *it, keepdim, dt)
                     : sum_dim<int64_t, int64_t>(y, *it, keepdim, dt);
  }
  if (autograd::needs_grad({&x}))
    autograd::record(y, "sum", {x}, [shape = x.shape(), dims, keepdim](const Tensor& g) {
      Tensor gg = g;
      if (!keepdim)
        for (int64_t d : dims) gg = gg.unsqueeze(d);
      return std::vector<Tensor>{gg.expand(shape).contiguous()};
    });
  return y;
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims0, bool keepdim) {
  const std::vector<int64_t> dims = normalized_dims(dims0, x.dim(), "mean");
  int64_t count = 1;
  for (int64_t d : dims) count *= x.dim() ? x.shape()[d] : 1;
  return sum(x.dtype() == kF32 ? x : x.to(kF32), dims, keepdim) * (1.0 / double(count));
}

Tensor amax(const Tensor& x, int64_t dim0, bool keepdim) {
  const int64_t dim = normalize_dim(dim0, x.dim(), "amax");
  if (x.dim() && x.shape()[dim] == 0) throw ValueError("amax: reduction over an empty dim");
  const Tensor idx = argmax(x, dim, true);
  Rows r = as_rows(x, dim, kF32);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dim, keepdim), kF32);
  const float* px = r.x.data<float>();
  const int64_t* pi = idx.data<int64_t>();
  float* po = out.data<float>();
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t i = 0; i < r.inner; ++i)
      po[o * r.inner + i] = px[(o * r.n + pi[o * r.inner + i]) * r.inner + i];
  if (autograd::needs_grad({&x}))
    autograd::record(out, "amax", {x}, [shape = x.shape(), idx, dim, keepdim](const Tensor& g) {
      Tensor gg = keepdim ? g : g.unsqueeze(dim);
      Tensor ar = Tensor::arange(shape.empty() ? 1 : shape[dim]);
      Shape ash(shape.size(), 1);
      if (!shape.empty()) ash[dim] = shape[dim];
      Tensor hit = eq(ar.view(ash), idx);  // [.., n, ..] one-hot of the argmax
      return std::vector<Tensor>{where(hit, gg, Tensor::scalar(0.0))};
    });
  return out;
}

Tensor argmax(const Tensor& x, int64_t dim0, bool keepdim) {
  const int64_t dim = normalize_dim(dim0, x.dim(), "argmax");
  Rows r = as_rows(x, dim, kF32);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dim, keepdim), kI64);
  const float* px = r.x.data<float>();
  int64_t* po = out.data<int64_t>();
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t i = 0; i < r.inner; ++i) {
      int64_t best = 0;
      float bv = px[o * r.n * r.inner + i];
      for (int64_t k = 1; k < r.n; ++k) {
        const float v = px[(o * r.n + k) * r.inner + i];
        if (v > bv || (std::isnan(v) && !std::isnan(bv))) { bv = v; best = k; }
      }
      po[o * r.inner + i] = best;
    }
  return out;
}

Tensor cumsum(const Tensor& x, int64_t dim0) {
  const int64_t dim = normalize_dim(dim0, x.dim(), "cumsum");
  const DType dt = is_floating(x.dtype()) ? kF32 : kI64;
  Rows r = as_rows(x, dim, dt);
  Tensor out = Tensor::empty(x.shape(), dt);
  auto run = [&](auto* po, const auto* px) {
    for (int64_t o = 0; o < r.outer; ++o)
      for (int64_t i = 0; i < r.inner; ++i) {
        std::remove_const_t<std::remove_reference_t<decltype(*px)>> acc = 0;
        for (int64_t k = 0; k < r.n; ++k) {
          const int64_t at = (o * r.n + k) * r.inner + i;
          acc += px[at];
          po[at] = acc;
        }
      }
  };
  if (dt == kF32) run(out.data<float>(), r.x.data<float>());
  else run(out.data<int64_t>(), r.x.data<int64_t>());
  if (autograd::needs_grad({&x}))
    autograd::record(out, "cumsum", {x}, [dim](const Tensor& g) {
      // reverse cumulative sum: total - cumsum + g
      Tensor total = sum(g, {dim}, true);
      return std::vector<Tensor>{add(sub(total, cumsum(g, dim)), g)};
    });
  return out;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  std::vector<int64_t> dims;
  const int64_t lead = g.dim() - int64_t(shape.size());
  for (int64_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) dims.push_back(d);
  Tensor s = dims.empty() ? g : sum(g, dims, true);
  return s.reshape(shape);
}

}  // namespace cppformers::ops
