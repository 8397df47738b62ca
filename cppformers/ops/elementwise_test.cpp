#include "cppformers/ops/elementwise.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

// ---------------------------------------------------------------- forward: broadcasting

TEST(Elementwise, BroadcastShapes) {
  EXPECT_EQ(ops::broadcast_shapes({2, 3}, {3}), (Shape{2, 3}));
  EXPECT_EQ(ops::broadcast_shapes({4, 1, 3}, {2, 1}), (Shape{4, 2, 3}));
  EXPECT_EQ(ops::broadcast_shapes({}, {5, 2}), (Shape{5, 2}));
  EXPECT_EQ(ops::broadcast_shapes({1}, {0}), (Shape{0}));
  EXPECT_THROW(ops::broadcast_shapes({2, 3}, {2}), ValueError);
  EXPECT_THROW(ops::broadcast_shapes({4, 3}, {2, 3}), ValueError);
  EXPECT_THROW(ops::add(Tensor::zeros({2, 3}), Tensor::zeros({2})), ValueError);
  EXPECT_THROW(ops::mul(Tensor::zeros({3, 2}), Tensor::zeros({2, 2})), ValueError);
}

TEST(Elementwise, BroadcastValuesMatchLoops) {
  Tensor a = rnd({4, 1, 3}, 1, -1, 1, false), b = rnd({2, 1}, 2, -1, 1, false);
  Tensor c = Tensor::from_vector<float>({1.5f}, {});  // a 0-d operand
  auto va = vals(a), vb = vals(b);
  struct Case { Tensor out; std::function<float(float, float)> f; };
  for (auto& [out, f] : std::vector<Case>{
           {a + b, [](float x, float y) { return x + y; }},
           {a - b, [](float x, float y) { return x - y; }},
           {a * b, [](float x, float y) { return x * y; }},
           {a / b, [](float x, float y) { return x / y; }},
           {ops::maximum(a, b), [](float x, float y) { return std::max(x, y); }},
           {ops::minimum(a, b), [](float x, float y) { return std::min(x, y); }}}) {
    ASSERT_EQ(out.shape(), (Shape{4, 2, 3}));
    auto vo = vals(out);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 2; ++j)
        for (int k = 0; k < 3; ++k)
          EXPECT_FLOAT_EQ(vo[(i * 2 + j) * 3 + k], f(va[i * 3 + k], vb[j]));
  }
  // b on the left, and a 0-d tensor
  auto v = vals(b - a);
  EXPECT_FLOAT_EQ(v[(3 * 2 + 1) * 3 + 2], vb[1] - va[3 * 3 + 2]);
  auto vc = vals(c * a);
  for (size_t i = 0; i < va.size(); ++i) EXPECT_FLOAT_EQ(vc[i], 1.5f * va[i]);
}

TEST(Elementwise, NonContiguousOperands) {
  Tensor a = rnd({3, 4}, 3, -1, 1, false), b = rnd({4, 3}, 4, -1, 1, false);
  Tensor bt = b.transpose(0, 1);  // [3, 4], strides [1, 3]
  auto va = vals(a), vb = vals(b), vo = vals(a * bt);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(vo[i * 4 + j], va[i * 4 + j] * vb[j * 3 + i]);
  Tensor an = a.narrow(1, 1, 2);  // [3, 2] with row stride 4
  auto vn = vals(ops::exp(an));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) EXPECT_NEAR(vn[i * 2 + j], std::exp(va[i * 4 + 1 + j]), 1e-6);
}

TEST(Elementwise, LargeParallelMatchesSerial) {
  // big enough to cross the parallel grain; with a broadcast row operand
  Tensor a = rnd({300, 257}, 5, -1, 1, false), b = rnd({257}, 6, -1, 1, false);
  auto vo = vals(a * b + a), va = vals(a), vb = vals(b);
  for (int i = 0; i < 300; i += 7)
    for (int j = 0; j < 257; ++j) ASSERT_FLOAT_EQ(vo[i * 257 + j], va[i * 257 + j] * vb[j] + va[i * 257 + j]);
}

