#include "cppformers/training/optim/clip_grad.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/ops/ops.hpp"

namespace cppformers {
namespace {

TEST(ClipGradNorm, ScalesAllGradsByTheGlobalNorm) {
  Tensor a = Tensor::zeros({2}).requires_grad_(), b = Tensor::zeros({1}).requires_grad_();
  Tensor c = Tensor::zeros({1}).requires_grad_();  // no grad: ignored
  a.set_grad(Tensor::from_vector<float>({3, 0}, {2}));
  b.set_grad(Tensor::from_vector<float>({4}, {1}));
  const double total = training::clip_grad_norm_({a, b, c}, 1.0);
  EXPECT_NEAR(total, 5.0, 1e-6);
  const float coef = float(1.0 / (5.0f + 1e-6f));
  EXPECT_FLOAT_EQ(a.grad().to_vector<float>()[0], 3 * coef);
  EXPECT_FLOAT_EQ(b.grad().to_vector<float>()[0], 4 * coef);
  EXPECT_FALSE(c.grad().defined());
  // under the limit: untouched
  a.set_grad(Tensor::from_vector<float>({0.3f, 0.4f}, {2}));
  b.set_grad(Tensor());
  EXPECT_NEAR(training::clip_grad_norm_({a, b}, 1.0), 0.5, 1e-7);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{0.3f, 0.4f}));
}

TEST(ClipGradNorm, InfNormAndErrors) {
  Tensor a = Tensor::zeros({3}).requires_grad_();
  a.set_grad(Tensor::from_vector<float>({1, -6, 2}, {3}));
  EXPECT_DOUBLE_EQ(training::grad_norm({a}, training::kInfNorm), 6.0);
  EXPECT_NEAR(training::clip_grad_norm_({a}, 3.0, training::kInfNorm), 6.0, 0);
  EXPECT_NEAR(a.grad().to_vector<float>()[1], -3.0f, 1e-5);
  a.set_grad(Tensor::from_vector<float>({NAN, 1, 1}, {3}));
  EXPECT_THROW(training::clip_grad_norm_({a}, 1.0, 2.0, /*error_if_nonfinite=*/true), ValueError);
  EXPECT_THROW(training::grad_norm({a}, 0.0), ValueError);
  EXPECT_EQ(training::grad_norm({}), 0.0);
}

// Gradient accumulation: .grad sums over backward() calls, so k micro-batches of a mean loss
// each divided by k give the full batch's gradient.
TEST(GradientAccumulation, MicroBatchesSumToTheFullBatchGradient) {
  Tensor w = Tensor::from_vector<float>({0.5f, -1.0f}, {2}).requires_grad_();
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2});
  ops::mean(ops::matmul(x, w.unsqueeze(1)) * ops::matmul(x, w.unsqueeze(1))).backward();
  const auto full = w.grad().to_vector<float>();
  w.set_grad(Tensor());
  for (int k = 0; k < 2; ++k) {
    Tensor xb = x.narrow(0, 2 * k, 2);
    (ops::mean(ops::matmul(xb, w.unsqueeze(1)) * ops::matmul(xb, w.unsqueeze(1))) / 2.0).backward();
  }
  const auto acc = w.grad().to_vector<float>();
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(acc[i], full[i], 1e-5 * std::fabs(full[i]));
}

}  // namespace
}  // namespace cppformers
