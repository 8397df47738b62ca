#include "cppformers/ops/rms_norm.hpp"

#include <cmath>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers::ops {

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps, double weight_offset) {
  if (x.dim() == 0) throw ValueError("rms_norm: input must have at least 1 dim");
  const int64_t n = x.size(-1);
  if (weight.defined() && (weight.dim() != 1 || weight.size(0) != n))
    throw ValueError("rms_norm: weight " + shape_str(weight.shape()) + " does not match input " + shape_str(x.shape()));
  Tensor xc = (x.dtype() == kF32 ? x.detach() : x.detach().to(kF32)).contiguous();
  // (weight + offset) in f32, as torch computes `1.0 + weight.float()`
  Tensor w;
  if (weight.defined()) {
    w = Tensor::empty({n}, kF32);
    Tensor wf = weight.detach().to(kF32).contiguous();
    const float* pw = wf.data<float>();
    float* pv = w.data<float>();
    for (int64_t i = 0; i < n; ++i) pv[i] = pw[i] + float(weight_offset);
  }
  const int64_t rows = n ? xc.numel() / n : 0;
  Tensor y = Tensor::empty(xc.shape(), kF32);
  Shape stat_shape = x.shape();
  stat_shape.back() = 1;
  Tensor rstd = Tensor::empty(stat_shape, kF32);
  const float* px = xc.data<float>();
  const float* pw = w.defined() ? w.data<float>() : nullptr;
  float *py = y.data<float>(), *pr = rstd.data<float>();
#pragma omp parallel for if (rows * n >= 16384) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = px + r * n;
    float* yr = py + r * n;
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(xr[i]) * xr[i];
    const float var = float(ss / double(n));
    const float rs = 1.0f / std::sqrt(var + float(eps));
    pr[r] = rs;
    if (pw) {
      for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] * rs) * pw[i];
    } else {
      for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * rs;
    }
  }
  if (autograd::needs_grad({&x, &weight}))
    autograd::record(y, "rms_norm", {x, weight}, [xc, w, rstd](const Tensor& g) {
      // y = x r w, r = (mean(x^2) + eps)^-1/2: dx = r (g w) - x r^3 mean(g w x); dw = sum(g x r)
      Tensor xhat = mul(xc, rstd);
      Tensor gw_in = w.defined() ? mul(g, w) : g;
      Tensor m = mean(mul(gw_in, xhat), {-1}, true);
      Tensor gx = mul(rstd, sub(gw_in, mul(xhat, m)));
      Tensor gw;
      if (w.defined()) {
        std::vector<int64_t> lead;
        for (int64_t d = 0; d + 1 < xc.dim(); ++d) lead.push_back(d);
        gw = lead.empty() ? mul(g, xhat) : sum(mul(g, xhat), lead);
      }
      return std::vector<Tensor>{gx, gw};
    });
  return y;
}

}  // namespace cppformers::ops
