#include "cppformers/ops/cpu/gemv.hpp"
#include "cppformers/ops/matmul.hpp"

#include <gtest/gtest.h>

#include "cppformers/ops/autocast.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;
using ops::Activation;

// Naive batched matmul in double over [B, M, K] x [B, K, N] read through to_vector (any layout).
std::vector<double> naive_bmm(const std::vector<double>& a, const std::vector<double>& b, int64_t B,
                              int64_t M, int64_t K, int64_t N) {
  std::vector<double> c(size_t(B * M * N), 0.0);
  for (int64_t p = 0; p < B; ++p)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += a[(p * M + i) * K + k] * b[(p * K + k) * N + j];
        c[(p * M + i) * N + j] = s;
      }
  return c;
}

void expect_close(const Tensor& got, const std::vector<double>& want, double tol, const std::string& what) {
  auto g = dvals(got);
  ASSERT_EQ(g.size(), want.size()) << what;
  double max_err = 0;
  for (size_t i = 0; i < g.size(); ++i) max_err = std::max(max_err, std::abs(g[i] - want[i]));
  EXPECT_LT(max_err, tol) << what;
}

TEST(Matmul, TwoDimAgainstNaiveOddSizes) {
  for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {7, 13, 5}, {65, 130, 33}, {1, 17, 3}, {4, 1, 6}}) {
    Tensor a = rnd({M, K}, 100 + M, -1, 1, false), b = rnd({K, N}, 200 + N, -1, 1, false);
    Tensor c = ops::matmul(a, b);
    ASSERT_EQ(c.shape(), (Shape{M, N}));
    EXPECT_EQ(c.dtype(), kF32);
    expect_close(c, naive_bmm(dvals(a), dvals(b), 1, M, K, N), 1e-4,
                 std::to_string(M) + "x" + std::to_string(K) + "x" + std::to_string(N));
  }
}

TEST(Matmul, TransposedAndNonContiguousOperands) {
  const int64_t M = 9, K = 11, N = 6;
  Tensor at = rnd({K, M}, 1, -1, 1, false), bt = rnd({N, K}, 2, -1, 1, false);
  Tensor a = at.transpose(0, 1), b = bt.transpose(0, 1);  // column-major views
  auto want = naive_bmm(dvals(a), dvals(b), 1, M, K, N);
  expect_close(ops::matmul(a, b), want, 1e-4, "both transposed");
  expect_close(ops::matmul(a.contiguous(), b), want, 1e-4, "b transposed");
  expect_close(ops::matmul(a, b.contiguous()), want, 1e-4, "a transposed");
  // narrowed views with a row stride larger than the row (and a non-zero offset)
  Tensor big = rnd({M + 2, K + 5}, 3, -1, 1, false);
  Tensor an = big.narrow(0, 1, M).narrow(1, 2, K);
  Tensor bigb = rnd({K, 2 * N}, 4, -1, 1, false);
  Tensor bn = bigb.narrow(1, 3, N);
  expect_close(ops::matmul(an, bn), naive_bmm(dvals(an), dvals(bn), 1, M, K, N), 1e-4, "narrowed");
  // neither inner stride is 1: every other column
  Tensor wide = rnd({M, 2 * K}, 5, -1, 1, false);
  Tensor ae = wide.view({M, K, 2}).select(2, 0);
  expect_close(ops::matmul(ae, b), naive_bmm(dvals(ae), dvals(b), 1, M, K, N), 1e-4, "strided");
  // a bf16 operand is computed in f32
  Tensor a16 = a.to(kBF16);
  expect_close(ops::matmul(a16, b), naive_bmm(dvals(a16), dvals(b), 1, M, K, N), 1e-4, "bf16");
}