TEST(Elementwise, IntegerArithmeticStaysInt64) {
  Tensor a = Tensor::from_vector<int64_t>({7, -7, 3, 0}, {4});
  Tensor b = Tensor::from_vector<int64_t>({2, 2, 5, 9}, {4});
  Tensor s = a + b, d = a - b, m = a * b;
  EXPECT_EQ(s.dtype(), kI64);
  EXPECT_EQ(m.dtype(), kI64);
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{9, -5, 8, 9}));
  EXPECT_EQ(d.to_vector<int64_t>(), (std::vector<int64_t>{5, -9, -2, -9}));
  EXPECT_EQ(m.to_vector<int64_t>(), (std::vector<int64_t>{14, -14, 15, 0}));
  EXPECT_EQ((a * 3.0).dtype(), kI64);
  EXPECT_EQ((a * 3.0).to_vector<int64_t>(), (std::vector<int64_t>{21, -21, 9, 0}));
  EXPECT_EQ(ops::neg(a).dtype(), kI64);
  EXPECT_EQ(ops::neg(a).to_vector<int64_t>(), (std::vector<int64_t>{-7, 7, -3, 0}));
  EXPECT_EQ(ops::maximum(a, b).to_vector<int64_t>(), (std::vector<int64_t>{7, 2, 5, 9}));
  // large values survive exactly (no trip through float)
  Tensor big = Tensor::from_vector<int64_t>({(int64_t(1) << 53) + 1}, {1});
  EXPECT_EQ((big + big).to_vector<int64_t>()[0], (int64_t(1) << 54) + 2);
  // int with a fractional scalar or a float tensor promotes to float32
  EXPECT_EQ((a * 0.5).dtype(), kF32);
  EXPECT_EQ((a * 0.5).to_vector<float>(), (std::vector<float>{3.5f, -3.5f, 1.5f, 0.0f}));
  EXPECT_EQ((a + Tensor::ones({4})).dtype(), kF32);
  // true division, as torch's `/`: integers divide to float32 (and 1/0 is inf, not a crash)
  Tensor q = a / b;
  EXPECT_EQ(q.dtype(), kF32);
  EXPECT_EQ(q.to_vector<float>(), (std::vector<float>{3.5f, -3.5f, 0.6f, 0.0f}));
  EXPECT_TRUE(std::isinf(ops::div(b, Tensor::zeros({4}, kI64)).to_vector<float>()[0]));
}

TEST(Elementwise, ComparisonsReturnBool) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, NAN}, {4});
  Tensor b = Tensor::from_vector<float>({2, 2, 2, 2}, {4});
  using U = std::vector<uint8_t>;
  for (auto& t : {ops::eq(a, b), ops::ne(a, b), ops::lt(a, b), ops::le(a, b), ops::gt(a, b), ops::ge(a, b)})
    EXPECT_EQ(t.dtype(), kBool);
  EXPECT_EQ(ops::eq(a, b).to_vector<uint8_t>(), (U{0, 1, 0, 0}));
  EXPECT_EQ(ops::ne(a, b).to_vector<uint8_t>(), (U{1, 0, 1, 1}));
  EXPECT_EQ(ops::lt(a, b).to_vector<uint8_t>(), (U{1, 0, 0, 0}));
  EXPECT_EQ(ops::le(a, b).to_vector<uint8_t>(), (U{1, 1, 0, 0}));
  EXPECT_EQ(ops::gt(a, b).to_vector<uint8_t>(), (U{0, 0, 1, 0}));
  EXPECT_EQ(ops::ge(a, b).to_vector<uint8_t>(), (U{0, 1, 1, 0}));
  // int vs float compares by value; broadcasting applies
  Tensor i = Tensor::from_vector<int64_t>({1, 2, 3}, {3, 1});
  Tensor f = Tensor::from_vector<float>({1.5f, 2.0f}, {2});
  Tensor c = ops::ge(i, f);
  EXPECT_EQ(c.dtype(), kBool);
  EXPECT_EQ(c.shape(), (Shape{3, 2}));
  EXPECT_EQ(c.to_vector<uint8_t>(), (U{0, 0, 1, 1, 1, 1}));
  EXPECT_EQ(ops::logical_not(ops::eq(a, b)).to_vector<uint8_t>(), (U{1, 0, 1, 1}));
  EXPECT_FALSE(ops::lt(a, b).requires_grad());
}

