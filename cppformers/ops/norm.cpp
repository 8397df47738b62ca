#include "cppformers/ops/norm.hpp"

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/cpu/vec.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers::ops {

static Tensor mean_last(const Tensor& t) { return mean(t, {-1}, true); }

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
                       const int64_t n = xc.size(-1);
                       Tensor xhat = mul(sub(xc, mean), rstd);
                       Tensor dxhat = has_w ? mul(g, w) : g;
                       Tensor m1 = mean_last(dxhat), m2 = mean_last(mul(dxhat, xhat));
                       Tensor gx = mul(rstd, sub(sub(dxhat, m1), mul(xhat, m2)));
                       std::vector<int64_t> lead;
                       for (int64_t d = 0; d + 1 < xc.dim(); ++d) lead.push_back(d);
                       Tensor gw = has_w ? (lead.empty() ? mul(g, xhat) : sum(mul(g, xhat), lead)) : Tensor();
                       Tensor gb = has_b ? (lead.empty() ? g : sum(g, lead)) : Tensor();
                       (void)n;
                       return std::vector<Tensor>{gx, gw, gb};
                     });
  return y;
}

}  // namespace cppformers::ops
