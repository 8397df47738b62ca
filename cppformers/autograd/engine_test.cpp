// Tensor::backward() and the tape: accumulation, graph shapes, NoGradGuard, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;

TEST(Engine, DiamondGraphAccumulates) {
  Tensor x = Tensor::from_vector<float>({-0.5f, 0.25f, 1.0f}, {3}).requires_grad_();
  // a is used by two branches that meet again in c: d/dx sum(2x * exp(2x) + 2x)
  Tensor a = x * 2.0;
  Tensor b = ops::exp(a);
  Tensor c = a * b + a;
  ops::sum(c).backward();
  auto g = dvals(x.grad());
  for (int i = 0; i < 3; ++i) {
    const double v = at(x, i), want = 2 * std::exp(2 * v) + 4 * v * std::exp(2 * v) + 2;
    EXPECT_NEAR(g[i], want, 1e-5 * std::abs(want));
  }
  // a tensor used twice by one op, and non-leaf tensors keep no .grad
  Tensor y = Tensor::from_vector<float>({3}, {1}).requires_grad_();
  Tensor z = y * y + y;
  ops::sum(z).backward();
  EXPECT_FLOAT_EQ(float(y.grad().item()), 7.0f);
  EXPECT_FALSE(z.grad().defined());
  EXPECT_NE(z.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Engine, LeafGradAccumulatesAcrossBackwardCalls) {
  Tensor x = Tensor::from_vector<float>({1, 2}, {2}).requires_grad_();
  ops::sum(x * 3.0).backward();
  EXPECT_EQ(vals(x.grad()), (std::vector<float>{3, 3}));
  ops::sum(x * x).backward();  // a fresh graph: adds 2x
  EXPECT_EQ(vals(x.grad()), (std::vector<float>{5, 7}));
  x.set_grad(Tensor());  // zero_grad(set_to_none)
  ops::sum(x).backward();
  EXPECT_EQ(vals(x.grad()), (std::vector<float>{1, 1}));
  // backward on a leaf itself accumulates the given gradient
  x.backward(Tensor::from_vector<float>({10, 20}, {2}));
  EXPECT_EQ(vals(x.grad()), (std::vector<float>{11, 21}));
}

TEST(Engine, LeafGradsDoNotAliasEachOtherOrTheSeed) {
  // add passes its gradient through unchanged to both inputs; the leaves must still get
  // gradients of their own (optimizers and clip_grad_norm_ update .grad in place)
  Tensor a = Tensor::from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor b = Tensor::from_vector<float>({3, 4}, {2}).requires_grad_();
  ops::sum(a + b).backward();
  ASSERT_TRUE(a.grad().defined() && b.grad().defined());
  EXPECT_NE(a.grad().storage().get(), b.grad().storage().get());
  a.grad().fill_(5);
  EXPECT_EQ(vals(b.grad()), (std::vector<float>{1, 1}));
  // a gradient given to backward() is not adopted as the leaf's .grad
  Tensor c = Tensor::from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor seed = Tensor::from_vector<float>({7, 8}, {2});
  (c * 1.0).backward(seed);
  c.grad().fill_(0);
  EXPECT_EQ(vals(seed), (std::vector<float>{7, 8}));
  Tensor d = Tensor::from_vector<float>({1, 2}, {2}).requires_grad_();
  d.backward(seed);
  d.grad().fill_(0);
  EXPECT_EQ(vals(seed), (std::vector<float>{7, 8}));
}

TEST(Engine, ExplicitGradientForNonScalars) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {3}).requires_grad_();
  Tensor y = x * x;
  y.backward(Tensor::from_vector<float>({1, 0.5f, -1}, {3}));
  EXPECT_EQ(vals(x.grad()), (std::vector<float>{2, 2, -6}));
  Tensor y2 = x * 2.0;
  EXPECT_THROW(y2.backward(Tensor::ones({2})), ValueError);
}

TEST(Engine, NonScalarWithoutGradientThrows) {
  Tensor x = rnd({3}, 1);
  Tensor y = ops::exp(x);
  try {
    y.backward();
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("scalar"), std::string::npos) << e.what();
  }
  EXPECT_THROW(rnd({2}, 2, -1, 1, false).backward(), ValueError);  // requires no grad
  EXPECT_THROW(ops::sum(rnd({2}, 2, -1, 1, false)).backward(), ValueError);
}

TEST(Engine, SecondBackwardThroughAFreedGraphThrows) {
  Tensor x = rnd({3}, 3);
  Tensor loss = ops::sum(ops::exp(x) * x);
  loss.backward();
  const std::vector<float> first = vals(x.grad());
  try {
    loss.backward();
    FAIL() << "no error";
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("freed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("backward"), std::string::npos) << msg;
  }
  EXPECT_EQ(vals(x.grad()), first);  // nothing accumulated by the failed call
  // a graph shared with an earlier loss is freed too
  Tensor h = x * 2.0;
  ops::sum(h).backward();
  EXPECT_THROW(ops::sum(h * 3.0).backward(), ValueError);
}

TEST(Engine, NoGradGuardStopsRecording) {
  Tensor x = rnd({2, 2}, 4);
  EXPECT_TRUE(autograd::grad_enabled());
  {
    autograd::NoGradGuard guard;
    EXPECT_FALSE(autograd::grad_enabled());
    Tensor y = ops::matmul(x, x) + x;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    Tensor v = x.transpose(0, 1);
    EXPECT_EQ(v.grad_fn(), nullptr);
    {
      autograd::NoGradGuard nested;
    }
    EXPECT_FALSE(autograd::grad_enabled());  // the inner guard restores "off"
  }
  EXPECT_TRUE(autograd::grad_enabled());
  Tensor y = x * x;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name, "mul");
}

TEST(Engine, DetachBreaksTheGraph) {
  Tensor x = Tensor::from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor d = (x * 3.0).detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.grad_fn(), nullptr);
  ops::sum(d * x).backward();  // d is a constant: grad = d
  EXPECT_EQ(vals(x.grad()), (std::vector<float>{3, 6}));
  // detach shares storage
  Tensor xd = x.detach();
  EXPECT_EQ(xd.storage().get(), x.storage().get());
  EXPECT_FALSE(xd.requires_grad());
}

TEST(Engine, OnlyLeavesThatRequireGradReceiveIt) {
  Tensor a = rnd({2}, 5), b = rnd({2}, 6, -1, 1, false);
  ops::sum(a * b).backward();
  EXPECT_TRUE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  EXPECT_THROW(Tensor::arange(3).requires_grad_(), ValueError);  // integers cannot
}

TEST(Engine, DeepChainsNeedNoDeepRecursion) {
  Tensor x = Tensor::from_vector<float>({1}, {1}).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 10000; ++i) y = y * 1.0;
  ops::sum(y).backward();
  EXPECT_EQ(vals(x.grad()), (std::vector<float>{1}));
  y = Tensor();  // releasing a long chain of nodes must not overflow the stack either
}

}  // namespace
}  // namespace cppformers