TEST(Elementwise, MaximumMinimumPropagateNan) {
  Tensor a = Tensor::from_vector<float>({NAN, 1, 2}, {3});
  Tensor b = Tensor::from_vector<float>({0, NAN, 1}, {3});
  auto mx = vals(ops::maximum(a, b)), mn = vals(ops::minimum(a, b));
  EXPECT_TRUE(std::isnan(mx[0]) && std::isnan(mx[1]));
  EXPECT_TRUE(std::isnan(mn[0]) && std::isnan(mn[1]));
  EXPECT_EQ(mx[2], 2);
  EXPECT_EQ(mn[2], 1);
}

TEST(Elementwise, UnaryValues) {
  Tensor x = Tensor::from_vector<float>({-2, -0.5f, 0.25f, 3}, {4});
  Tensor p = Tensor::from_vector<float>({0.25f, 1, 4, 9}, {4});
  auto expect = [](const Tensor& t, std::vector<double> want, double tol) {
    auto v = dvals(t);
    ASSERT_EQ(v.size(), want.size());
    for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], want[i], tol) << "element " << i;
  };
  expect(ops::neg(x), {2, 0.5, -0.25, -3}, 0);
  expect(ops::abs(x), {2, 0.5, 0.25, 3}, 0);
  expect(ops::relu(x), {0, 0, 0.25, 3}, 0);
  expect(ops::sqrt(p), {0.5, 1, 2, 3}, 1e-7);
  expect(ops::rsqrt(p), {2, 1, 0.5, 1.0 / 3}, 1e-7);
  expect(ops::log(p), {std::log(0.25), 0, std::log(4.0), std::log(9.0)}, 1e-6);
  expect(ops::pow(x, 2), {4, 0.25, 0.0625, 9}, 1e-7);
  expect(ops::pow(p, 0.5), {0.5, 1, 2, 3}, 1e-7);
  expect(ops::pow(p, -1), {4, 1, 0.25, 1.0 / 9}, 1e-7);
  expect(ops::clamp(x, -1, 1), {-1, -0.5, 0.25, 1}, 0);
  std::vector<double> sig, silu;
  for (double v : {-2.0, -0.5, 0.25, 3.0}) {
    sig.push_back(1 / (1 + std::exp(-v)));
    silu.push_back(v / (1 + std::exp(-v)));
  }
  expect(ops::sigmoid(x), sig, 1e-6);
  expect(ops::silu(x), silu, 1e-6);
}

TEST(Elementwise, ExpTanhSigmoidSiluAccuracyOverARange) {
  std::vector<float> xs;
  for (int i = -2000; i <= 2000; ++i) xs.push_back(float(i) / 100.0f);  // [-20, 20]
  Tensor x = Tensor::from_vector<float>(xs, {int64_t(xs.size())});
  auto e = vals(ops::exp(x)), t = vals(ops::tanh(x)), s = vals(ops::sigmoid(x)), si = vals(ops::silu(x));
  double max_rel_exp = 0, max_abs_tanh = 0, max_abs_sig = 0, max_abs_silu = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double v = xs[i], ee = std::exp(v);
    max_rel_exp = std::max(max_rel_exp, std::abs(e[i] - ee) / ee);
    max_abs_tanh = std::max(max_abs_tanh, std::abs(t[i] - std::tanh(v)));
    max_abs_sig = std::max(max_abs_sig, std::abs(s[i] - 1 / (1 + std::exp(-v))));
    max_abs_silu = std::max(max_abs_silu, std::abs(si[i] - v / (1 + std::exp(-v))) / std::max(1.0, std::abs(v)));
  }
  EXPECT_LT(max_rel_exp, 1e-6);
  EXPECT_LT(max_abs_tanh, 1e-6);
  EXPECT_LT(max_abs_sig, 1e-6);
  EXPECT_LT(max_abs_silu, 1e-6);
  // exp's extremes
  auto ex = vals(ops::exp(Tensor::from_vector<float>({-200, 0, 100}, {3})));
  EXPECT_EQ(ex[0], 0.0f);
  EXPECT_EQ(ex[1], 1.0f);
  EXPECT_TRUE(std::isinf(ex[2]));
  auto th = vals(ops::tanh(Tensor::from_vector<float>({-100, 100}, {2})));
  EXPECT_EQ(th[0], -1.0f);
  EXPECT_EQ(th[1], 1.0f);
}

