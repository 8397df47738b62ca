#include "cppformers/autograd/gradcheck.hpp"

#include <gtest/gtest.h>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

// x * x with a backward scaled by `factor` (1 is correct).
Tensor square_with_backward(const Tensor& x, double factor) {
  Tensor y;
  {
    autograd::NoGradGuard ng;
    y = ops::mul(x, x);
  }
  autograd::record(y, "square", {x}, [x = x.detach(), factor](const Tensor& g) {
    return std::vector<Tensor>{ops::mul(g, x * (2.0 * factor))};
  });
  return y;
}

TEST(Gradcheck, AcceptsACorrectGradient) {
  Tensor x = rnd({3, 4}, 1);
  std::string report;
  EXPECT_TRUE(autograd::gradcheck([](const V& in) { return square_with_backward(in[0], 1.0); }, {x}, 1e-3,
                                  1e-3, 1e-2, &report))
      << report;
  // gradcheck leaves the input's values as they were
  EXPECT_EQ(vals(x), uniform(12, 1));
}

TEST(Gradcheck, RejectsAWrongGradientAndSaysWhere) {
  Tensor x = rnd({3, 4}, 2, 0.5, 1.5);
  std::string report;
  EXPECT_FALSE(autograd::gradcheck([](const V& in) { return square_with_backward(in[0], 1.1); }, {x}, 1e-3,
                                   1e-3, 1e-2, &report));
  EXPECT_NE(report.find("input 0"), std::string::npos) << report;
  EXPECT_NE(report.find("analytic"), std::string::npos) << report;
}

TEST(Gradcheck, RejectsAMissingGradient) {
  // the graph is cut by detach(): autograd gives no gradient, the numbers say otherwise
  Tensor x = rnd({4}, 3), y = rnd({4}, 4);
  std::string report;
  EXPECT_FALSE(autograd::gradcheck([](const V& in) { return in[0].detach() * in[1]; }, {x, y}, 1e-3, 1e-3,
                                   1e-2, &report));
  EXPECT_NE(report.find("input 0"), std::string::npos) << report;
  EXPECT_EQ(report.find("input 1"), std::string::npos) << report;  // y's gradient is right
}

TEST(Gradcheck, EveryOutputElementMatters) {
  // a wrong gradient in only one output element's path is caught
  Tensor x = rnd({5}, 5, 0.5, 1.5);
  auto f = [](const V& in) {
    Tensor good = in[0].narrow(0, 0, 4) * 3.0;
    Tensor bad = square_with_backward(in[0].narrow(0, 4, 1), 0.5);
    return ops::cat({good, bad}, 0);
  };
  EXPECT_FALSE(autograd::gradcheck(f, {x}));
}

TEST(Gradcheck, SkipsInputsThatNeedNoGradAndChecksNonContiguousLeaves) {
  Tensor x = rnd({3, 4}, 6), c = rnd({3, 4}, 7, -1, 1, false);
  EXPECT_GRAD([](const V& in) { return in[0] * in[1]; }, {x, c});
  // a transposed leaf is perturbed element by element through its strides
  Tensor base = rnd({4, 3}, 8, -1, 1, false);
  Tensor xt = base.transpose(0, 1).requires_grad_();
  EXPECT_GRAD([](const V& in) { return ops::exp(in[0]) * ops::sum(in[0], {1}, true); }, {xt});
}

}  // namespace
}  // namespace cppformers
