#include "cppformers/training/optim/adamw.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

// torch.optim.AdamW written out in double for loss = sum(c * p^2) / 2 (gradient c * p).
TEST(AdamW, MatchesTorchFormulasByHand) {
  const std::vector<float> p0{1.0f, -2.0f, 0.5f, 0.0f}, c{1.0f, 0.5f, 3.0f, -1.0f};
  for (bool amsgrad : {false, true}) {
    Tensor p = Tensor::from_vector<float>(p0, {4}).requires_grad_();
    Tensor ct = Tensor::from_vector<float>(c, {4});
    training::AdamWOptions o;
    o.lr = 0.01;
    o.weight_decay = 0.1;
    o.amsgrad = amsgrad;
    training::AdamW opt({p}, o);
    std::vector<double> hp(p0.begin(), p0.end()), m(4, 0), v(4, 0), vmax(4, 0);
    for (int s = 1; s <= 5; ++s) {
      opt.zero_grad();
      ops::sum(ct * p * p * 0.5).backward();
      opt.step();
      for (int i = 0; i < 4; ++i) {
        const double g = c[i] * hp[i];
        hp[i] *= 1 - o.lr * o.weight_decay;
        m[i] = 0.9 * m[i] + 0.1 * g;
        v[i] = 0.999 * v[i] + 0.001 * g * g;
        vmax[i] = std::max(vmax[i], v[i]);
        const double denom = std::sqrt(amsgrad ? vmax[i] : v[i]) / std::sqrt(1 - std::pow(0.999, s)) + 1e-8;
        hp[i] -= o.lr / (1 - std::pow(0.9, s)) * m[i] / denom;
      }
      const auto got = p.to_vector<float>();
      for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], hp[i], 2e-6) << "step " << s << " element " << i;
    }
    EXPECT_EQ(opt.step_count(0), 5);
    EXPECT_EQ(p.grad_fn(), nullptr);
  }
}

TEST(AdamW, FirstStepMovesByLrTimesSign) {
  // With bias correction, the first update is lr * g / (|g| + eps') ~ lr * sign(g).
  Tensor p = Tensor::from_vector<float>({1.0f, -1.0f}, {2}).requires_grad_();
  training::AdamW opt({p}, {.lr = 0.1, .weight_decay = 0});
  p.set_grad(Tensor::from_vector<float>({3.0f, -0.5f}, {2}));
  opt.step();
  const auto v = p.to_vector<float>();
  EXPECT_NEAR(v[0], 0.9f, 1e-6);
  EXPECT_NEAR(v[1], -0.9f, 1e-6);
}

TEST(AdamW, ParamGroupsSkipsMissingGradsAndSavesState) {
  Tensor a = Tensor::from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor b = Tensor::from_vector<float>({3, 4}, {2}).requires_grad_();
  training::AdamW opt({training::ParamGroup{{a}, 0.1, 0.5}, training::ParamGroup{{b}, 0.1, 0.0}},
                      training::AdamWOptions{});
  a.set_grad(Tensor::from_vector<float>({0, 0}, {2}));  // zero grad: only decay moves a
  opt.step();
  EXPECT_EQ(opt.step_count(0), 1);
  EXPECT_EQ(opt.step_count(1), 0);  // b had no grad
  EXPECT_NEAR(a.to_vector<float>()[0], 1 * (1 - 0.1 * 0.5), 1e-7);
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{3, 4}));

  // save -> load into a fresh optimizer -> both continue identically
  const auto dir = std::filesystem::temp_directory_path() / "cppformers_adamw_state";
  std::filesystem::create_directories(dir);
  b.set_grad(Tensor::from_vector<float>({1, -1}, {2}));
  opt.step();
  opt.save(dir.string());
  Tensor a2 = a.detach().clone().requires_grad_(), b2 = b.detach().clone().requires_grad_();
  training::AdamW opt2({training::ParamGroup{{a2}, 0.7, 0.5}, training::ParamGroup{{b2}, 0.7, 0.0}},
                       training::AdamWOptions{});
  opt2.load(dir.string());
  EXPECT_EQ(opt2.param_groups()[0].lr, 0.1);
  for (int s = 0; s < 3; ++s) {
    for (auto* t : {&a, &b, &a2, &b2}) t->set_grad(Tensor::from_vector<float>({0.5f, -2.0f}, {2}));
    opt.step();
    opt2.step();
  }
  EXPECT_EQ(a.to_vector<float>(), a2.to_vector<float>());
  EXPECT_EQ(b.to_vector<float>(), b2.to_vector<float>());
  // a wrong parameter list is refused with the file named
  training::AdamW wrong({a2}, training::AdamWOptions{});
  EXPECT_THROW(wrong.load(dir.string()), FormatError);
  std::filesystem::remove_all(dir);
}

