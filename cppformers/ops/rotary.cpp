#include "cppformers/ops/rotary.hpp"

#include "cppformers/autograd/node.hpp"

namespace cppformers::ops {

namespace {

// transpose=false: the rotation; true: its transpose (the backward with respect to x).
Tensor rotate(const Tensor& x0, const Tensor& cos0, const Tensor& sin0, bool transpose) {
  Tensor x = x0.dtype() == kF32 ? x0.detach() : x0.detach().to(kF32);
  Tensor c = cos0.detach().to(kF32).contiguous(), s = sin0.detach().to(kF32).contiguous();
  const int64_t B = x.size(0), H = x.size(1), S = x.size(2), D = x.size(3), R = c.size(2);
  const int64_t half = R / 2;
  const int64_t cb = c.size(0) == 1 ? 0 : S * R;  // broadcast a batch of 1
  const Shape& st = x.strides();
  Tensor y = Tensor::empty({B, H, S, D}, kF32);
  const float* px = static_cast<const float*>(x.raw_data());
  const float *pc = c.data<float>(), *ps = s.data<float>();
  float* py = y.data<float>();
#pragma omp parallel for collapse(2) if (B * H * S * D >= 32768) schedule(static)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < S; ++t) {
        const float* xr = px + b * st[0] + h * st[1] + t * st[2];
        const int64_t xs = st[3];
        const float* cr = pc + b * cb + t * R;
        const float* sr = ps + b * cb + t * R;
        float* yr = py + ((b * H + h) * S + t) * D;
        if (xs == 1) {  // the usual layout (head_dim contiguous): loops the compiler vectorises
          const float* __restrict x1 = xr;
          const float* __restrict x2 = xr + half;
          float* __restrict y1 = yr;
          float* __restrict y2 = yr + half;
          if (!transpose) {
#pragma omp simd
            for (int64_t i = 0; i < half; ++i) y1[i] = x1[i] * cr[i] - x2[i] * sr[i];
#pragma omp simd
            for (int64_t i = 0; i < half; ++i) y2[i] = x2[i] * cr[i + half] + x1[i] * sr[i + half];
          } else {
#pragma omp simd
            for (int64_t i = 0; i < half; ++i) y1[i] = x1[i] * cr[i] + x2[i] * sr[i + half];
#pragma omp simd
            for (int64_t i = 0; i < half; ++i) y2[i] = x2[i] * cr[i + half] - x1[i] * sr[i];
          }
        } else if (!transpose) {
          for (int64_t i = 0; i < half; ++i) {
            const float x1 = xr[i * xs], x2 = xr[(i + half) * xs];
            yr[i] = x1 * cr[i] + (-x2) * sr[i];
            yr[i + half] = x2 * cr[i + half] + x1 * sr[i + half];
          }
        } else {
          for (int64_t i = 0; i < half; ++i) {
            const float g1 = xr[i * xs], g2 = xr[(i + half) * xs];
            yr[i] = g1 * cr[i] + g2 * sr[i + half];
            yr[i + half] = g2 * cr[i + half] - g1 * sr[i];
          }
        }
        for (int64_t i = R; i < D; ++i) yr[i] = xr[i * xs];
      }
  return y;
}

}  // namespace

Tensor apply_rotary(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  if (x.dim() != 4) throw ValueError("apply_rotary: x must be [batch, heads, seq, head_dim], got " + shape_str(x.shape()));
  if (cos.dim() != 3 || cos.shape() != sin.shape())
    throw ValueError("apply_rotary: cos " + shape_str(cos.shape()) + " and sin " + shape_str(sin.shape()) +
                     " must both be [batch, seq, rotary_dim]");
  const int64_t R = cos.size(2);
  if (R % 2 || R > x.size(3) || cos.size(1) != x.size(2) || (cos.size(0) != 1 && cos.size(0) != x.size(0)))
    throw ValueError("apply_rotary: cos/sin " + shape_str(cos.shape()) + " do not fit x " + shape_str(x.shape()));
  Tensor y = rotate(x, cos, sin, false);
  if (autograd::needs_grad({&x}))
    autograd::record(y, "apply_rotary", {x}, [c = cos.detach(), s = sin.detach()](const Tensor& g) {
      return std::vector<Tensor>{rotate(g, c, s, true)};
    });
  return y;
}

}  // namespace cppformers::ops
