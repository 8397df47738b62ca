#include "cppformers/ops/norm.hpp"

#include <algorithm>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/cpu/vec.hpp"
#include "cppformers/ops/cpu/vec_grad.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers::ops {

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  if (x.dim() == 0) throw ValueError("layer_norm: input must have at least 1 dim");
  const int64_t n = x.size(-1);
  for (const Tensor* p : {&weight, &bias})
    if (p->defined() && (p->dim() != 1 || p->size(0) != n))
      throw ValueError("layer_norm: weight/bias " + shape_str(p->shape()) + " do not match input " +
                       shape_str(x.shape()));
  Tensor xc = (x.dtype() == kF32 ? x.detach() : x.detach().to(kF32)).contiguous();
  Tensor w = weight.defined() ? weight.detach().to(kF32).contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().to(kF32).contiguous() : Tensor();
  const int64_t rows = n ? xc.numel() / n : 0;
  Tensor y = Tensor::empty(xc.shape(), kF32);
  Shape stat_shape = x.shape();
  stat_shape.back() = 1;
  Tensor mean = Tensor::empty(stat_shape, kF32), rstd = Tensor::empty(stat_shape, kF32);
  const float* px = xc.data<float>();
  const float* pw = w.defined() ? w.data<float>() : nullptr;
  const float* pb = b.defined() ? b.data<float>() : nullptr;
  float *py = y.data<float>(), *pm = mean.data<float>(), *pr = rstd.data<float>();
#pragma omp parallel for if (rows * n >= 16384) schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    cpu::layer_norm_row(px + r * n, pw, pb, py + r * n, n, float(eps), pm + r, pr + r);
  if (autograd::needs_grad({&x, &weight, &bias}))
    autograd::record(y, "layer_norm", {x, weight, bias},
                     [xc, w, mean, rstd, has_w = weight.defined(), has_b = bias.defined()](const Tensor& g) {
                       const int64_t n = xc.size(-1), rows = n ? xc.numel() / n : 0;
                       const Tensor gc = (g.dtype() == kF32 ? g : g.to(kF32)).contiguous();
                       const float *px = xc.data<float>(), *pg = gc.data<float>();
                       const float *pm = mean.data<float>(), *pr = rstd.data<float>();
                       const float* pw = has_w ? w.data<float>() : nullptr;
                       // dx, row by row (one fused pass for the two means, one for dx).
                       Tensor gx = Tensor::empty(xc.shape(), kF32);
                       float* pgx = gx.data<float>();
#pragma omp parallel for if (rows * n >= 16384) schedule(static)
                       for (int64_t r = 0; r < rows; ++r)
                         cpu::layer_norm_backward_row(px + r * n, pg + r * n, pw, pm[r], pr[r], pgx + r * n, n);
                       // dw = sum over rows of g * xhat, db = sum over rows of g: threads split the
                       // columns and add the rows in order in double, so the sums do not depend on
                       // the thread count.
                       Tensor gw = has_w ? Tensor::empty({n}, kF32) : Tensor();
                       Tensor gb = has_b ? Tensor::empty({n}, kF32) : Tensor();
                       if (has_w || has_b) {
                         float* pgw = has_w ? gw.data<float>() : nullptr;
                         float* pgb = has_b ? gb.data<float>() : nullptr;
                         constexpr int64_t kChunk = 64;
                         const int64_t nchunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for if (rows * n >= 65536 && nchunks > 1) schedule(static)
                         for (int64_t c = 0; c < nchunks; ++c) {
                           const int64_t lo = c * kChunk, len = std::min(kChunk, n - lo);
                           double aw[kChunk] = {0}, ab[kChunk] = {0};
                           for (int64_t r = 0; r < rows; ++r) {
                             const float* xr = px + r * n + lo;
                             const float* gr = pg + r * n + lo;
                             const float m = pm[r], rs = pr[r];
                             if (pgw) {
                               float prod[kChunk];
                               for (int64_t i = 0; i < len; ++i) prod[i] = gr[i] * ((xr[i] - m) * rs);
                               cpu::accumulate_f64(prod, aw, len);
                             }
                             if (pgb) cpu::accumulate_f64(gr, ab, len);
                           }
                           for (int64_t i = 0; i < len; ++i) {
                             if (pgw) pgw[lo + i] = float(aw[i]);
                             if (pgb) pgb[lo + i] = float(ab[i]);
                           }
                         }
                       }
                       return std::vector<Tensor>{gx, gw, gb};
                     });
  return y;
}

}  // namespace cppformers::ops
