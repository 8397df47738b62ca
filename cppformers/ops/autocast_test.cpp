#include "cppformers/ops/autocast.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;

// Values of t rounded to bf16 and widened back (the operands a bf16 product sees).
std::vector<double> rounded(const Tensor& t) { return dvals(t.detach().to(kBF16).to(kF32)); }

// C[p] = A[p] (M x K) @ B (K x N), B shared by every p, in double.
std::vector<double> reference(const std::vector<double>& a, const std::vector<double>& b, int64_t P, int64_t M,
                              int64_t K, int64_t N) {
  std::vector<double> c(size_t(P * M * N), 0.0);
  for (int64_t p = 0; p < P; ++p)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += a[(p * M + i) * K + k] * b[k * N + j];
        c[(p * M + i) * N + j] = s;
      }
  return c;
}

double max_diff(const Tensor& got, const std::vector<double>& want) {
  const auto g = dvals(got);
  EXPECT_EQ(g.size(), want.size());
  double m = 0;
  for (size_t i = 0; i < g.size() && i < want.size(); ++i) m = std::max(m, std::abs(g[i] - want[i]));
  return m;
}

TEST(Autocast, GuardNestsRestoresAndIsPerThread) {
  EXPECT_FALSE(ops::autocast_bf16());
  {
    ops::AutocastGuard on;
    EXPECT_EQ(ops::autocast_bf16(), ops::native_bf16_gemm());
    bool other_thread = true;
    std::thread([&] { other_thread = ops::autocast_bf16(); }).join();
    EXPECT_FALSE(other_thread);
    {
      ops::AutocastGuard off(false);
      EXPECT_FALSE(ops::autocast_bf16());
    }
    EXPECT_EQ(ops::autocast_bf16(), ops::native_bf16_gemm());
  }
  EXPECT_FALSE(ops::autocast_bf16());
}

// Under autocast a broadcast batched product multiplies the bf16-rounded operands exactly (the
// products of bf16 values are exact in f32); without it, the f32 operands. Where the CPU has no
// native bf16, autocast leaves the product in f32.
TEST(Autocast, MatmulMultipliesRoundedOperands) {
  const int64_t P = 3, M = 33, K = 40, N = 29;
  Tensor a = rnd({P, M, K}, 1, -1, 1, false), bt = rnd({N, K}, 2, -1, 1, false);
  Tensor b = bt.transpose(0, 1);  // a strided operand, read in place
  const auto exact = reference(dvals(a), dvals(b), P, M, K, N);
  const auto low = reference(rounded(a), rounded(b), P, M, K, N);
  Tensor c32 = ops::matmul(a, b);
  Tensor c16;
  {
    ops::AutocastGuard on;
    c16 = ops::matmul(a, b);
  }
  EXPECT_EQ(c16.dtype(), kF32);
  // a view that is not one dense block (narrowed rows) and a permuted 3-d operand
  Tensor wide = rnd({P, M, K + 8}, 3, -1, 1, false);
  Tensor an = wide.narrow(2, 4, K);
  Tensor ap = rnd({M, P, K}, 4, -1, 1, false).permute({1, 0, 2});
  Tensor cn, cp;
  {
    ops::AutocastGuard on;
    cn = ops::matmul(an, b);
    cp = ops::matmul(ap, b);
  }
  const bool native = ops::native_bf16_gemm();
  auto vals = [&](const Tensor& t) { return native ? rounded(t) : dvals(t); };
  EXPECT_LT(max_diff(cn, reference(vals(an), vals(b), P, M, K, N)), 1e-5);
  EXPECT_LT(max_diff(cp, reference(vals(ap), vals(b), P, M, K, N)), 1e-5);
  EXPECT_LT(max_diff(c32, exact), 1e-5);
  if (ops::native_bf16_gemm()) {
    EXPECT_LT(max_diff(c16, low), 1e-5);
    EXPECT_GT(max_diff(c16, exact), 1e-4) << "the operands were not rounded";
  } else {
    EXPECT_LT(max_diff(c16, exact), 1e-5);
  }
}

// linear() under autocast, and its backward run after the guard is gone: the input and weight
// gradients are products of the rounded operands too; the bias gradient is an f32 sum.
TEST(Autocast, LinearAndItsBackwardInBf16) {
  const int64_t rows = 16, in = 40, out = 24;
  Tensor x = rnd({rows, in}, 3), w = rnd({out, in}, 4), b = rnd({out}, 5);
  Tensor g = rnd({rows, out}, 6, -1, 1, false);
  Tensor y;
  {
    ops::AutocastGuard on;
    y = ops::linear(x, w, b);
  }
  ops::sum(ops::mul(y, g)).backward();
  const bool native = ops::native_bf16_gemm();
  auto vals = [&](const Tensor& t) { return native ? rounded(t) : dvals(t); };
  // y = x @ w^T + b
  const auto vw = vals(w), vx = vals(x), vg = vals(g), vb = dvals(b);
  std::vector<double> wt(size_t(in * out)), gt(size_t(out * rows));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t k = 0; k < in; ++k) wt[size_t(k * out + o)] = vw[size_t(o * in + k)];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) gt[size_t(o * rows + r)] = vg[size_t(r * out + o)];
  auto want_y = reference(vx, wt, 1, rows, in, out);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) want_y[size_t(r * out + o)] += vb[size_t(o)];
  EXPECT_LT(max_diff(y, want_y), 1e-5);
  EXPECT_LT(max_diff(x.grad(), reference(vg, vw, 1, rows, out, in)), 1e-5);   // g @ w
  EXPECT_LT(max_diff(w.grad(), reference(gt, vx, 1, out, rows, in)), 1e-5);   // g^T @ x
  std::vector<double> gb(size_t(out), 0.0);
  const auto g32 = dvals(g);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) gb[size_t(o)] += g32[size_t(r * out + o)];
  EXPECT_LT(max_diff(b.grad(), gb), 1e-5);
  if (native) {
    EXPECT_GT(max_diff(x.grad(), reference(dvals(g), dvals(w), 1, rows, out, in)), 1e-4)
        << "the backward product ran in f32";
  }
}

}  // namespace
}  // namespace cppformers
