#include "cppformers/autograd/gradcheck.hpp"

#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers::autograd {

namespace {

// Address of the i-th element (row-major logical order) of t.
char* element_ptr(const Tensor& t, int64_t i) {
  const Shape& sh = t.shape();
  const Shape& st = t.strides();
  int64_t off = 0;
  for (int64_t d = int64_t(sh.size()) - 1; d >= 0; --d) {
    off += (i % sh[d]) * st[d];
    i /= sh[d];
  }
  return static_cast<char*>(t.raw_data()) + off * int64_t(dtype_size(t.dtype()));
}

double get(const Tensor& t, int64_t i) {
  char* p = element_ptr(t, i);
  return t.dtype() == kF32 ? double(*reinterpret_cast<float*>(p)) : *reinterpret_cast<double*>(p);
}

void put(const Tensor& t, int64_t i, double v) {
  char* p = element_ptr(t, i);
  if (t.dtype() == kF32) *reinterpret_cast<float*>(p) = float(v);
  else *reinterpret_cast<double*>(p) = v;
}

std::vector<double> output_weights(int64_t n) {
  std::mt19937_64 rng(0x5eed1234);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> w(static_cast<size_t>(n));
  for (auto& v : w) v = dist(rng);
  return w;
}

}  // namespace

bool gradcheck(std::function<Tensor(const std::vector<Tensor>&)> f, std::vector<Tensor> inputs,
               double eps, double atol, double rtol, std::string* report) {
  std::ostringstream rep;
  auto fail = [&](const std::string& msg) {
    if (report) *report = msg;
    return false;
  };
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    if (!t.defined() || !t.requires_grad()) continue;
    if (t.dtype() != kF32 && t.dtype() != kF64)
      return fail("gradcheck: input " + std::to_string(k) + " is " + dtype_name(t.dtype()) +
                  "; only float32/float64 inputs can be perturbed");
    if (t.grad_fn())
      return fail("gradcheck: input " + std::to_string(k) + " is not a leaf (it has a grad_fn)");
    if (t.storage()->read_only())
      return fail("gradcheck: input " + std::to_string(k) + " is read-only");
    for (size_t d = 0; d < t.shape().size(); ++d)
      if (t.shape()[d] > 1 && t.strides()[d] == 0)
        return fail("gradcheck: input " + std::to_string(k) + " is an expanded view");
    t.set_grad(Tensor());
  }

  // ---- analytic
  Tensor out = f(inputs);
  if (!out.defined() || !is_floating(out.dtype()))
    return fail("gradcheck: f must return a floating tensor");
  const Shape out_shape = out.shape();
  const std::vector<double> w = output_weights(out.numel());
  if (out.requires_grad()) {
    Tensor wt = Tensor::from_vector<double>(w, out_shape).to(kF32);
    Tensor loss = ops::sum(ops::mul(out, wt));
    loss.backward();
  }
  auto weighted = [&](const Tensor& o) {
    if (o.shape() != out_shape)
      throw ValueError("gradcheck: f returned " + shape_str(o.shape()) + " on a perturbed input, " +
                       shape_str(out_shape) + " before");
    const std::vector<double> v = o.to_vector<double>();
    double s = 0;
    for (size_t j = 0; j < v.size(); ++j) s += w[j] * v[j];
    return s;
  };

  // ---- numeric, one element at a time
  bool ok = true;
  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    if (!t.defined() || !t.requires_grad()) continue;
    Tensor g = t.grad();
    if (g.defined() && g.shape() != t.shape()) {
      rep << "input " << k << ": gradient shape " << shape_str(g.shape()) << " != input shape "
          << shape_str(t.shape()) << "\n";
      ok = false;
      continue;
    }
    const std::vector<double> analytic =
        g.defined() ? g.to_vector<double>() : std::vector<double>(size_t(t.numel()), 0.0);
    double max_err = 0;
    int64_t bad = 0;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double x0 = get(t, i);
      put(t, i, x0 + eps);
      const double xp = get(t, i);  // the value actually stored (f32 rounding)
      const double lp = weighted(f(inputs));
      put(t, i, x0 - eps);
      const double xm = get(t, i);
      const double lm = weighted(f(inputs));
      put(t, i, x0);
      const double numeric = (lp - lm) / (xp - xm);
      const double a = analytic[size_t(i)], err = std::abs(a - numeric);
      max_err = std::max(max_err, std::isnan(err) ? INFINITY : err);
      if (!(err <= atol + rtol * std::abs(numeric))) {
        if (bad++ < 5)
          rep << "input " << k << " " << shape_str(t.shape()) << " element " << i
              << ": analytic " << a << ", numeric " << numeric << "\n";
        ok = false;
      }
    }
    if (bad) rep << "input " << k << ": " << bad << " of " << t.numel()
                 << " elements differ; max |error| " << max_err << "\n";
  }
  if (!ok && report) *report = rep.str();
  return ok;
}

}  // namespace cppformers::autograd