TEST(Matmul, BatchedWithBroadcasting) {
  // [2, 3, M, K] @ [3, K, N] -> [2, 3, M, N]
  const int64_t M = 5, K = 7, N = 4;
  Tensor a = rnd({2, 3, M, K}, 10, -1, 1, false), b = rnd({3, K, N}, 11, -1, 1, false);
  Tensor c = ops::matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 3, M, N}));
  auto va = dvals(a), vb = dvals(b);
  std::vector<double> bexp;  // b repeated over the leading 2
  for (int r = 0; r < 2; ++r) bexp.insert(bexp.end(), vb.begin(), vb.end());
  expect_close(c, naive_bmm(va, bexp, 6, M, K, N), 1e-4, "[2,3] @ [3]");
  // [2, 1, M, K] @ [1, 3, K, N] -> [2, 3, M, N] (both sides broadcast)
  Tensor a1 = rnd({2, 1, M, K}, 12, -1, 1, false), b1 = rnd({1, 3, K, N}, 13, -1, 1, false);
  Tensor c1 = ops::matmul(a1, b1);
  ASSERT_EQ(c1.shape(), (Shape{2, 3, M, N}));
  auto va1 = dvals(a1), vb1 = dvals(b1);
  std::vector<double> ae, be;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      ae.insert(ae.end(), va1.begin() + i * M * K, va1.begin() + (i + 1) * M * K);
      be.insert(be.end(), vb1.begin() + j * K * N, vb1.begin() + (j + 1) * K * N);
    }
  expect_close(c1, naive_bmm(ae, be, 6, M, K, N), 1e-4, "[2,1] @ [1,3]");
  // batched with a transposed last pair (attention's q @ k^T)
  Tensor q = rnd({2, 3, M, K}, 14, -1, 1, false), k = rnd({2, 3, N, K}, 15, -1, 1, false);
  Tensor kt = k.transpose(-1, -2);
  expect_close(ops::matmul(q, kt), naive_bmm(dvals(q), dvals(kt), 6, M, K, N), 1e-4, "q @ k^T");
  // a permuted batch (the [B, S, H, D] -> [B, H, S, D] layout of attention heads)
  Tensor x = rnd({2, M, 3, K}, 16, -1, 1, false);
  Tensor xp = x.permute({0, 2, 1, 3});
  expect_close(ops::matmul(xp, kt), naive_bmm(dvals(xp), dvals(kt), 6, M, K, N), 1e-4, "permuted");
  // 3-d @ 2-d
  Tensor w = rnd({K, N}, 17, -1, 1, false);
  std::vector<double> we;
  for (int i = 0; i < 6; ++i) { auto vw = dvals(w); we.insert(we.end(), vw.begin(), vw.end()); }
  expect_close(ops::matmul(q.reshape({6, M, K}), w), naive_bmm(dvals(q), we, 6, M, K, N), 1e-4, "3d @ 2d");
  EXPECT_THROW(ops::matmul(rnd({2, M, K}, 1, -1, 1, false), rnd({3, K, N}, 2, -1, 1, false)), ValueError);
}

TEST(Matmul, ExpandedOperands) {
  // zero strides inside the matrix (a row or a column repeated) and on the batch
  const int64_t M = 4, K = 6, N = 3;
  Tensor row = rnd({1, K}, 20, -1, 1, false), col = rnd({M, 1}, 21, -1, 1, false);
  Tensor b = rnd({K, N}, 22, -1, 1, false);
  Tensor ar = row.expand({M, K}), ac = col.expand({M, K});
  expect_close(ops::matmul(ar, b), naive_bmm(dvals(ar), dvals(b), 1, M, K, N), 1e-5, "rows repeated");
  expect_close(ops::matmul(ac, b), naive_bmm(dvals(ac), dvals(b), 1, M, K, N), 1e-5, "columns repeated");
  Tensor bc = rnd({K, 1}, 23, -1, 1, false).expand({K, N});
  expect_close(ops::matmul(ar, bc), naive_bmm(dvals(ar), dvals(bc), 1, M, K, N), 1e-5, "both");
  Tensor a3 = rnd({M, K}, 24, -1, 1, false).expand({5, M, K});
  Tensor b3 = rnd({5, K, N}, 25, -1, 1, false);
  expect_close(ops::matmul(a3, b3), naive_bmm(dvals(a3), dvals(b3), 5, M, K, N), 1e-5, "batch expanded");
  Tensor a4 = rnd({2, 1, M, K}, 26, -1, 1, false).expand({2, 3, M, K});
  Tensor b4 = rnd({3, 1, K, N}, 27, -1, 1, false).expand({3, 2, K, N}).transpose(0, 1);  // [2, 3, K, N]
  expect_close(ops::matmul(a4, b4), naive_bmm(dvals(a4), dvals(b4), 6, M, K, N), 1e-5, "mixed batch strides");
}

