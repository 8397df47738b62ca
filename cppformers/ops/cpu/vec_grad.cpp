// Highway kernels for backward passes and optimizers; compiled once per SIMD target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cppformers/ops/cpu/vec_grad.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include <cmath>

#include "cppformers/ops/cpu/vec_grad.hpp"

HWY_BEFORE_NAMESPACE();
namespace cppformers::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Calls body(i, count) for each vector's worth of n elements: full vectors, then the tail.
template <class D, class Body>
HWY_INLINE void ForEachVector(D d, int64_t n, Body body) {
  const int64_t L = int64_t(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L) body(i, L);
  if (i < n) body(i, n - i);
}

// Loads `count` elements (count <= lanes) from p, zero-filling the rest of the vector; stores
// the first `count` lanes of v. Partial vectors go through a buffer, so nothing past the end is
// touched.
template <class D>
HWY_INLINE hn::VFromD<D> LoadPart(D d, const float* p, int64_t count) {
  if (count == int64_t(hn::Lanes(d))) return hn::LoadU(d, p);
  alignas(64) float buf[64] = {0};
  for (int64_t j = 0; j < count; ++j) buf[j] = p[j];
  return hn::Load(d, buf);
}
template <class D, class V>
HWY_INLINE void StorePart(D d, V v, float* p, int64_t count) {
  if (count == int64_t(hn::Lanes(d))) return hn::StoreU(v, d, p);
  alignas(64) float buf[64];
  hn::Store(v, d, buf);
  for (int64_t j = 0; j < count; ++j) p[j] = buf[j];
}

void GeluBackwardImpl(const float* x, const float* g, float* dx, int64_t n, bool tanh_form) {
  const hn::ScalableTag<float> d;
  using V = hn::VFromD<decltype(d)>;
  const V one = hn::Set(d, 1.0f), half = hn::Set(d, 0.5f);
  ForEachVector(d, n, [&](int64_t i, int64_t cnt) {
    const V v = LoadPart(d, x + i, cnt), gv = LoadPart(d, g + i, cnt);
    V deriv;
    if (tanh_form) {
      // 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2), t = tanh(k (x + c x^3))
      const V k = hn::Set(d, 0.7978845608028654f), c = hn::Set(d, 0.044715f);
      const V x2 = hn::Mul(v, v);
      const V t = hn::Tanh(d, hn::Mul(k, hn::MulAdd(hn::Mul(c, x2), v, v)));
      const V dinner = hn::Mul(k, hn::MulAdd(hn::Set(d, 3 * 0.044715f), x2, one));
      const V sech2 = hn::NegMulAdd(t, t, one);
      deriv = hn::MulAdd(hn::Mul(hn::Mul(half, v), sech2), dinner, hn::Mul(half, hn::Add(one, t)));
    } else {
      // Phi(x) + x phi(x): erf(x / sqrt 2) by Abramowitz & Stegun 7.1.26 (as the forward), whose
      // exp(-x^2 / 2) is phi's as well.
      const V z = hn::Mul(v, hn::Set(d, 0.70710678118654752f));
      const V az = hn::Abs(z);
      const V t = hn::Div(one, hn::MulAdd(hn::Set(d, 0.3275911f), az, one));
      V p = hn::Set(d, 1.061405429f);
      p = hn::MulAdd(p, t, hn::Set(d, -1.453152027f));
      p = hn::MulAdd(p, t, hn::Set(d, 1.421413741f));
      p = hn::MulAdd(p, t, hn::Set(d, -0.284496736f));
      p = hn::MulAdd(p, t, hn::Set(d, 0.254829592f));
      p = hn::Mul(p, t);
      const V e = hn::Exp(d, hn::Neg(hn::Mul(z, z)));
      const V erf = hn::CopySign(hn::NegMulAdd(p, e, one), z);
      const V cdf = hn::Mul(half, hn::Add(one, erf));
      const V pdf = hn::Mul(e, hn::Set(d, 0.3989422804014327f));
      deriv = hn::MulAdd(v, pdf, cdf);
    }
    StorePart(d, hn::Mul(gv, deriv), dx + i, cnt);
  });
}

void SoftmaxBackwardRowImpl(const float* y, const float* g, float* dx, int64_t n, float scale) {
  const hn::ScalableTag<float> d;
  using V = hn::VFromD<decltype(d)>;
  V acc = hn::Zero(d);
  ForEachVector(d, n, [&](int64_t i, int64_t cnt) {
    acc = hn::MulAdd(LoadPart(d, g + i, cnt), LoadPart(d, y + i, cnt), acc);
  });
  const V dot = hn::Set(d, hn::GetLane(hn::SumOfLanes(d, acc)));
  ForEachVector(d, n, [&](int64_t i, int64_t cnt) {
    const V yv = LoadPart(d, y + i, cnt);
    V r = hn::Mul(yv, hn::Sub(LoadPart(d, g + i, cnt), dot));
    if (scale != 1.0f) r = hn::Mul(r, hn::Set(d, scale));
    StorePart(d, r, dx + i, cnt);
  });
}

