#include "cppformers/ops/random.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

TEST(Random, GeneratorsAreReproducibleAndDistributionsRight) {
  ops::Generator g1(7), g2(7), g3(8);
  Tensor a = ops::randn({1000}, &g1), b = ops::randn({1000}, &g2), c = ops::randn({1000}, &g3);
  EXPECT_EQ(vals(a), vals(b));
  EXPECT_NE(vals(a), vals(c));
  Tensor n = ops::randn({200000}, &g1);
  const double m = ops::mean(n).item();
  const double var = ops::mean(n * n).item() - m * m;
  EXPECT_NEAR(m, 0, 0.01);
  EXPECT_NEAR(var, 1, 0.02);
  Tensor u = ops::rand({200000}, &g1);
  auto vu = vals(u);
  EXPECT_GE(*std::min_element(vu.begin(), vu.end()), 0.0f);
  EXPECT_LT(*std::max_element(vu.begin(), vu.end()), 1.0f);
  EXPECT_NEAR(ops::mean(u).item(), 0.5, 0.005);
  Tensor nm = ops::normal({200000}, 3.0, 0.5, &g1);
  EXPECT_NEAR(ops::mean(nm).item(), 3.0, 0.01);
  ops::manual_seed(123);
  Tensor d1 = ops::rand({10});
  ops::manual_seed(123);
  EXPECT_EQ(vals(ops::rand({10})), vals(d1));
}

TEST(Dropout, TrainingStatisticsAndEvalIdentity) {
  Tensor x = Tensor::full({100000}, 2.0);
  for (double p : {0.1, 0.5, 0.8}) {
    ops::Generator g(1);
    auto y = vals(ops::dropout(x, p, true, &g));
    int64_t zeros = 0;
    for (float v : y) {
      if (v == 0) {
        ++zeros;
      } else {
        ASSERT_FLOAT_EQ(v, float(2.0 / (1.0 - p)));
      }
    }
    EXPECT_NEAR(double(zeros) / 100000.0, p, 0.01) << "p " << p;
  }
  EXPECT_TRUE(ops::dropout(x, 0.5, false).same(x));  // eval: the identity
  EXPECT_TRUE(ops::dropout(x, 0.0, true).same(x));
  EXPECT_EQ(vals(ops::dropout(x.narrow(0, 0, 5), 1.0, true)), std::vector<float>(5, 0.0f));
  EXPECT_THROW(ops::dropout(x, 1.5, true), ValueError);
  EXPECT_THROW(ops::dropout(x, -0.1, true), ValueError);
  // the same generator state gives the same mask
  ops::Generator ga(5), gb(5);
  EXPECT_EQ(vals(ops::dropout(x, 0.3, true, &ga)), vals(ops::dropout(x, 0.3, true, &gb)));
}

TEST(Dropout, MaskBitsAreUnbiasedAndIndependent) {
  // the keep rate of even and odd elements (the two halves of one 64-bit draw), the rate of
  // both of a neighbouring pair kept, and a different mask for the next call
  const int64_t n = 400000;
  const double p = 0.3;
  Tensor x = Tensor::ones({n});
  ops::Generator g(11);
  auto a = vals(ops::dropout(x, p, true, &g));
  auto b = vals(ops::dropout(x, p, true, &g));
  int64_t kept[2] = {0, 0}, both = 0, both_next = 0, same_ab = 0;
  for (int64_t i = 0; i < n; ++i) {
    kept[i & 1] += a[i] != 0;
    if (i + 1 < n && (i & 1) == 0) both += a[i] != 0 && a[i + 1] != 0;
    if (i + 1 < n && (i & 1) == 1) both_next += a[i] != 0 && a[i + 1] != 0;
    same_ab += (a[i] != 0) == (b[i] != 0);
  }
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(double(kept[k]) / (n / 2), 1 - p, 0.005) << k;
  EXPECT_NEAR(double(both) / (n / 2), (1 - p) * (1 - p), 0.005);
  EXPECT_NEAR(double(both_next) / (n / 2), (1 - p) * (1 - p), 0.005);
  EXPECT_NEAR(double(same_ab) / n, (1 - p) * (1 - p) + p * p, 0.005);  // independent masks
  // one draw per call, whatever the size
  ops::Generator g1(4), g2(4);
  ops::dropout(x, p, true, &g1);
  g2.engine()();
  EXPECT_EQ(g1.engine()(), g2.engine()());
}

TEST(DropoutGrad, GradientIsTheMaskScaling) {
  const double p = 0.4;
  Tensor x = rnd({6, 7}, 1, 0.5, 1.5);
  ops::Generator g(3);
  Tensor y = ops::dropout(x, p, true, &g);
  Tensor w = rnd({6, 7}, 2, -1, 1, false);
  ops::sum(y * w).backward();
  auto gx = vals(x.grad()), vy = vals(y), vx = vals(x), vw = vals(w);
  int kept = 0;
  for (size_t i = 0; i < gx.size(); ++i) {
    const bool keep = vy[i] != 0;
    kept += keep;
    if (keep) {
      EXPECT_NEAR(vy[i], vx[i] / (1 - p), 1e-6);
    }
    EXPECT_FLOAT_EQ(gx[i], keep ? float(vw[i] / (1 - p)) : 0.0f) << i;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 42);
  // and by finite differences, with a generator re-seeded on every call
  x.set_grad(Tensor());
  EXPECT_GRAD([p](const V& in) {
    ops::Generator gen(9);
    return ops::dropout(in[0], p, true, &gen);
  }, {x});
}

}  // namespace
}  // namespace cppformers
