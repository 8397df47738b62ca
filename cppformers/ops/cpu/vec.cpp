// Highway kernels; this file is compiled once per SIMD target (foreach_target.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cppformers/ops/cpu/vec.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include <cmath>

#include "cppformers/ops/cpu/vec.hpp"

HWY_BEFORE_NAMESPACE();
namespace cppformers::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), odd-extended.
template <class D, class V>
HWY_INLINE V Erf(D d, V x) {
  const V ax = hn::Abs(x);
  const V t = hn::Div(hn::Set(d, 1.0f), hn::MulAdd(hn::Set(d, 0.3275911f), ax, hn::Set(d, 1.0f)));
  V p = hn::Set(d, 1.061405429f);
  p = hn::MulAdd(p, t, hn::Set(d, -1.453152027f));
  p = hn::MulAdd(p, t, hn::Set(d, 1.421413741f));
  p = hn::MulAdd(p, t, hn::Set(d, -0.284496736f));
  p = hn::MulAdd(p, t, hn::Set(d, 0.254829592f));
  p = hn::Mul(p, t);
  const V e = hn::Exp(d, hn::Neg(hn::Mul(ax, ax)));
  const V r = hn::NegMulAdd(p, e, hn::Set(d, 1.0f));
  return hn::CopySign(r, x);
}

template <class D, class V>
HWY_INLINE V Apply(D d, Unary op, V x) {
  switch (op) {
    case Unary::kExp: return hn::Exp(d, x);
    case Unary::kLog: return hn::Log(d, x);
    case Unary::kTanh: return hn::Tanh(d, x);
    case Unary::kSigmoid:
      return hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), hn::Exp(d, hn::Neg(x))));
    case Unary::kGeluErf:
      return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x),
                     hn::Add(hn::Set(d, 1.0f), Erf(d, hn::Mul(x, hn::Set(d, 0.70710678118654752f)))));
    case Unary::kGeluTanh: {
      const V inner = hn::Mul(hn::Set(d, 0.7978845608028654f),
                              hn::MulAdd(hn::Mul(hn::Set(d, 0.044715f), hn::Mul(x, x)), x, x));
      return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x), hn::Add(hn::Set(d, 1.0f), hn::Tanh(d, inner)));
    }
    case Unary::kSilu:
      return hn::Div(x, hn::Add(hn::Set(d, 1.0f), hn::Exp(d, hn::Neg(x))));
    case Unary::kRelu: return hn::Max(x, hn::Zero(d));
    case Unary::kSqrt: return hn::Sqrt(x);
    case Unary::kRsqrt: return hn::Div(hn::Set(d, 1.0f), hn::Sqrt(x));
  }
  return x;
}

void UnaryImpl(Unary op, const float* HWY_RESTRICT x, float* HWY_RESTRICT y, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L) hn::StoreU(Apply(d, op, hn::LoadU(d, x + i)), d, y + i);
  if (i < n) {
    alignas(64) float buf[64] = {0};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    hn::Store(Apply(d, op, hn::Load(d, buf)), d, buf);
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

float RowMax(const float* x, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  auto m = hn::Set(d, -INFINITY);
  int64_t i = 0;
  for (; i + L <= n; i += L) m = hn::Max(m, hn::LoadU(d, x + i));
  float r = hn::GetLane(hn::MaxOfLanes(d, m));
  for (; i < n; ++i) r = std::max(r, x[i]);
  return r;
}

// y = exp(x - shift); returns the sum of y.
float ExpShiftSum(const float* x, float* y, int64_t n, float shift) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  const auto s = hn::Set(d, shift);
  auto acc = hn::Zero(d);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, x + i), s));
    hn::StoreU(e, d, y + i);
    acc = hn::Add(acc, e);
  }
  float sum = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

void Scale(float* y, int64_t n, float a, float b) {  // y = y * a + b
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L)
    hn::StoreU(hn::MulAdd(hn::LoadU(d, y + i), hn::Set(d, a), hn::Set(d, b)), d, y + i);
  for (; i < n; ++i) y[i] = y[i] * a + b;
}

