// The backward / optimizer SIMD kernels against double-precision formulas written out here,
// at lengths with and without a partial last vector; and the ops that use them against the
// same references.
#include "cppformers/ops/cpu/vec_grad.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using cftest::uniform;

const int64_t kLengths[] = {1, 5, 15, 16, 17, 33, 100, 768};

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

TEST(VecGrad, GeluBackwardMatchesDoubleDerivative) {
  for (bool tanh_form : {false, true})
    for (int64_t n : kLengths) {
      std::vector<float> x = uniform(n, 100 + n, -6, 6), g = uniform(n, 200 + n, -2, 2);
      std::vector<float> dx(static_cast<size_t>(n), -1.0f);
      cpu::gelu_backward(x.data(), g.data(), dx.data(), n, tanh_form);
      std::vector<double> want(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        const double v = x[i];
        double d;
        if (tanh_form) {
          const double k = std::sqrt(2.0 / M_PI), u = k * (v + 0.044715 * v * v * v), t = std::tanh(u);
          d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * 0.044715 * v * v);
        } else {
          d = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
        }
        want[size_t(i)] = g[size_t(i)] * d;
      }
      EXPECT_LT(max_abs_diff(dx, want), 2e-6) << "n " << n << " tanh " << tanh_form;
    }
}

TEST(VecGrad, SoftmaxBackwardMatchesJacobian) {
  for (int64_t n : kLengths) {
    std::vector<float> logits = uniform(n, 300 + n, -4, 4), g = uniform(n, 400 + n, -1, 1);
    std::vector<double> yd(static_cast<size_t>(n));
    double z = 0;
    for (int64_t i = 0; i < n; ++i) z += std::exp(double(logits[i]));
    for (int64_t i = 0; i < n; ++i) yd[size_t(i)] = std::exp(double(logits[i])) / z;
    std::vector<float> y(yd.begin(), yd.end()), dx(static_cast<size_t>(n));
    cpu::softmax_backward_row(y.data(), g.data(), dx.data(), n);
    // dx_j = sum_i g_i dy_i/dx_j, dy_i/dx_j = y_i (delta_ij - y_j)
    std::vector<double> want(static_cast<size_t>(n), 0.0);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < n; ++i) want[size_t(j)] += g[size_t(i)] * yd[size_t(i)] * ((i == j) - yd[size_t(j)]);
    EXPECT_LT(max_abs_diff(dx, want), 1e-6) << "n " << n;
  }
}