TEST(Matmul, OneDimCases) {
  Tensor v = Tensor::from_vector<float>({1, 2, 3}, {3});
  Tensor u = Tensor::from_vector<float>({4, 5, 6}, {3});
  Tensor m = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor dot = ops::matmul(v, u);
  EXPECT_EQ(dot.dim(), 0);
  EXPECT_FLOAT_EQ(float(dot.item()), 32);
  Tensor mv = ops::matmul(m, v);
  EXPECT_EQ(mv.shape(), (Shape{2}));
  EXPECT_EQ(vals(mv), (std::vector<float>{14, 32}));
  Tensor vm = ops::matmul(Tensor::from_vector<float>({1, -1}, {2}), m);
  EXPECT_EQ(vm.shape(), (Shape{3}));
  EXPECT_EQ(vals(vm), (std::vector<float>{-3, -3, -3}));
  // batched matrix @ vector
  Tensor bm = ops::matmul(ops::stack({m, m * 2.0}, 0), v);
  EXPECT_EQ(bm.shape(), (Shape{2, 2}));
  EXPECT_EQ(vals(bm), (std::vector<float>{14, 32, 28, 64}));
  EXPECT_THROW(ops::matmul(v, Tensor::zeros({4})), ValueError);
  EXPECT_THROW(ops::matmul(m, m), ValueError);
  EXPECT_THROW(ops::matmul(Tensor::scalar(1), m), ValueError);
}

TEST(Matmul, EmptyInnerDimGivesZeros) {
  Tensor c = ops::matmul(Tensor::zeros({3, 0}), Tensor::zeros({0, 2}));
  EXPECT_EQ(c.shape(), (Shape{3, 2}));
  EXPECT_EQ(vals(c), std::vector<float>(6, 0.0f));
}

TEST(Linear, AgainstNaive) {
  const int64_t in = 13, out = 7;
  Tensor x = rnd({2, 5, in}, 20, -1, 1, false), w = rnd({out, in}, 21, -1, 1, false), b = rnd({out}, 22, -1, 1, false);
  auto vx = dvals(x), vw = dvals(w), vb = dvals(b);
  auto naive = [&](bool bias) {
    std::vector<double> y(10 * out);
    for (int r = 0; r < 10; ++r)
      for (int o = 0; o < out; ++o) {
        double s = bias ? vb[o] : 0;
        for (int k = 0; k < in; ++k) s += vx[r * in + k] * vw[o * in + k];
        y[r * out + o] = s;
      }
    return y;
  };
  Tensor y = ops::linear(x, w, b);
  ASSERT_EQ(y.shape(), (Shape{2, 5, out}));
  expect_close(y, naive(true), 1e-5, "with bias");
  expect_close(ops::linear(x, w), naive(false), 1e-5, "no bias");
  // transposed weight storage (e.g. a tied or transposed parameter) and non-contiguous input
  Tensor wt = w.transpose(0, 1).contiguous().transpose(0, 1);
  expect_close(ops::linear(x, wt, b), naive(true), 1e-5, "transposed weight");
  Tensor xt = x.transpose(0, 1).contiguous().transpose(0, 1);
  expect_close(ops::linear(xt, w, b), naive(true), 1e-5, "non-contiguous input");
  // 1-d input
  Tensor y1 = ops::linear(x.select(0, 0).select(0, 0), w, b);
  EXPECT_EQ(y1.shape(), (Shape{out}));
  auto n1 = naive(true);
  expect_close(y1, std::vector<double>(n1.begin(), n1.begin() + out), 1e-5, "1-d input");
  EXPECT_THROW(ops::linear(x, rnd({out, in + 1}, 1, -1, 1, false)), ValueError);
  EXPECT_THROW(ops::linear(x, w, rnd({out + 1}, 1, -1, 1, false)), ValueError);
}

