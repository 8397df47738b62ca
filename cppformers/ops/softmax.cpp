#include "cppformers/ops/softmax.hpp"

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/cpu/vec.hpp"
#include "cppformers/ops/cpu/vec_grad.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers::ops {

namespace {

// Applies a row kernel along `dim` (moved last, made contiguous), returning the result in x's layout.
template <class RowFn>
Tensor along_rows(const Tensor& x, int64_t dim, RowFn fn) {
  dim = normalize_dim(dim, x.dim(), "softmax");
  const int64_t last = std::max<int64_t>(x.dim() - 1, 0);
  Tensor xt = x.detach();
  if (xt.dtype() != kF32) xt = xt.to(kF32);
  if (x.dim() > 0 && dim != last) xt = xt.transpose(dim, last);
  xt = xt.contiguous();
  Tensor y = Tensor::empty(xt.shape(), kF32);
  const int64_t n = x.dim() ? xt.shape().back() : 1, rows = n ? xt.numel() / n : 0;
  const float* px = xt.data<float>();
  float* py = y.data<float>();
#pragma omp parallel for if (rows * n >= 16384) schedule(static)
  for (int64_t r = 0; r < rows; ++r) fn(px + r * n, py + r * n, n);
  if (x.dim() > 0 && dim != last) y = y.transpose(dim, last);
  return y;
}

// The gradient of y = softmax(scale * x + ...) along y's contiguous last dim:
// dx = scale * y * (g - sum(g * y)), one fused pass per row.
Tensor softmax_backward_rows(const Tensor& y, const Tensor& g, float scale) {
  const Tensor gc = (g.dtype() == kF32 ? g : g.to(kF32)).contiguous();
  Tensor dx = Tensor::empty(y.shape(), kF32);
  const int64_t n = y.size(-1), rows = n ? y.numel() / n : 0;
  const float *py = y.data<float>(), *pg = gc.data<float>();
  float* pd = dx.data<float>();
#pragma omp parallel for if (rows * n >= 16384) schedule(static)
  for (int64_t r = 0; r < rows; ++r) cpu::softmax_backward_row(py + r * n, pg + r * n, pd + r * n, n, scale);
  return dx;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor y = along_rows(x, dim, cpu::softmax_row);
  if (autograd::needs_grad({&x}))
    autograd::record(y, "softmax", {x}, [y = y.detach(), dim](const Tensor& g) {
      const int64_t d = normalize_dim(dim, y.dim(), "softmax");
      if (y.dim() > 0 && d == y.dim() - 1 && y.is_contiguous()) {
        // Along contiguous rows: dx = y * (g - sum(g * y)), one fused pass per row.
        return std::vector<Tensor>{softmax_backward_rows(y, g, 1.0f)};
      }
      Tensor gy = mul(g, y);
      return std::vector<Tensor>{sub(gy, mul(y, sum(gy, {dim}, true)))};
    });
  return y;
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor y = along_rows(x, dim, cpu::log_softmax_row);
  if (autograd::needs_grad({&x}))
    autograd::record(y, "log_softmax", {x}, [y = y.detach(), dim](const Tensor& g) {
      return std::vector<Tensor>{sub(g, mul(exp(y), sum(g, {dim}, true)))};
    });
  return y;
}

Tensor scaled_masked_softmax(const Tensor& x, double scale, const Tensor& bias) {
  if (x.dim() == 0) throw ValueError("scaled_masked_softmax: input must have at least 1 dim");
  const bool grad = autograd::needs_grad({&x, &bias});
  if (x.dtype() != kF32 || (grad && bias.defined() && bias.requires_grad())) {
    Tensor s = x * scale;
    return softmax(bias.defined() ? add(s, bias) : s, -1);
  }
  Tensor xc = x.contiguous();
  const int64_t n = x.size(-1), rows = n ? xc.numel() / n : 0;
  Tensor b;
  Shape bst;
  if (bias.defined()) {
    b = (bias.dtype() == kF32 ? bias : bias.to(kF32)).expand(x.shape());
    if (b.strides().back() != 1 && n > 1) b = b.contiguous();
    bst = b.strides();
  }
  Tensor y = Tensor::empty(x.shape(), kF32);
  const float* px = xc.data<float>();
  const float* pb = b.defined() ? static_cast<const float*>(b.raw_data()) : nullptr;
  float* py = y.data<float>();
  const Shape& sh = x.shape();
  const int64_t nd = x.dim();
#pragma omp parallel for if (rows * n >= 16384) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* brow = nullptr;
    if (pb) {  // the bias row of this (flattened) row index
      int64_t rem = r, off = 0;
      for (int64_t d = nd - 2; d >= 0; --d) {
        off += (rem % sh[d]) * bst[d];
        rem /= sh[d];
      }
      brow = pb + off;
    }
    cpu::scaled_softmax_row(px + r * n, brow, float(scale), py + r * n, n);
  }
  if (grad)  // through x only (a bias that needs its gradient took the composed path above)
    autograd::record(y, "scaled_masked_softmax", {x}, [y = y.detach(), scale = float(scale)](const Tensor& g) {
      return std::vector<Tensor>{softmax_backward_rows(y, g, scale)};
    });
  return y;
}

}  // namespace cppformers::ops