void SoftmaxRowImpl(const float* x, float* y, int64_t n) {
  const float m = RowMax(x, n);
  if (m == -INFINITY) {  // a fully masked row: torch gives NaN; keep it defined
    for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / float(n);
    return;
  }
  const float sum = ExpShiftSum(x, y, n, m);
  Scale(y, n, 1.0f / sum, 0.0f);
}

void ScaledSoftmaxRowImpl(const float* x, const float* bias, float scale, float* y, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  const auto vs = hn::Set(d, scale);
  auto m = hn::Set(d, -INFINITY);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    auto t = hn::Mul(hn::LoadU(d, x + i), vs);
    if (bias) t = hn::Add(t, hn::LoadU(d, bias + i));
    hn::StoreU(t, d, y + i);
    m = hn::Max(m, t);
  }
  float mx = hn::GetLane(hn::MaxOfLanes(d, m));
  for (; i < n; ++i) {
    y[i] = x[i] * scale + (bias ? bias[i] : 0.0f);
    mx = std::max(mx, y[i]);
  }
  if (mx == -INFINITY) {
    for (int64_t j = 0; j < n; ++j) y[j] = 1.0f / float(n);
    return;
  }
  const float sum = ExpShiftSum(y, y, n, mx);
  Scale(y, n, 1.0f / sum, 0.0f);
}

// y[t] = a . B[t, :] for t < T: rows of n floats at stride ldb (attention scores of one query).
void DotRowsImpl(const float* a, const float* b, int64_t ldb, int64_t T, int64_t n, float* y) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  for (int64_t t = 0; t < T; ++t) {
    const float* row = b + t * ldb;
    auto a0 = hn::Zero(d), a1 = hn::Zero(d);
    int64_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
      a0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, row + i), a0);
      a1 = hn::MulAdd(hn::LoadU(d, a + i + L), hn::LoadU(d, row + i + L), a1);
    }
    for (; i + L <= n; i += L) a0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, row + i), a0);
    float s = hn::GetLane(hn::SumOfLanes(d, hn::Add(a0, a1)));
    for (; i < n; ++i) s += a[i] * row[i];
    y[t] = s;
  }
}

// y[:] = sum_t w[t] B[t, :] over rows of n floats at stride ldb (one query's context).
void WeightedRowSumImpl(const float* w, const float* b, int64_t ldb, int64_t T, int64_t n, float* y) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    auto c0 = hn::Zero(d), c1 = hn::Zero(d), c2 = hn::Zero(d), c3 = hn::Zero(d);
    for (int64_t t = 0; t < T; ++t) {
      const float* row = b + t * ldb + i;
      const auto wt = hn::Set(d, w[t]);
      c0 = hn::MulAdd(wt, hn::LoadU(d, row), c0);
      c1 = hn::MulAdd(wt, hn::LoadU(d, row + L), c1);
      c2 = hn::MulAdd(wt, hn::LoadU(d, row + 2 * L), c2);
      c3 = hn::MulAdd(wt, hn::LoadU(d, row + 3 * L), c3);
    }
    hn::StoreU(c0, d, y + i), hn::StoreU(c1, d, y + i + L);
    hn::StoreU(c2, d, y + i + 2 * L), hn::StoreU(c3, d, y + i + 3 * L);
  }
  for (; i + L <= n; i += L) {
    auto c = hn::Zero(d);
    for (int64_t t = 0; t < T; ++t) c = hn::MulAdd(hn::Set(d, w[t]), hn::LoadU(d, b + t * ldb + i), c);
    hn::StoreU(c, d, y + i);
  }
  for (; i < n; ++i) {
    float c = 0;
    for (int64_t t = 0; t < T; ++t) c += w[t] * b[t * ldb + i];
    y[i] = c;
  }
}