TEST(VecGrad, LayerNormBackwardRowMatchesDouble) {
  for (int64_t n : kLengths)
    for (bool affine : {false, true}) {
      std::vector<float> x = uniform(n, 500 + n, -3, 5), g = uniform(n, 600 + n, -1, 1), w = uniform(n, 700 + n, 0.5, 1.5);
      double mean = 0, var = 0;
      for (float v : x) mean += v;
      mean /= double(n);
      for (float v : x) var += (v - mean) * (v - mean);
      var /= double(n);
      const double rstd = 1.0 / std::sqrt(var + 1e-5);
      std::vector<float> dx(static_cast<size_t>(n));
      cpu::layer_norm_backward_row(x.data(), g.data(), affine ? w.data() : nullptr, float(mean), float(rstd), dx.data(), n);
      // y = xhat * w: dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
      std::vector<double> xhat(static_cast<size_t>(n)), dxhat(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      double m1 = 0, m2 = 0;
      for (int64_t i = 0; i < n; ++i) {
        xhat[size_t(i)] = (x[size_t(i)] - mean) * rstd;
        dxhat[size_t(i)] = double(g[size_t(i)]) * (affine ? w[size_t(i)] : 1.0);
        m1 += dxhat[size_t(i)] / double(n);
        m2 += dxhat[size_t(i)] * xhat[size_t(i)] / double(n);
      }
      for (int64_t i = 0; i < n; ++i) want[size_t(i)] = rstd * (dxhat[size_t(i)] - m1 - xhat[size_t(i)] * m2);
      EXPECT_LT(max_abs_diff(dx, want), 2e-5) << "n " << n << " affine " << affine;
    }
}

TEST(VecGrad, AdamWUpdateMatchesDoubleAndIsElementwise) {
  for (int64_t n : kLengths) {
    std::vector<float> p = uniform(n, 800 + n, -1, 1), g = uniform(n, 900 + n, -1, 1);
    std::vector<float> m = uniform(n, 1000 + n, -0.1, 0.1), v = uniform(n, 1100 + n, 0, 0.01);
    const double lr = 1e-3, wd = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const int step = 3;
    const double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    std::vector<double> wp(static_cast<size_t>(n)), wm(static_cast<size_t>(n)), wv(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const size_t k = size_t(i);
      wm[k] = b1 * m[k] + (1 - b1) * g[k];
      wv[k] = b2 * v[k] + (1 - b2) * double(g[k]) * g[k];
      wp[k] = p[k] * (1 - lr * wd) - lr / bc1 * wm[k] / (std::sqrt(wv[k]) / std::sqrt(bc2) + eps);
    }
    const cpu::AdamWStep s{float(1 - lr * wd), float(b1), float(1 - b1), float(b2), float(1 - b2),
                           float(-lr / bc1), float(std::sqrt(bc2)), float(eps), 1.0f};
    cpu::adamw_update(p.data(), g.data(), m.data(), v.data(), n, s);
    EXPECT_LT(max_abs_diff(m, wm), 1e-7) << n;
    EXPECT_LT(max_abs_diff(v, wv), 1e-9) << n;
    EXPECT_LT(max_abs_diff(p, wp), 1e-6) << n;
  }
}

TEST(VecGrad, AccumulateF64IsExactDoubleAddition) {
  for (int64_t n : kLengths) {
    std::vector<float> x = uniform(n, 1200 + n, -1e4, 1e4);
    std::vector<double> acc(static_cast<size_t>(n)), want(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) acc[size_t(i)] = want[size_t(i)] = 0.1 * double(i);
    for (int rep = 0; rep < 3; ++rep) {
      cpu::accumulate_f64(x.data(), acc.data(), n);
      for (int64_t i = 0; i < n; ++i) want[size_t(i)] += double(x[size_t(i)]);
    }
    EXPECT_EQ(acc, want) << n;
  }
}

// ---- the ops on top of the kernels

TEST(VecGradOps, GeluSoftmaxLayerNormGradsMatchReferences) {
  autograd::set_grad_enabled(true);
  // gelu: x.grad == g * gelu'(x) elementwise (any shape, more than one chunk)
  Tensor x = cftest::rnd({3, 20000}, 1, -4, 4);
  Tensor g = cftest::rnd({3, 20000}, 2, -1, 1, false);
  ops::gelu(x).backward(g);
  std::vector<float> xv = x.to_vector<float>(), gv = g.to_vector<float>(), dx = x.grad().to_vector<float>();
  double err = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    const double v = xv[i];
    const double d = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
    err = std::max(err, std::abs(dx[i] - gv[i] * d));
  }
  EXPECT_LT(err, 2e-6);
  // layer norm: weight and bias grads are column sums over all leading dims
  Tensor xl = cftest::rnd({2, 3, 40}, 3, -2, 2), w = cftest::rnd({40}, 4, 0.5, 1.5), b = cftest::rnd({40}, 5);
  Tensor gl = cftest::rnd({2, 3, 40}, 6, -1, 1, false);
  ops::layer_norm(xl, w, b, 1e-5).backward(gl);
  std::vector<float> xs = xl.to_vector<float>(), gs = gl.to_vector<float>();
  std::vector<double> gw(40, 0.0), gb(40, 0.0);
  for (int r = 0; r < 6; ++r) {
    double mean = 0, var = 0;
    for (int i = 0; i < 40; ++i) mean += xs[size_t(r * 40 + i)] / 40.0;
    for (int i = 0; i < 40; ++i) var += std::pow(xs[size_t(r * 40 + i)] - mean, 2) / 40.0;
    for (int i = 0; i < 40; ++i) {
      gw[size_t(i)] += gs[size_t(r * 40 + i)] * (xs[size_t(r * 40 + i)] - mean) / std::sqrt(var + 1e-5);
      gb[size_t(i)] += gs[size_t(r * 40 + i)];
    }
  }
  EXPECT_LT(max_abs_diff(w.grad().to_vector<float>(), gw), 1e-5);
  EXPECT_LT(max_abs_diff(b.grad().to_vector<float>(), gb), 1e-5);
}

