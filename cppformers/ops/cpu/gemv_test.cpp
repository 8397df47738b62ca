#include "cppformers/ops/cpu/gemv.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cppformers/core/dtype.hpp"

namespace cppformers::cpu {
namespace {

// W's elements as stored (f32, or bf16/f16 bits) and as the exact values those bits mean.
struct Weights {
  std::vector<float> f32;
  std::vector<uint16_t> half;
  std::vector<double> value;
};

Weights make_weights(int64_t count, WeightType wt, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Weights w;
  for (int64_t i = 0; i < count; ++i) {
    const float v = u(rng);
    switch (wt) {
      case WeightType::kF32: w.f32.push_back(v), w.value.push_back(v); break;
      case WeightType::kBF16: w.half.push_back(f32_to_bf16(v)), w.value.push_back(bf16_to_f32(w.half.back())); break;
      case WeightType::kF16: w.half.push_back(f32_to_f16(v)), w.value.push_back(f16_to_f32(w.half.back())); break;
    }
  }
  return w;
}

double gelu_tanh(double v) { return 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))); }

// y = epilogue(x @ W^T) against a plain double loop, for W stored [N, K] (kn = false) or [K, N],
// every row count the kernel takes, odd sizes (vector tails) and padded row strides.
void check(int64_t M, int64_t N, int64_t K, WeightType wt, bool kn, bool epilogue, const std::string& what,
           int64_t w_offset = -1) {
  std::mt19937 rng(unsigned(M * 1000003 + N * 1009 + K * 7 + int(wt) * 3 + kn));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t ldx = K + 3, ldy = N + 5;
  std::vector<float> x(static_cast<size_t>(M * ldx)), bias(static_cast<size_t>(N)), residual(static_cast<size_t>(M * N));
  for (float& v : x) v = u(rng);
  for (float& v : bias) v = u(rng);
  for (float& v : residual) v = u(rng);
  const Weights w = make_weights(N * K, wt, rng);
  // element (n, k) at n * sn + k * sk
  const int64_t sn = kn ? 1 : K, sk = kn ? N : 1;
  std::vector<float> y(size_t(M * ldy), -7.0f);
  Epilogue ep;
  if (epilogue) ep = Epilogue{bias.data(), Activation::kGeluTanh, residual.data()};
  const void* wp = wt == WeightType::kF32 ? static_cast<const void*>(w.f32.data()) : w.half.data();
  std::vector<unsigned char> placed;  // W copied to w_offset bytes past a 64-byte boundary
  if (w_offset >= 0) {
    const size_t bytes = size_t(N * K) * (wt == WeightType::kF32 ? 4 : 2);
    placed.resize(bytes + 128);
    const uintptr_t base = (reinterpret_cast<uintptr_t>(placed.data()) + 63) / 64 * 64;
    unsigned char* at = placed.data() + (base - reinterpret_cast<uintptr_t>(placed.data())) + w_offset;
    std::memcpy(at, wp, bytes);
    wp = at;
  }
  gemv(M, N, K, x.data(), ldx, wp, wt, sn, sk, y.data(), ldy, ep);
  // bf16 weights multiply as bf16 where the CPU has the instruction: x rounded to bf16.
  const bool bf16_x = wt == WeightType::kBF16 && gemv_bf16_products();
  double max_err = 0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        const float xv = x[size_t(m * ldx + k)];
        s += double(bf16_x ? bf16_to_f32(f32_to_bf16(xv)) : xv) * w.value[size_t(n * sn + k * sk)];
      }
      if (epilogue) s = gelu_tanh(s + bias[size_t(n)]) + residual[size_t(m * N + n)];
      max_err = std::max(max_err, std::abs(s - double(y[size_t(m * ldy + n)])));
    }
  EXPECT_LT(max_err, 1e-5 * std::sqrt(double(K)) + 1e-6) << what;
  for (int64_t m = 0; m < M; ++m)  // the padding between output rows is left alone
    for (int64_t n = N; n < ldy && m + 1 < M; ++n) ASSERT_EQ(y[size_t(m * ldy + n)], -7.0f) << what;
}

TEST(Gemv, AgainstNaiveEveryLayoutTypeAndRowCount) {
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3})
    for (WeightType wt : {WeightType::kF32, WeightType::kBF16, WeightType::kF16})
      for (bool kn : {false, true})
        for (int64_t M = 1; M <= kGemvMaxRows; ++M)
          for (auto [N, K] : std::vector<std::pair<int64_t, int64_t>>{
                   {1, 1}, {7, 1}, {5, 3}, {17, 16}, {33, 37}, {64, 70}, {100, 131}, {300, 64}, {48, 259}})
            for (bool epilogue : {false, true}) {
              omp_set_num_threads(threads);
              check(M, N, K, wt, kn, epilogue,
                    "threads " + std::to_string(threads) + " type " + std::to_string(int(wt)) + (kn ? " [K, N]" : " [N, K]") +
                        " M " + std::to_string(M) + " N " + std::to_string(N) + " K " + std::to_string(K) +
                        (epilogue ? " with epilogue" : ""));
            }
  omp_set_num_threads(saved);
}

// The [K, N] kernel keeps its partial sums between calls: a call with a smaller N after a larger
// one, and a larger one after, must not see stale values.
TEST(Gemv, KNPartialsAreResetBetweenCalls) {
  for (auto [N, K] : std::vector<std::pair<int64_t, int64_t>>{{512, 96}, {40, 64}, {700, 200}, {3, 33}})
    check(2, N, K, WeightType::kBF16, true, false, "N " + std::to_string(N) + " K " + std::to_string(K));
}

// Checkpoint tensors are aligned to their element size only; the kernels peel the elements
// before the first 64-byte boundary. Every offset, with row strides that keep all rows equally
// aligned (multiples of 64 bytes) and ones that do not.
TEST(Gemv, WeightsAtEveryAlignment) {
  for (WeightType wt : {WeightType::kF32, WeightType::kBF16})
    for (bool kn : {false, true})
      for (int64_t offset = 0; offset < 64; offset += wt == WeightType::kF32 ? 4 : 2)
        for (auto [N, K] : std::vector<std::pair<int64_t, int64_t>>{{37, 64}, {64, 96}, {9, 131}, {70, 40}})
          check(kn ? 2 : 1, N, K, wt, kn, false,
                "type " + std::to_string(int(wt)) + (kn ? " [K, N]" : " [N, K]") + " offset " + std::to_string(offset) +
                    " N " + std::to_string(N) + " K " + std::to_string(K),
                offset);
}

TEST(Gemv, RejectsRowCountsOutsideTheKernel) {
  float x[4] = {}, w[4] = {}, y[4] = {};
  EXPECT_THROW(gemv(0, 1, 1, x, 1, w, WeightType::kF32, 1, 1, y, 1), std::invalid_argument);
  EXPECT_THROW(gemv(kGemvMaxRows + 1, 1, 1, x, 1, w, WeightType::kF32, 1, 1, y, 1), std::invalid_argument);
}

}  // namespace
}  // namespace cppformers::cpu