// Few rows (decoding) take the weight-streaming kernel, which reads bf16/f16 weights as stored
// (bf16 [out, in] ones multiplied as bf16, the input rounded, where the CPU has native bf16);
// more rows take the GEMM (f16 read-only weights widened once; bf16 weights multiplied as bf16
// with the input rounded to bf16 where the CPU has native bf16). Against a double reference
// over the weights' exact values (and the rounded input where it is rounded), every epilogue.
TEST(Linear, FewRowsAndHalfWeightsAgainstNaive) {
  // out = 139: eight 16-lane vectors, then single vectors, then a scalar tail in the [in, out]
  // layout; not a multiple of the row block in the [out, in] layout.
  const int64_t in = 37, out = 139;
  for (DType wdt : {kF32, kBF16, kF16})
  for (bool kn : {false, true}) {  // [out, in] as nn.Linear stores it, or [in, out] (GPT-2's Conv1D)
    for (bool read_only : {false, true}) {
      Tensor w = rnd({out, in}, 31, -1, 1, false).to(wdt).contiguous();
      if (kn) w = w.transpose(0, 1).contiguous();
      if (read_only) {  // as a checkpoint loads it: a read-only view of immutable bytes
        auto keep = w.storage();
        w = Tensor::from_storage(Storage::view(keep->data(), keep->nbytes(), keep, true), w.shape(), wdt);
      }
      if (kn) w = w.transpose(0, 1);
      const auto vw = dvals(w.to(kF32));
      Tensor b = rnd({out}, 32, -1, 1, false);
      const auto vb = dvals(b);
      for (int64_t rows : {1, 2, 3, 4, 5, 17}) {
        Tensor x = rnd({rows, in}, 33 + rows, -1, 1, false), res = rnd({rows, out}, 34, -1, 1, false);
        const bool rounded = wdt == kBF16 && (rows > 4 ? ops::native_bf16_gemm() : cpu::gemv_bf16_products());
        const auto vx = dvals(rounded ? x.to(kBF16).to(kF32) : x), vr = dvals(res);
        for (auto act : {Activation::kNone, Activation::kGeluErf, Activation::kGeluTanh, Activation::kSilu,
                         Activation::kRelu}) {
          std::vector<double> want(size_t(rows * out));
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t o = 0; o < out; ++o) {
              double s = vb[o];
              for (int64_t k = 0; k < in; ++k) s += vx[r * in + k] * vw[o * in + k];
              if (act == Activation::kGeluErf) s = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
              if (act == Activation::kGeluTanh)
                s = 0.5 * s * (1 + std::tanh(std::sqrt(2 / M_PI) * (s + 0.044715 * s * s * s)));
              if (act == Activation::kSilu) s = s / (1 + std::exp(-s));
              if (act == Activation::kRelu) s = s < 0 ? 0 : s;
              want[r * out + o] = s + vr[r * out + o];
            }
          const std::string what = std::string(dtype_name(wdt)) + (read_only ? " read-only" : "") + (kn ? " [in,out]" : "") +
                                   " rows=" + std::to_string(rows) + " act=" + std::to_string(int(act));
          expect_close(ops::linear(x, w, b, {act, res}), want, 1e-5, what);
        }
      }
    }
  }
}

// One input feature with a strided weight column ([N, 1] cut out of a wider matrix).
TEST(Linear, FewRowsSingleInputFeatureStridedWeight) {
  Tensor w = rnd({8, 2}, 51, -1, 1, false).narrow(1, 0, 1), x = rnd({3, 1}, 52, -1, 1, false);
  const auto vx = dvals(x), vw = dvals(w.contiguous());
  std::vector<double> want;
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t o = 0; o < 8; ++o) want.push_back(vx[r] * vw[o]);
  expect_close(ops::linear(x, w), want, 1e-6, "[8, 1] with row stride 2");
}