void LogSoftmaxRowImpl(const float* x, float* y, int64_t n) {
  const float m = RowMax(x, n);
  const float sum = ExpShiftSum(x, y, n, m);
  // (x - max) - log(sum), in this order as torch does: folding max + log(sum) into one constant
  // first loses digits when the logits are large
  const float log_sum = std::log(sum);
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L)
    hn::StoreU(hn::Sub(hn::Sub(hn::LoadU(d, x + i), hn::Set(d, m)), hn::Set(d, log_sum)), d, y + i);
  for (; i < n; ++i) y[i] = (x[i] - m) - log_sum;
}

void LayerNormRowImpl(const float* x, const float* w, const float* b, float* y, int64_t n,
                      float eps, float* mean_out, float* rstd_out) {
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  // two passes (mean, then centred variance) as torch does, for the same rounding behaviour
  auto acc = hn::Zero(d);
  int64_t i = 0;
  for (; i + L <= n; i += L) acc = hn::Add(acc, hn::LoadU(d, x + i));
  double sum = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) sum += x[i];
  const float mean = float(sum / double(n));
  const auto vm = hn::Set(d, mean);
  acc = hn::Zero(d);
  for (i = 0; i + L <= n; i += L) {
    auto c = hn::Sub(hn::LoadU(d, x + i), vm);
    acc = hn::MulAdd(c, c, acc);
  }
  double var = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) var += double(x[i] - mean) * double(x[i] - mean);
  const float rstd = float(1.0 / std::sqrt(var / double(n) + double(eps)));
  if (mean_out) *mean_out = mean;
  if (rstd_out) *rstd_out = rstd;
  const auto vr = hn::Set(d, rstd);
  for (i = 0; i + L <= n; i += L) {
    auto v = hn::Mul(hn::Sub(hn::LoadU(d, x + i), vm), vr);
    if (w) v = hn::Mul(v, hn::LoadU(d, w + i));
    if (b) v = hn::Add(v, hn::LoadU(d, b + i));
    hn::StoreU(v, d, y + i);
  }
  for (; i < n; ++i) {
    float v = (x[i] - mean) * rstd;
    if (w) v *= w[i];
    if (b) v += b[i];
    y[i] = v;
  }
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace cppformers::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace cppformers::cpu {
HWY_EXPORT(UnaryImpl);
HWY_EXPORT(SoftmaxRowImpl);
HWY_EXPORT(LogSoftmaxRowImpl);
HWY_EXPORT(ScaledSoftmaxRowImpl);
HWY_EXPORT(DotRowsImpl);
HWY_EXPORT(WeightedRowSumImpl);
HWY_EXPORT(LayerNormRowImpl);
HWY_EXPORT(TargetName);

void unary(Unary op, const float* x, float* y, int64_t n) { HWY_DYNAMIC_DISPATCH(UnaryImpl)(op, x, y, n); }
void softmax_row(const float* x, float* y, int64_t n) { HWY_DYNAMIC_DISPATCH(SoftmaxRowImpl)(x, y, n); }
void log_softmax_row(const float* x, float* y, int64_t n) {
  HWY_DYNAMIC_DISPATCH(LogSoftmaxRowImpl)(x, y, n);
}
void layer_norm_row(const float* x, const float* w, const float* b, float* y, int64_t n, float eps,
                    float* mean_out, float* rstd_out) {
  HWY_DYNAMIC_DISPATCH(LayerNormRowImpl)(x, w, b, y, n, eps, mean_out, rstd_out);
}
void scaled_softmax_row(const float* x, const float* bias, float scale, float* y, int64_t n) {
  HWY_DYNAMIC_DISPATCH(ScaledSoftmaxRowImpl)(x, bias, scale, y, n);
}
void dot_rows(const float* a, const float* b, int64_t ldb, int64_t rows, int64_t n, float* y) {
  HWY_DYNAMIC_DISPATCH(DotRowsImpl)(a, b, ldb, rows, n, y);
}
void weighted_row_sum(const float* w, const float* b, int64_t ldb, int64_t rows, int64_t n, float* y) {
  HWY_DYNAMIC_DISPATCH(WeightedRowSumImpl)(w, b, ldb, rows, n, y);
}
const char* simd_target() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }
}  // namespace cppformers::cpu
#endif