TEST(Elementwise, GeluErfMatchesStdErfTo1e6) {
  std::vector<float> xs;
  for (int i = -100000; i <= 100000; ++i) xs.push_back(float(i) * 1e-4f);  // [-10, 10], step 1e-4
  Tensor x = Tensor::from_vector<float>(xs, {int64_t(xs.size())});
  auto g = vals(ops::gelu(x));
  double max_err = 0, worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double v = xs[i], want = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    const double err = std::abs(g[i] - want);
    if (err > max_err) { max_err = err; worst = v; }
  }
  EXPECT_LT(max_err, 1e-6) << "at x = " << worst;
  EXPECT_THROW(ops::gelu(x, "fast"), ValueError);
}

TEST(Elementwise, GeluTanhForm) {
  std::vector<float> xs;
  for (int i = -1000; i <= 1000; ++i) xs.push_back(float(i) * 1e-2f);
  Tensor x = Tensor::from_vector<float>(xs, {int64_t(xs.size())});
  auto g = vals(ops::gelu(x, "tanh"));
  double max_err = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double v = xs[i];
    const double want = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    max_err = std::max(max_err, std::abs(g[i] - want));
  }
  EXPECT_LT(max_err, 2e-6);
}

TEST(Elementwise, WhereAndMaskedFill) {
  Tensor cond = Tensor::from_vector<uint8_t>({1, 0, 1}, {3}).to(kBool);
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<float>({-1, -2}, {2, 1});
  Tensor w = ops::where(cond, a, b);
  EXPECT_EQ(w.shape(), (Shape{2, 3}));
  EXPECT_EQ(vals(w), (std::vector<float>{1, -1, 3, 4, -2, 6}));
  // non-bool condition: non-zero is true
  Tensor ci = Tensor::from_vector<int64_t>({0, 5, 0}, {3});
  EXPECT_EQ(vals(ops::where(ci, a, b)), (std::vector<float>{-1, 2, -1, -2, 5, -2}));
  // integer branches stay integer
  Tensor ia = Tensor::from_vector<int64_t>({1, 2, 3}, {3}), ib = Tensor::from_vector<int64_t>({7, 8, 9}, {3});
  Tensor iw = ops::where(cond, ia, ib);
  EXPECT_EQ(iw.dtype(), kI64);
  EXPECT_EQ(iw.to_vector<int64_t>(), (std::vector<int64_t>{1, 8, 3}));
  // masked_fill with a broadcast mask, e.g. an attention mask [2, 1, 3] over scores [2, 2, 3]
  Tensor scores = Tensor::zeros({2, 2, 3});
  Tensor mask = Tensor::from_vector<uint8_t>({0, 0, 1, 1, 0, 0}, {2, 1, 3}).to(kBool);
  auto mf = vals(ops::masked_fill(scores, mask, -1e9));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 3; ++k)
        EXPECT_EQ(mf[(i * 2 + j) * 3 + k], (i == 0 ? k == 2 : k == 0) ? -1e9f : 0.0f);
  EXPECT_THROW(ops::masked_fill(Tensor::zeros({3}), Tensor::zeros({2, 3}, kBool), 1), ValueError);
  EXPECT_THROW(ops::where(cond, Tensor::zeros({4}), b), ValueError);
}

