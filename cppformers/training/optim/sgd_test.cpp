#include "cppformers/training/optim/sgd.hpp"

#include <gtest/gtest.h>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {
namespace {

std::vector<float> vals(const Tensor& t) { return t.to_vector<float>(); }

// Runs `steps` steps of SGD on loss = sum(c * p^2) / 2 (gradient c * p) from p0, and the same in
// plain double arithmetic with torch's formulas; compares after every step.
void check_against_hand(double lr, double momentum, double wd, bool nesterov, int steps) {
  const std::vector<float> p0{1.0f, -2.0f, 0.5f}, c{1.0f, 0.5f, 3.0f};
  Tensor p = Tensor::from_vector<float>(p0, {3}).requires_grad_();
  Tensor ct = Tensor::from_vector<float>(c, {3});
  training::SGD opt({p}, lr, momentum, wd, nesterov);
  std::vector<double> hp(p0.begin(), p0.end()), buf(3, 0.0);
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    ops::sum(ct * p * p * 0.5).backward();
    opt.step();
    for (int i = 0; i < 3; ++i) {
      double g = c[i] * hp[i] + wd * hp[i];
      if (momentum != 0) {
        buf[i] = s == 0 ? g : momentum * buf[i] + g;
        g = nesterov ? g + momentum * buf[i] : buf[i];
      }
      hp[i] -= lr * g;
    }
    auto got = vals(p);
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(got[i], hp[i], 1e-6) << "step " << s << " element " << i << " (momentum " << momentum
                                       << ", wd " << wd << ", nesterov " << nesterov << ")";
  }
}

TEST(SGD, PlainSteps) {
  // written out: p = 1, c = 1, lr = 0.1 -> 0.9 -> 0.81 -> 0.729
  Tensor p = Tensor::from_vector<float>({1.0f}, {1}).requires_grad_();
  training::SGD opt({p}, 0.1);
  for (float want : {0.9f, 0.81f, 0.729f}) {
    opt.zero_grad();
    ops::sum(p * p * 0.5).backward();
    opt.step();
    EXPECT_NEAR(vals(p)[0], want, 1e-7);
  }
  check_against_hand(0.1, 0, 0, false, 3);
}

TEST(SGD, MomentumSteps) {
  // p = 1, c = 1, lr = 0.1, momentum 0.9:
  // step 1: g = 1, buf = 1, p = 0.9; step 2: g = 0.9, buf = 1.8, p = 0.72;
  // step 3: g = 0.72, buf = 2.34, p = 0.486
  Tensor p = Tensor::from_vector<float>({1.0f}, {1}).requires_grad_();
  training::SGD opt({p}, 0.1, 0.9);
  for (float want : {0.9f, 0.72f, 0.486f}) {
    opt.zero_grad();
    ops::sum(p * p * 0.5).backward();
    opt.step();
    EXPECT_NEAR(vals(p)[0], want, 1e-6);
  }
  check_against_hand(0.1, 0.9, 0, false, 3);
  check_against_hand(0.05, 0.5, 0.01, false, 3);
  check_against_hand(0.05, 0.9, 0.1, true, 3);
  check_against_hand(0.2, 0, 0.1, false, 2);
}

TEST(SGD, SkipsParamsWithoutGradAndRecordsNothing) {
  Tensor a = Tensor::from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor b = Tensor::from_vector<float>({3, 4}, {2}).requires_grad_();
  training::SGD opt({a, b}, 0.5, 0.9);
  ops::sum(a * 2.0).backward();  // b gets no grad
  opt.step();
  EXPECT_EQ(vals(a), (std::vector<float>{0, 1}));
  EXPECT_EQ(vals(b), (std::vector<float>{3, 4}));
  // in place: the same tensor, still a leaf, no graph recorded by the update
  EXPECT_EQ(a.grad_fn(), nullptr);
  EXPECT_TRUE(a.requires_grad());
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  // b's first real step starts its momentum buffer fresh (buf = g)
  ops::sum(b * 1.0).backward();
  opt.step();
  EXPECT_EQ(vals(b), (std::vector<float>{2.5f, 3.5f}));
  EXPECT_EQ(vals(a), (std::vector<float>{0, 1}));  // zero_grad dropped a's grad: skipped
}

TEST(SGD, UpdatesViewsAndNonF32Params) {
  // a bf16 parameter is updated in its own dtype
  Tensor p = Tensor::from_vector<float>({1, 2}, {2}).to(kBF16);
  p.requires_grad_();
  p.set_grad(Tensor::from_vector<float>({1, 1}, {2}));
  training::SGD opt({p}, 0.5);
  opt.step();
  EXPECT_EQ(p.dtype(), kBF16);
  EXPECT_EQ(vals(p), (std::vector<float>{0.5f, 1.5f}));
}

TEST(SGD, InvalidArguments) {
  Tensor p = Tensor::zeros({1}).requires_grad_();
  EXPECT_THROW(training::SGD({p}, -1), ValueError);
  EXPECT_THROW(training::SGD({p}, 0.1, -0.5), ValueError);
  EXPECT_THROW(training::SGD({p}, 0.1, 0, -1), ValueError);
  EXPECT_THROW(training::SGD({p}, 0.1, 0, 0, /*nesterov=*/true), ValueError);
  EXPECT_THROW(training::SGD({Tensor::arange(2)}, 0.1), ValueError);
  training::SGD ok({p}, 0.1);
  ok.set_lr(0.01);
  EXPECT_EQ(ok.lr(), 0.01);
}

}  // namespace
}  // namespace cppformers