TEST(AdamW, InvalidArguments) {
  Tensor p = Tensor::zeros({1}).requires_grad_();
  EXPECT_THROW(training::AdamW({p}, {.lr = -1}), ValueError);
  EXPECT_THROW(training::AdamW({p}, {.beta1 = 1.0}), ValueError);
  EXPECT_THROW(training::AdamW({p}, {.beta2 = -0.1}), ValueError);
  EXPECT_THROW(training::AdamW({p}, {.eps = -1}), ValueError);
  EXPECT_THROW(training::AdamW({p}, {.weight_decay = -1}), ValueError);
  EXPECT_THROW(training::AdamW({Tensor::arange(3)}, {}), ValueError);
}

// ../shared/fixtures/hf/train_bert_seqcls: 3 x (zero_grad; forward; backward; step) of
// torch.optim.AdamW(lr=1e-3, weight_decay=0.01) on one batch.
TEST(AdamW, ThreeStepsMatchPythonOnTinyBert) {
  const std::string dir = testing::hf_fixture("train_bert_seqcls");
  const auto meta = testing::golden_json(dir);
  auto model = AutoModelForSequenceClassification::from_pretrained(dir);
  model->train();
  model->make_parameters_writable();
  const io::StateDict golden = io::load_file(dir + "/golden.safetensors");
  const ModelInputs in = ModelInputs::from_tensors(golden);
  training::AdamW opt(model->parameters(), {.lr = 1e-3, .weight_decay = 0.01});
  const auto& losses = meta["adamw"]["losses_before_each_step"];
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    ModelOutput o = model->forward(in);
    const double want = losses[step].get<double>();
    EXPECT_NEAR(o.loss.item(), want, 1e-4 * std::abs(want)) << "step " << step;
    o.loss.backward();
    opt.step();
  }
  const io::StateDict after = io::load_file(dir + "/" + meta["adamw"]["file"].get<std::string>());
  const auto& roundoff = meta["roundoff_only_grads"]["params"];
  double max_diff = 0, max_roundoff_diff = 0;
  int compared = 0;
  for (auto& [name, p] : model->named_parameters()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(after.count(name));
    const auto ours = p.to_vector<float>(), want = after.at(name).to_vector<float>();
    ASSERT_EQ(ours.size(), want.size());
    double d = 0;
    for (size_t i = 0; i < ours.size(); ++i) d = std::max(d, double(std::fabs(ours[i] - want[i])));
    if (roundoff.contains(name)) {
      max_roundoff_diff = std::max(max_roundoff_diff, d);
      EXPECT_LE(d, 3e-3);
    } else {
      max_diff = std::max(max_diff, d);
      EXPECT_LE(d, 1e-5);
    }
    ++compared;
  }
  EXPECT_EQ(compared, int(after.size()));
  std::printf("AdamW parity: max |diff| %.3g (roundoff-only key biases: %.3g)\n", max_diff, max_roundoff_diff);
  {
    autograd::NoGradGuard no_grad;
    EXPECT_NEAR(model->forward(in).loss.item(), meta["adamw"]["loss_after_3_steps"].get<double>(), 1e-4);
  }
}

}  // namespace
}  // namespace cppformers