// ---------------------------------------------------------------- gradients

TEST(ElementwiseGrad, AddSubMulDivBroadcastBothWays) {
  // a [2, 3, 4] with b [3, 1]; and a [1, 4] with b [3, 1] (both sides broadcast)
  Tensor a = rnd({2, 3, 4}, 10), b = rnd({3, 1}, 11, 0.5, 2);
  Tensor c = rnd({1, 4}, 12), d = rnd({3, 1}, 13, 0.5, 2);
  for (auto op : std::vector<std::function<Tensor(const Tensor&, const Tensor&)>>{
           [](auto& x, auto& y) { return x + y; }, [](auto& x, auto& y) { return x - y; },
           [](auto& x, auto& y) { return x * y; }, [](auto& x, auto& y) { return x / y; }}) {
    EXPECT_GRAD([&](const V& in) { return op(in[0], in[1]); }, {a, b});
    EXPECT_GRAD([&](const V& in) { return op(in[1], in[0]); }, {c, d});
    EXPECT_GRAD([&](const V& in) { return op(in[0], in[1]); }, {c, d});
  }
  // only one side requires grad; and a 0-d operand
  Tensor nb = rnd({3, 1}, 14, 0.5, 2, false), s = rnd({}, 15, 0.5, 2);
  EXPECT_GRAD([](const V& in) { return in[0] / in[1]; }, {a, nb});
  EXPECT_GRAD([](const V& in) { return in[1] / in[0]; }, {a, nb});
  EXPECT_GRAD([](const V& in) { return in[0] * in[1] - in[1]; }, {a, s});
  // the same tensor on both sides
  EXPECT_GRAD([](const V& in) { return in[0] * in[0]; }, {a});
  EXPECT_GRAD([](const V& in) { return (in[0] + 2.0) / (in[0] * in[0] + 1.0); }, {a});
  EXPECT_GRAD([](const V& in) { return 3.0 * in[0] - in[0] / 2.0; }, {a});
}

TEST(ElementwiseGrad, MaximumMinimum) {
  // keep |a - b| >= 0.1 everywhere so no tie is within eps
  std::vector<float> av = uniform(12, 20), bv(12);
  auto off = uniform(12, 21, -1, 1, 0.1);
  for (int i = 0; i < 12; ++i) bv[i] = av[i] + off[i];
  Tensor a = Tensor::from_vector<float>(av, {3, 4}).requires_grad_();
  Tensor b = Tensor::from_vector<float>(bv, {3, 4}).requires_grad_();
  EXPECT_GRAD([](const V& in) { return ops::maximum(in[0], in[1]); }, {a, b});
  EXPECT_GRAD([](const V& in) { return ops::minimum(in[0], in[1]); }, {a, b});
  // broadcasting: b [4] against a [3, 4]; values of b far from a's range
  Tensor bb = Tensor::from_vector<float>({-3, 3, -3, 3}, {4}).requires_grad_();
  EXPECT_GRAD([](const V& in) { return ops::maximum(in[0], in[1]); }, {a, bb});
  EXPECT_GRAD([](const V& in) { return ops::minimum(in[1], in[0]); }, {a, bb});
}

TEST(ElementwiseGrad, PowClampNegAbs) {
  Tensor x = rnd({3, 4}, 30, -2, 2, true, 0.1), p = rnd({3, 4}, 31, 0.5, 2);
  for (double e : {2.0, 3.0, 1.0})
    EXPECT_GRAD([e](const V& in) { return ops::pow(in[0], e); }, {x});
  for (double e : {0.5, -1.5, 2.5})
    EXPECT_GRAD([e](const V& in) { return ops::pow(in[0], e); }, {p});
  // clamp: points inside, below and above, none within eps of the bounds
  Tensor c = Tensor::from_vector<float>({-2, -0.9f, -0.3f, 0, 0.4f, 0.95f, 1.5f, 3}, {2, 4}).requires_grad_();
  EXPECT_GRAD([](const V& in) { return ops::clamp(in[0], -0.8, 0.9); }, {c});
  EXPECT_GRAD([](const V& in) { return ops::neg(in[0]); }, {x});
  EXPECT_GRAD([](const V& in) { return -in[0]; }, {x});
  EXPECT_GRAD([](const V& in) { return ops::abs(in[0]); }, {x});
}