void LayerNormBackwardRowImpl(const float* x, const float* g, const float* w, float mean, float rstd,
                              float* dx, int64_t n) {
  const hn::ScalableTag<float> d;
  using V = hn::VFromD<decltype(d)>;
  const V vm = hn::Set(d, mean), vr = hn::Set(d, rstd);
  V s1 = hn::Zero(d), s2 = hn::Zero(d);
  ForEachVector(d, n, [&](int64_t i, int64_t cnt) {
    const V xhat = hn::Mul(hn::Sub(LoadPart(d, x + i, cnt), vm), vr);
    V dxhat = LoadPart(d, g + i, cnt);
    if (w) dxhat = hn::Mul(dxhat, LoadPart(d, w + i, cnt));
    s1 = hn::Add(s1, dxhat);
    s2 = hn::MulAdd(dxhat, xhat, s2);
  });
  const float inv_n = 1.0f / float(n);
  const V m1 = hn::Set(d, hn::GetLane(hn::SumOfLanes(d, s1)) * inv_n);
  const V m2 = hn::Set(d, hn::GetLane(hn::SumOfLanes(d, s2)) * inv_n);
  ForEachVector(d, n, [&](int64_t i, int64_t cnt) {
    const V xhat = hn::Mul(hn::Sub(LoadPart(d, x + i, cnt), vm), vr);
    V dxhat = LoadPart(d, g + i, cnt);
    if (w) dxhat = hn::Mul(dxhat, LoadPart(d, w + i, cnt));
    StorePart(d, hn::Mul(vr, hn::NegMulAdd(xhat, m2, hn::Sub(dxhat, m1))), dx + i, cnt);
  });
}

void AccumulateF64Impl(const float* x, double* acc, int64_t n) {
  const hn::ScalableTag<double> dd;
  const hn::Rebind<float, decltype(dd)> df;  // as many floats as doubles
  const int64_t L = int64_t(hn::Lanes(dd));
  int64_t i = 0;
  for (; i + L <= n; i += L)
    hn::StoreU(hn::Add(hn::LoadU(dd, acc + i), hn::PromoteTo(dd, hn::LoadU(df, x + i))), dd, acc + i);
  for (; i < n; ++i) acc[i] += double(x[i]);
}

// Plain multiplies and adds (no fused multiply-add), so that every ISA and the scalar code
// before it round alike.
void AdamWUpdateImpl(float* p, const float* g, float* m, float* v, int64_t n, const AdamWStep& s) {
  const hn::ScalableTag<float> d;
  using V = hn::VFromD<decltype(d)>;
  const V decay = hn::Set(d, s.decay), b1 = hn::Set(d, s.b1), omb1 = hn::Set(d, s.one_minus_b1);
  const V b2 = hn::Set(d, s.b2), omb2 = hn::Set(d, s.one_minus_b2), nss = hn::Set(d, s.neg_step_size);
  const V bc2 = hn::Set(d, s.bc2_sqrt), eps = hn::Set(d, s.eps), sign = hn::Set(d, s.sign);
  ForEachVector(d, n, [&](int64_t i, int64_t cnt) {
    const V gk = hn::Mul(sign, LoadPart(d, g + i, cnt));
    const V pk = hn::Mul(LoadPart(d, p + i, cnt), decay);
    const V mk = hn::Add(hn::Mul(LoadPart(d, m + i, cnt), b1), hn::Mul(omb1, gk));
    const V vk = hn::Add(hn::Mul(LoadPart(d, v + i, cnt), b2), hn::Mul(hn::Mul(omb2, gk), gk));
    StorePart(d, mk, m + i, cnt);
    StorePart(d, vk, v + i, cnt);
    const V denom = hn::Add(hn::Div(hn::Sqrt(vk), bc2), eps);
    StorePart(d, hn::Add(pk, hn::Mul(nss, hn::Div(mk, denom))), p + i, cnt);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace cppformers::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace cppformers::cpu {
HWY_EXPORT(GeluBackwardImpl);
HWY_EXPORT(SoftmaxBackwardRowImpl);
HWY_EXPORT(LayerNormBackwardRowImpl);
HWY_EXPORT(AdamWUpdateImpl);
HWY_EXPORT(AccumulateF64Impl);

void gelu_backward(const float* x, const float* g, float* dx, int64_t n, bool tanh_form) {
  HWY_DYNAMIC_DISPATCH(GeluBackwardImpl)(x, g, dx, n, tanh_form);
}
void softmax_backward_row(const float* y, const float* g, float* dx, int64_t n, float scale) {
  HWY_DYNAMIC_DISPATCH(SoftmaxBackwardRowImpl)(y, g, dx, n, scale);
}
void layer_norm_backward_row(const float* x, const float* g, const float* w, float mean, float rstd,
                             float* dx, int64_t n) {
  HWY_DYNAMIC_DISPATCH(LayerNormBackwardRowImpl)(x, g, w, mean, rstd, dx, n);
}
void accumulate_f64(const float* x, double* acc, int64_t n) { HWY_DYNAMIC_DISPATCH(AccumulateF64Impl)(x, acc, n); }
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamWStep& s) {
  HWY_DYNAMIC_DISPATCH(AdamWUpdateImpl)(p, g, m, v, n, s);
}
}  // namespace cppformers::cpu
#endif  // HWY_ONCE