TEST(VecGradOps, ScaledMaskedSoftmaxGradMatchesTheComposition) {
  // the fused op's x gradient against softmax(x * scale + bias)'s, and by finite differences
  Tensor x = cftest::rnd({2, 3, 4, 19}, 11, -3, 3);
  Tensor bias = Tensor::from_vector<float>({0, -1e30f, 0, 0.5f}, {1, 1, 4, 1}).expand({2, 1, 4, 19});
  Tensor g = cftest::rnd({2, 3, 4, 19}, 12, -1, 1, false);
  ops::scaled_masked_softmax(x, 0.125, bias).backward(g);
  const std::vector<float> fused = x.grad().to_vector<float>();
  x.set_grad(Tensor());
  ops::softmax(ops::add(ops::mul(x, Tensor::scalar(0.125)), bias), -1).backward(g);
  const std::vector<double> composed = x.grad().to_vector<double>();
  EXPECT_LT(max_abs_diff(fused, composed), 1e-7);
  x.set_grad(Tensor());
  EXPECT_GRAD([&](const std::vector<Tensor>& in) { return ops::scaled_masked_softmax(in[0], 0.7, Tensor()); },
              {cftest::rnd({3, 5}, 13, -2, 2)});
}

TEST(VecGradOps, EmbeddingGradSumsRepeatsAndSkipsPadding) {
  Tensor w = cftest::rnd({6, 3}, 7);
  Tensor ids = Tensor::from_vector<int64_t>({1, 4, 1, 0, 4, 4}, {2, 3});
  Tensor g = Tensor::from_vector<float>({1, 2, 3, 10, 20, 30, 100, 200, 300, 5, 5, 5, 1000, 2000, 3000, 7, 8, 9}, {2, 3, 3});
  ops::embedding(ids, w, /*padding_idx=*/0).backward(g);
  EXPECT_EQ(w.grad().to_vector<float>(),
            (std::vector<float>{0, 0, 0, 101, 202, 303, 0, 0, 0, 0, 0, 0, 1017, 2028, 3039, 0, 0, 0}));
}

TEST(VecGradOps, FillWritesEveryLayoutAndDtype) {
  Tensor t = Tensor::empty({4, 5}, kF32);
  t.fill_(2.5);
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 2.5f);
  t.transpose(0, 1).narrow(0, 1, 2).fill_(0.0);  // columns 1 and 2 of the [5, 4] view: a strided write
  std::vector<float> got = t.to_vector<float>();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 5; ++c) EXPECT_EQ(got[size_t(r * 5 + c)], (c == 1 || c == 2) ? 0.0f : 2.5f);
  EXPECT_EQ(Tensor::full({3}, -7, kI64).to_vector<int64_t>(), (std::vector<int64_t>{-7, -7, -7}));
  EXPECT_EQ(Tensor::full({2}, 1.5, kBF16).to_vector<float>(), (std::vector<float>{1.5f, 1.5f}));
  EXPECT_EQ(Tensor::full({2}, 3, kBool).to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ(Tensor::zeros({100000}).to_vector<float>(), std::vector<float>(100000, 0.0f));
}

TEST(VecGradOps, LeafGradIsNeverTheCallersGradient) {
  // backward(gradient) through identity-like nodes must not hand the caller's tensor (or one
  // tensor twice) to the leaves as their .grad
  Tensor a = cftest::rnd({4}, 8), b = cftest::rnd({4}, 9);
  Tensor gin = Tensor::from_vector<float>({1, 2, 3, 4}, {4});
  ops::add(a, b).backward(gin);
  EXPECT_FALSE(a.grad().same(gin));
  EXPECT_NE(a.grad().raw_data(), gin.raw_data());
  EXPECT_NE(a.grad().raw_data(), b.grad().raw_data());
  a.grad().fill_(0.0);
  EXPECT_EQ(gin.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  // a fresh gradient (mul's) is kept as it is and accumulates on a second backward
  Tensor c = cftest::rnd({4}, 10);
  ops::mul(c, Tensor::scalar(2.0)).backward(gin);
  ops::mul(c, Tensor::scalar(2.0)).backward(gin);
  EXPECT_EQ(c.grad().to_vector<float>(), (std::vector<float>{4, 8, 12, 16}));
}

}  // namespace
}  // namespace cppformers