TEST(ElementwiseGrad, Transcendentals) {
  Tensor x = rnd({3, 5}, 40, -2, 2), p = rnd({3, 5}, 41, 0.5, 3);
  EXPECT_GRAD([](const V& in) { return ops::exp(in[0]); }, {x});
  EXPECT_GRAD([](const V& in) { return ops::log(in[0]); }, {p});
  EXPECT_GRAD([](const V& in) { return ops::sqrt(in[0]); }, {p});
  EXPECT_GRAD([](const V& in) { return ops::rsqrt(in[0]); }, {p});
  EXPECT_GRAD([](const V& in) { return ops::tanh(in[0]); }, {x});
  EXPECT_GRAD([](const V& in) { return ops::sigmoid(in[0]); }, {x});
}

TEST(ElementwiseGrad, Activations) {
  Tensor x = rnd({4, 6}, 50, -4, 4, true, 0.05);
  EXPECT_GRAD([](const V& in) { return ops::relu(in[0]); }, {x});
  EXPECT_GRAD([](const V& in) { return ops::gelu(in[0]); }, {x});
  EXPECT_GRAD([](const V& in) { return ops::gelu(in[0], "none"); }, {x});
  EXPECT_GRAD([](const V& in) { return ops::gelu(in[0], "tanh"); }, {x});
  EXPECT_GRAD([](const V& in) { return ops::silu(in[0]); }, {x});
  // relu passes no gradient to negatives: check exactly
  Tensor r = Tensor::from_vector<float>({-1, 2, -3, 4}, {4}).requires_grad_();
  ops::sum(ops::relu(r)).backward();
  EXPECT_EQ(vals(r.grad()), (std::vector<float>{0, 1, 0, 1}));
}

TEST(ElementwiseGrad, WhereAndMaskedFill) {
  Tensor cond = Tensor::from_vector<uint8_t>({1, 0, 0, 1}, {4}).to(kBool);
  Tensor a = rnd({3, 4}, 60), b = rnd({3, 1}, 61);
  EXPECT_GRAD([cond](const V& in) { return ops::where(cond, in[0], in[1]); }, {a, b});
  EXPECT_GRAD([cond](const V& in) { return ops::where(cond, in[1], in[0]); }, {a, b});
  Tensor mask = Tensor::from_vector<uint8_t>({0, 1, 1}, {3, 1}).to(kBool);
  EXPECT_GRAD([mask](const V& in) { return ops::masked_fill(in[0], mask, -5.0) * in[0]; }, {a});
  // the filled positions get exactly zero gradient
  Tensor x = Tensor::ones({3, 4}).requires_grad_();
  ops::sum(ops::masked_fill(x, mask, 7.0)).backward();
  auto g = vals(x.grad());
  for (int i = 0; i < 12; ++i) EXPECT_EQ(g[i], i < 4 ? 1.0f : 0.0f);
}

TEST(ElementwiseGrad, NoRecordingWithoutRequiresGradOrUnderNoGrad) {
  Tensor a = rnd({2, 2}, 70, -1, 1, false), b = rnd({2, 2}, 71);
  EXPECT_FALSE((a * a).requires_grad());
  EXPECT_TRUE((a * b).requires_grad());
  {
    autograd::NoGradGuard ng;
    Tensor c = ops::exp(b) + b;
    EXPECT_FALSE(c.requires_grad());
    EXPECT_EQ(c.grad_fn(), nullptr);
  }
  EXPECT_TRUE(ops::exp(b).requires_grad());
}

}  // namespace
}  // namespace cppformers