// A read-only weight and its transpose share storage and data pointer (tied or square weights):
// the copy kept of one (bf16 widened to f32 or repacked for the bf16 GEMM; f32 repacked for the
// GEMM) must not be served for the other.
TEST(Linear, CachedCopyIsPerView) {
  const int64_t n = 24, rows = 17;
  for (DType wdt : {kBF16, kF32}) {
    Tensor w0 = rnd({n, n}, 41, -1, 1, false).to(wdt).contiguous();
    auto keep = w0.storage();
    Tensor w = Tensor::from_storage(Storage::view(keep->data(), keep->nbytes(), keep, true), w0.shape(), wdt);
    Tensor x = rnd({rows, n}, 42, -1, 1, false);
    const bool rounded = wdt == kBF16 && ops::native_bf16_gemm();
    const auto vx = dvals(rounded ? x.to(kBF16).to(kF32) : x), vw = dvals(w.to(kF32));
    for (bool transposed : {false, true}) {
      std::vector<double> want(size_t(rows * n));
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < n; ++o) {
          double s = 0;
          for (int64_t k = 0; k < n; ++k) s += vx[r * n + k] * (transposed ? vw[k * n + o] : vw[o * n + k]);
          want[r * n + o] = s;
        }
      expect_close(ops::linear(x, transposed ? w.transpose(0, 1) : w), want, 1e-5,
                   std::string(dtype_name(wdt)) + (transposed ? " transposed" : " as stored"));
    }
  }
}

// ---------------------------------------------------------------- gradients

TEST(MatmulGrad, TwoDim) {
  Tensor a = rnd({3, 4}, 30), b = rnd({4, 5}, 31);
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[0], in[1]); }, {a, b});
  // with transposed views inside f
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[1].transpose(0, 1), in[0].transpose(0, 1)); }, {a, b});
  // same tensor on both sides
  Tensor s = rnd({4, 4}, 32);
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[0], in[0]); }, {s});
}

TEST(MatmulGrad, BatchedWithBroadcasting) {
  Tensor a = rnd({2, 3, 4}, 40), b = rnd({4, 2}, 41);
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[0], in[1]); }, {a, b});
  Tensor c = rnd({2, 1, 3, 4}, 42), d = rnd({3, 4, 2}, 43);
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[0], in[1]); }, {c, d});
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[1].transpose(-1, -2), in[0].transpose(-1, -2)); }, {c, d});
}

TEST(MatmulGrad, OneDim) {
  Tensor v = rnd({4}, 50), u = rnd({4}, 51), m = rnd({4, 3}, 52), n = rnd({2, 4}, 53), bm = rnd({2, 4, 3}, 54);
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[0], in[1]); }, {v, u});
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[0], in[1]); }, {v, m});
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[0], in[1]); }, {n, v});
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[0], in[1]); }, {v, bm});
  EXPECT_GRAD([](const V& in) { return ops::matmul(in[1].transpose(-1, -2), in[0]); }, {v, bm});
}

TEST(LinearGrad, WithAndWithoutBias) {
  Tensor x = rnd({2, 3, 5}, 60), w = rnd({4, 5}, 61), b = rnd({4}, 62);
  EXPECT_GRAD([](const V& in) { return ops::linear(in[0], in[1], in[2]); }, {x, w, b});
  EXPECT_GRAD([](const V& in) { return ops::linear(in[0], in[1]); }, {x, w});
  Tensor x2 = rnd({3, 5}, 63);
  EXPECT_GRAD([](const V& in) { return ops::linear(in[0], in[1], in[2]); }, {x2, w, b});
  // only the weight requires grad (a frozen input), and a non-contiguous input
  Tensor xf = rnd({3, 2, 5}, 64, -1, 1, false);
  EXPECT_GRAD([xf](const V& in) { return ops::linear(xf.transpose(0, 1), in[0], in[1]); }, {w, b});
  Tensor x1 = rnd({5}, 65);
  EXPECT_GRAD([](const V& in) { return ops::linear(in[0], in[1], in[2]); }, {x1, w, b});
}

}  // namespace
}  // namespace cppformers
