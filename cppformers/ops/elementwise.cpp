#include "cppformers/ops/elementwise.hpp"

#include <cmath>

#include "cppformers/autograd/node.hpp"
#include "cppformers/core/strided_loop.hpp"
#include "cppformers/ops/cpu/vec.hpp"
#include "cppformers/ops/cpu/vec_grad.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers::ops {

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ValueError("cannot broadcast shapes " + shape_str(a) + " and " + shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Strides that read t as if expanded to `shape` (0 on broadcast dims).
static Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  Shape st(shape.size(), 0);
  const size_t lead = shape.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i)
    if (t.shape()[i] != 1) st[lead + i] = t.strides()[i];
  return st;
}

Tensor scalar_like(double v, const Tensor& like) {
  const bool integral = v == std::floor(v) && std::abs(v) < 9e15;
  return Tensor::scalar(v, (is_floating(like.dtype()) || !integral) ? kF32 : kI64);
}

namespace {

enum class Bin { kAdd, kSub, kMul, kDiv, kMax, kMin, kEq, kNe, kLt, kLe, kGt, kGe };

bool is_compare(Bin op) { return op >= Bin::kEq; }

template <class T, class R>
inline R apply(Bin op, T a, T b) {
  switch (op) {
    case Bin::kAdd: return R(a + b);
    case Bin::kSub: return R(a - b);
    case Bin::kMul: return R(a * b);
    case Bin::kDiv: return R(a / b);
    case Bin::kMax: return R(a > b || a != a ? a : b);
    case Bin::kMin: return R(a < b || a != a ? a : b);
    case Bin::kEq: return R(a == b);
    case Bin::kNe: return R(a != b);
    case Bin::kLt: return R(a < b);
    case Bin::kLe: return R(a <= b);
    case Bin::kGt: return R(a > b);
    case Bin::kGe: return R(a >= b);
  }
  return R();
}

template <class T, class R, Bin OP>
void run_binary(const Tensor& a, const Tensor& b, const Tensor& out) {
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  R* po = static_cast<R*>(out.raw_data());
  strided_loop<3>(
      out.shape(), {out.strides(), broadcast_strides(a, out.shape()), broadcast_strides(b, out.shape())},
      [&](auto off, int64_t n, auto st) {
        R* o = po + off[0];
        const T* x = pa + off[1];
        const T* y = pb + off[2];
        if (st[1] == 1 && st[2] == 1) {
          for (int64_t i = 0; i < n; ++i) o[i] = apply<T, R>(OP, x[i], y[i]);
        } else if (st[1] == 1 && st[2] == 0) {
          const T yy = *y;
          for (int64_t i = 0; i < n; ++i) o[i] = apply<T, R>(OP, x[i], yy);
        } else if (st[1] == 0 && st[2] == 1) {
          const T xx = *x;
          for (int64_t i = 0; i < n; ++i) o[i] = apply<T, R>(OP, xx, y[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) o[i] = apply<T, R>(OP, x[i * st[1]], y[i * st[2]]);
        }
      },
      /*parallel=*/true);
}

template <class T, class R>
void dispatch_binary(Bin op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
#define CASE(X) case Bin::X: return run_binary<T, R, Bin::X>(a, b, out);
    CASE(kAdd) CASE(kSub) CASE(kMul) CASE(kDiv) CASE(kMax) CASE(kMin)
    CASE(kEq) CASE(kNe) CASE(kLt) CASE(kLe) CASE(kGt) CASE(kGe)
#undef CASE
  }
}

Tensor binary(Bin op, const Tensor& a0, const Tensor& b0) {
  // true division, as torch's `/`: integers divide in float32 (and x / 0 is inf, not SIGFPE)
  const bool fl = is_floating(a0.dtype()) || is_floating(b0.dtype()) || op == Bin::kDiv;
  const DType compute = fl ? kF32 : kI64;
  Tensor a = a0.dtype() == compute ? a0 : a0.detach().to(compute);
  Tensor b = b0.dtype() == compute ? b0 : b0.detach().to(compute);
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = Tensor::empty(shape, is_compare(op) ? kBool : compute);
  if (is_compare(op)) {
    if (fl) dispatch_binary<float, uint8_t>(op, a, b, out);
    else dispatch_binary<int64_t, uint8_t>(op, a, b, out);
  } else if (fl) {
    dispatch_binary<float, float>(op, a, b, out);
  } else {
    dispatch_binary<int64_t, int64_t>(op, a, b, out);
  }
  return out;
}

// ---- unary ops over f32
Tensor as_f32(const Tensor& x) { return x.dtype() == kF32 ? x : x.detach().to(kF32); }

Tensor unary_vec(cpu::Unary op, const Tensor& x0) {
  Tensor x = as_f32(x0).contiguous();
  Tensor y = Tensor::empty(x.shape(), kF32);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t n = x.numel(), chunk = 16384, nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for if (n >= kParallelGrain) schedule(static)
  for (int64_t c = 0; c < nchunks; ++c)
    cpu::unary(op, px + c * chunk, py + c * chunk, std::min(chunk, n - c * chunk));
  return y;
}

template <class F>
Tensor unary_map(const Tensor& x0, F f) {
  Tensor x = as_f32(x0).contiguous();
  Tensor y = Tensor::empty(x.shape(), kF32);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for if (n >= kParallelGrain) schedule(static)
  for (int64_t i = 0; i < n; ++i) py[i] = f(px[i]);
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary(Bin::kAdd, a, b);
  autograd::record(out, "add", {a, b}, [as = a.shape(), bs = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, as), sum_to(g, bs)};
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary(Bin::kSub, a, b);
  autograd::record(out, "sub", {a, b}, [as = a.shape(), bs = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, as), sum_to(neg(g), bs)};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary(Bin::kMul, a, b);
  if (autograd::needs_grad({&a, &b}))
    autograd::record(out, "mul", {a, b}, [a = a.detach(), b = b.detach()](const Tensor& g) {
      return std::vector<Tensor>{sum_to(mul(g, b), a.shape()), sum_to(mul(g, a), b.shape())};
    });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary(Bin::kDiv, a, b);
  if (autograd::needs_grad({&a, &b}))
    autograd::record(out, "div", {a, b}, [a = a.detach(), b = b.detach()](const Tensor& g) {
      Tensor ga = div(g, b);
      return std::vector<Tensor>{sum_to(ga, a.shape()), sum_to(neg(mul(ga, div(a, b))), b.shape())};
    });
  return out;
}

static Tensor minmax(Bin op, const char* name, const Tensor& a, const Tensor& b) {
  Tensor out = binary(op, a, b);
  if (autograd::needs_grad({&a, &b}))
    autograd::record(out, name, {a, b}, [a = a.detach(), b = b.detach(), op](const Tensor& g) {
      Tensor pick_a = op == Bin::kMax ? ge(a, b) : le(a, b);
      Tensor zero = Tensor::scalar(0.0);
      return std::vector<Tensor>{sum_to(where(pick_a, g, zero), a.shape()),
                                 sum_to(where(pick_a, zero, g), b.shape())};
    });
  return out;
}
Tensor maximum(const Tensor& a, const Tensor& b) { return minmax(Bin::kMax, "maximum", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return minmax(Bin::kMin, "minimum", a, b); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary(Bin::kEq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary(Bin::kNe, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary(Bin::kLt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary(Bin::kLe, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary(Bin::kGt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary(Bin::kGe, a, b); }
Tensor logical_not(const Tensor& a) { return eq(a, Tensor::scalar(0.0, a.dtype() == kBool ? kI64 : a.dtype())); }

Tensor pow(const Tensor& x, double e) {
  Tensor y = unary_map(x, [e](float v) { return float(std::pow(double(v), e)); });
  if (autograd::needs_grad({&x}))
    autograd::record(y, "pow", {x}, [x = x.detach(), e](const Tensor& g) {
      return std::vector<Tensor>{mul(g, mul(pow(x, e - 1), Tensor::scalar(e)))};
    });
  return y;
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  Tensor y = unary_map(x, [lo, hi](float v) { return float(std::min(std::max(double(v), lo), hi)); });
  if (autograd::needs_grad({&x}))
    autograd::record(y, "clamp", {x}, [x = x.detach(), lo, hi](const Tensor& g) {
      Tensor inside = mul(ge(x, Tensor::scalar(lo)), le(x, Tensor::scalar(hi)));
      return std::vector<Tensor>{where(inside, g, Tensor::scalar(0.0))};
    });
  return y;
}

Tensor neg(const Tensor& x) {
  Tensor y = is_floating(x.dtype()) ? unary_map(x, [](float v) { return -v; })
                                    : binary(Bin::kSub, Tensor::scalar(0, kI64), x);
  autograd::record(y, "neg", {x}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return y;
}

Tensor abs(const Tensor& x) {
  Tensor y = unary_map(x, [](float v) { return std::fabs(v); });
  if (autograd::needs_grad({&x}))
    autograd::record(y, "abs", {x}, [x = x.detach()](const Tensor& g) {
      Tensor sign = sub(gt(x, Tensor::scalar(0.0)).to(kF32), lt(x, Tensor::scalar(0.0)).to(kF32));
      return std::vector<Tensor>{mul(g, sign)};
    });
  return y;
}

Tensor exp(const Tensor& x) {
  Tensor y = unary_vec(cpu::Unary::kExp, x);
  if (autograd::needs_grad({&x}))
    autograd::record(y, "exp", {x}, [y = y.detach()](const Tensor& g) { return std::vector<Tensor>{mul(g, y)}; });
  return y;
}

Tensor log(const Tensor& x) {
  Tensor y = unary_map(x, [](float v) { return std::log(v); });
  if (autograd::needs_grad({&x}))
    autograd::record(y, "log", {x}, [x = x.detach()](const Tensor& g) { return std::vector<Tensor>{div(g, x)}; });
  return y;
}

Tensor sqrt(const Tensor& x) {
  Tensor y = unary_map(x, [](float v) { return std::sqrt(v); });
  if (autograd::needs_grad({&x}))
    autograd::record(y, "sqrt", {x}, [y = y.detach()](const Tensor& g) {
      return std::vector<Tensor>{div(g, mul(y, Tensor::scalar(2.0)))};
    });
  return y;
}

Tensor rsqrt(const Tensor& x) {
  Tensor y = unary_map(x, [](float v) { return 1.0f / std::sqrt(v); });
  if (autograd::needs_grad({&x}))
    autograd::record(y, "rsqrt", {x}, [y = y.detach()](const Tensor& g) {
      return std::vector<Tensor>{mul(g, mul(pow(y, 3.0), Tensor::scalar(-0.5)))};
    });
  return y;
}

Tensor tanh(const Tensor& x) {
  Tensor y = unary_map(x, [](float v) { return std::tanh(v); });
  if (autograd::needs_grad({&x}))
    autograd::record(y, "tanh", {x}, [y = y.detach()](const Tensor& g) {
      return std::vector<Tensor>{mul(g, sub(Tensor::scalar(1.0), mul(y, y)))};
    });
  return y;
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = unary_map(x, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
  if (autograd::needs_grad({&x}))
    autograd::record(y, "sigmoid", {x}, [y = y.detach()](const Tensor& g) {
      return std::vector<Tensor>{mul(g, mul(y, sub(Tensor::scalar(1.0), y)))};
    });
  return y;
}

Tensor relu(const Tensor& x) {
  Tensor y = unary_vec(cpu::Unary::kRelu, x);
  if (autograd::needs_grad({&x}))
    autograd::record(y, "relu", {x}, [x = x.detach()](const Tensor& g) {
      return std::vector<Tensor>{where(gt(x, Tensor::scalar(0.0)), g, Tensor::scalar(0.0))};
    });
  return y;
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
  const bool tanh_form = approximate == "tanh";
  if (!tanh_form && approximate != "none")
    throw ValueError("gelu: approximate must be 'none' or 'tanh', got '" + approximate + "'");
  Tensor y = unary_vec(tanh_form ? cpu::Unary::kGeluTanh : cpu::Unary::kGeluErf, x);
  if (autograd::needs_grad({&x}))
    autograd::record(y, "gelu", {x}, [x = x.detach(), tanh_form](const Tensor& g) {
      // dx = g * gelu'(x), one fused SIMD pass (cpu::gelu_backward).
      const Tensor xc = as_f32(x).contiguous(), gc = as_f32(g).contiguous();
      Tensor dx = Tensor::empty(xc.shape(), kF32);
      const float *px = xc.data<float>(), *pg = gc.data<float>();
      float* pd = dx.data<float>();
      const int64_t n = xc.numel(), chunk = 16384, nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for if (n >= kParallelGrain) schedule(static)
      for (int64_t c = 0; c < nchunks; ++c)
        cpu::gelu_backward(px + c * chunk, pg + c * chunk, pd + c * chunk, std::min(chunk, n - c * chunk), tanh_form);
      return std::vector<Tensor>{dx};
    });
  return y;
}

Tensor silu(const Tensor& x) {
  Tensor y = unary_vec(cpu::Unary::kSilu, x);
  if (autograd::needs_grad({&x}))
    autograd::record(y, "silu", {x}, [x = x.detach()](const Tensor& g) {
      Tensor d = unary_map(x, [](float v) {
        const float s = 1.0f / (1.0f + std::exp(-v));
        return s * (1 + v * (1 - s));
      });
      return std::vector<Tensor>{mul(g, d)};
    });
  return y;
}

Tensor where(const Tensor& cond0, const Tensor& a0, const Tensor& b0) {
  const bool fl = is_floating(a0.dtype()) || is_floating(b0.dtype());
  const DType dt = fl ? kF32 : kI64;
  Tensor cond = cond0.dtype() == kBool ? cond0 : ne(cond0, Tensor::scalar(0, kI64));
  Tensor a = a0.dtype() == dt ? a0 : a0.detach().to(dt);
  Tensor b = b0.dtype() == dt ? b0 : b0.detach().to(dt);
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape()), b.shape());
  Tensor out = Tensor::empty(shape, dt);
  const uint8_t* pc = static_cast<const uint8_t*>(cond.raw_data());
  auto run = [&](auto* po, const auto* pa, const auto* pb) {
    strided_loop<4>(shape,
                    {out.strides(), broadcast_strides(cond, shape), broadcast_strides(a, shape),
                     broadcast_strides(b, shape)},
                    [&](auto off, int64_t n, auto st) {
                      for (int64_t i = 0; i < n; ++i)
                        po[off[0] + i] = pc[off[1] + i * st[1]] ? pa[off[2] + i * st[2]] : pb[off[3] + i * st[3]];
                    },
                    true);
  };
  if (fl) run(out.data<float>(), a.data<float>(), b.data<float>());
  else run(out.data<int64_t>(), a.data<int64_t>(), b.data<int64_t>());
  if (autograd::needs_grad({&a0, &b0}))
    autograd::record(out, "where", {a0, b0}, [cond, as = a0.shape(), bs = b0.shape()](const Tensor& g) {
      Tensor zero = Tensor::scalar(0.0);
      return std::vector<Tensor>{sum_to(where(cond, g, zero), as), sum_to(where(cond, zero, g), bs)};
    });
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  Tensor out = where(mask, scalar_like(value, x), x);
  if (out.shape() != x.shape())
    throw ValueError("masked_fill: mask of shape " + shape_str(mask.shape()) +
                     " does not broadcast to " + shape_str(x.shape()));
  return out;
}

}  // namespace cppformers::ops
