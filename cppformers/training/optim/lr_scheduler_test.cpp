#include "cppformers/training/optim/lr_scheduler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "cppformers/training/optim/adamw.hpp"
#include "cppformers/training/optim/sgd.hpp"

namespace cppformers {
namespace {

using training::schedule_lambda;

// Values of transformers' lambdas with W = 2 warmup steps, T = 10 total, worked by hand.
TEST(Schedules, HandComputedValues) {
  auto at = [](const std::string& name, int64_t s) { return schedule_lambda(name, 2, 10)(s); };
  for (const char* n : {"linear", "cosine", "cosine_with_restarts", "polynomial", "constant_with_warmup",
                        "inverse_sqrt"}) {
    SCOPED_TRACE(n);
    EXPECT_DOUBLE_EQ(at(n, 0), 0.0);
    EXPECT_DOUBLE_EQ(at(n, 1), 0.5);
    EXPECT_DOUBLE_EQ(at(n, 2), 1.0);
  }
  EXPECT_DOUBLE_EQ(at("constant", 0), 1.0);
  EXPECT_DOUBLE_EQ(at("constant", 7), 1.0);
  EXPECT_DOUBLE_EQ(at("constant_with_warmup", 9), 1.0);
  // linear: (10 - s) / 8
  EXPECT_DOUBLE_EQ(at("linear", 6), 0.5);
  EXPECT_DOUBLE_EQ(at("linear", 9), 0.125);
  EXPECT_DOUBLE_EQ(at("linear", 10), 0.0);
  EXPECT_DOUBLE_EQ(at("linear", 12), 0.0);
  // cosine: 0.5 * (1 + cos(pi * progress)), progress = (s - 2) / 8
  EXPECT_NEAR(at("cosine", 6), 0.5, 1e-15);
  EXPECT_NEAR(at("cosine", 4), 0.5 * (1 + std::sqrt(0.5)), 1e-15);
  EXPECT_NEAR(at("cosine", 10), 0.0, 1e-15);
  // cosine with one restart cycle: same as cosine until progress 1, then 0
  EXPECT_NEAR(at("cosine_with_restarts", 6), 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(at("cosine_with_restarts", 10), 0.0);
  // two cycles: progress 0.5 -> (2 * 0.5) mod 1 = 0 -> restarts at 1
  EXPECT_NEAR(schedule_lambda("cosine_with_restarts", 2, 10, 1.0, {.num_cycles = 2})(6), 1.0, 1e-15);
  EXPECT_NEAR(schedule_lambda("cosine_with_restarts", 2, 10, 1.0, {.num_cycles = 2})(4), 0.5, 1e-15);
  // polynomial with power 1, lr0 = 1, lr_end = 1e-7: (1 - 1e-7) * (1 - (s - 2) / 8) + 1e-7
  EXPECT_NEAR(at("polynomial", 6), (1 - 1e-7) * 0.5 + 1e-7, 1e-15);
  EXPECT_NEAR(at("polynomial", 10), 1e-7, 1e-15);
  EXPECT_NEAR(at("polynomial", 11), 1e-7, 1e-15);
  EXPECT_NEAR(schedule_lambda("polynomial", 0, 4, 0.1, {.lr_end = 0.0, .power = 2.0})(2), 0.25, 1e-15);
  // inverse_sqrt with timescale = W = 2: 1 / sqrt(s / 2)
  EXPECT_NEAR(at("inverse_sqrt", 8), 0.5, 1e-15);
  // no warmup: the first factor is 1 for every decaying schedule
  for (const char* n : {"linear", "cosine", "cosine_with_restarts", "polynomial"})
    EXPECT_DOUBLE_EQ(schedule_lambda(n, 0, 10)(0), 1.0) << n;
  EXPECT_THROW(schedule_lambda("warmup_stable_decay_xyz", 0, 10), NotSupportedError);
  EXPECT_THROW(schedule_lambda("linear", -1, 10), ValueError);
  EXPECT_THROW(schedule_lambda("polynomial", 0, 10, 1e-8), ValueError);  // lr below lr_end
}

TEST(LambdaLR, DrivesEveryGroupsLrAndRestoresState) {
  Tensor a = Tensor::zeros({1}).requires_grad_(), b = Tensor::zeros({1}).requires_grad_();
  training::AdamW opt({training::ParamGroup{{a}, 1e-3, 0.01}, training::ParamGroup{{b}, 2e-3, 0.0}},
                      training::AdamWOptions{});
  auto sched = training::get_scheduler("linear", opt, 2, 10);
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.0);  // lambda(0) applied on construction
  sched.step();
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].lr, 0.5e-3);
  EXPECT_DOUBLE_EQ(opt.param_groups()[1].lr, 1e-3);
  for (int i = 0; i < 5; ++i) sched.step();  // step 6: factor 0.5
  EXPECT_DOUBLE_EQ(sched.get_last_lr()[1], 1e-3);
  const auto state = sched.state_dict();

  Tensor a2 = Tensor::zeros({1}).requires_grad_(), b2 = Tensor::zeros({1}).requires_grad_();
  training::AdamW opt2({training::ParamGroup{{a2}, 1e-3, 0.01}, training::ParamGroup{{b2}, 2e-3, 0.0}},
                       training::AdamWOptions{});
  auto sched2 = training::get_scheduler("linear", opt2, 2, 10);
  sched2.load_state_dict(state, "scheduler.json");
  EXPECT_EQ(sched2.last_epoch(), 6);
  EXPECT_DOUBLE_EQ(opt2.param_groups()[1].lr, 1e-3);
  sched.step();
  sched2.step();
  EXPECT_EQ(opt.param_groups()[0].lr, opt2.param_groups()[0].lr);
}

TEST(LambdaLR, WorksWithSgd) {
  Tensor p = Tensor::zeros({1}).requires_grad_();
  training::SGD opt({p}, 0.1);
  auto sched = training::get_scheduler("cosine", opt, 0, 4);
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1);
  sched.step();
  sched.step();
  EXPECT_NEAR(opt.lr(), 0.05, 1e-15);
}

}  // namespace
}  // namespace cppformers
