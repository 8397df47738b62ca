#include "cppformers/training/optim/adafactor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/core/error.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/testing/fixtures.hpp"
#include "cppformers/training/trainer.hpp"

namespace cppformers {
namespace {

using training::Adafactor;
using training::AdafactorOptions;

// transformers.Adafactor.step written out again, in double, from the published algorithm
// (Shazeer & Stern 2018, Algorithms 4 and 5, with transformers' relative step, parameter
// scale, update clipping and optional first moment), for a parameter of shape [B, R, C]
// (B = 1 and R = 1 are the 2-d and 1-d cases; `factored` says whether the second moment is
// kept as row and column sums).
struct Reference {
  int64_t B, R, C;
  bool factored;
  AdafactorOptions o;
  double lr_group;
  std::vector<double> p, m, v, row, col;
  int64_t step = 0;

  Reference(std::vector<double> p0, int64_t B, int64_t R, int64_t C, bool factored, AdafactorOptions o, double lr_group)
      : B(B), R(R), C(C), factored(factored), o(o), lr_group(lr_group), p(std::move(p0)) {
    m.assign(p.size(), 0);
    v.assign(p.size(), 0);
    row.assign(size_t(B * R), 0);
    col.assign(size_t(B * C), 0);
  }

  static double rms(const std::vector<double>& x) {
    double s = 0;
    for (double e : x) s += e * e;
    return std::sqrt(s / double(x.size()));
  }

  void update(const std::vector<double>& g) {
    ++step;
    const double t = double(step);
    double rel = lr_group;
    if (o.relative_step) rel = std::min(o.warmup_init ? 1e-6 * t : 1e-2, 1 / std::sqrt(t));
    const double lr = (o.scale_parameter ? std::max(o.eps2, rms(p)) : 1.0) * rel;
    const double beta2t = 1 - std::pow(t, o.decay_rate);
    std::vector<double> u(p.size());
    auto at = [&](int64_t b, int64_t r, int64_t c) { return size_t((b * R + r) * C + c); };
    if (factored) {
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t r = 0; r < R; ++r) {
          double mean = 0;
          for (int64_t c = 0; c < C; ++c) mean += (g[at(b, r, c)] * g[at(b, r, c)] + o.eps1) / double(C);
          row[size_t(b * R + r)] = beta2t * row[size_t(b * R + r)] + (1 - beta2t) * mean;
        }
        for (int64_t c = 0; c < C; ++c) {
          double mean = 0;
          for (int64_t r = 0; r < R; ++r) mean += (g[at(b, r, c)] * g[at(b, r, c)] + o.eps1) / double(R);
          col[size_t(b * C + c)] = beta2t * col[size_t(b * C + c)] + (1 - beta2t) * mean;
        }
        // The factored estimate of E[g^2]: V = (row / mean(row)) col^T; update = g / sqrt(V).
        double row_mean = 0;
        for (int64_t r = 0; r < R; ++r) row_mean += row[size_t(b * R + r)] / double(R);
        for (int64_t r = 0; r < R; ++r)
          for (int64_t c = 0; c < C; ++c)
            u[at(b, r, c)] = g[at(b, r, c)] / std::sqrt(row[size_t(b * R + r)] / row_mean * col[size_t(b * C + c)]);
      }
    } else {
      for (size_t k = 0; k < p.size(); ++k) {
        v[k] = beta2t * v[k] + (1 - beta2t) * (g[k] * g[k] + o.eps1);
        u[k] = g[k] / std::sqrt(v[k]);
      }
    }
    const double d = std::max(1.0, rms(u) / o.clip_threshold);
    for (double& e : u) e = e / d * lr;
    if (o.beta1)
      for (size_t k = 0; k < u.size(); ++k) u[k] = m[k] = *o.beta1 * m[k] + (1 - *o.beta1) * u[k];
    for (size_t k = 0; k < p.size(); ++k) {
      if (o.weight_decay != 0) p[k] -= o.weight_decay * lr * p[k];
      p[k] -= u[k];
    }
  }
};

std::vector<double> gradient(size_t n, int step, double scale) {
  std::vector<double> g(n);
  for (size_t k = 0; k < n; ++k) g[k] = scale * std::sin(double(k) * 1.7 + double(step) * 0.9) + 0.05 * double(k);
  return g;
}

void run_case(const char* name, const AdafactorOptions& o, double lr_group, const Shape& shape, int steps,
              double gscale = 1.0) {
  SCOPED_TRACE(name);
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<float> p0(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) p0[size_t(k)] = float(0.3 * std::cos(double(k)) - 0.1 * double(k % 3));
  Tensor p = Tensor::from_vector<float>(p0, shape).requires_grad_();
  auto opt = std::make_unique<Adafactor>(std::vector<Tensor>{p}, o);
  const bool factored = shape.size() >= 2;
  const int64_t C = shape.empty() ? 1 : shape.back();
  const int64_t R = shape.size() >= 2 ? shape[shape.size() - 2] : 1;
  Reference ref(std::vector<double>(p0.begin(), p0.end()), n / (R * C), R, C, factored, o, lr_group);
  for (int s = 1; s <= steps; ++s) {
    const auto g = gradient(size_t(n), s, gscale);
    p.set_grad(Tensor::from_vector<float>(std::vector<float>(g.begin(), g.end()), shape));
    opt->step();
    ref.update(std::vector<double>(g.begin(), g.end()));
    const auto got = p.to_vector<float>();
    for (int64_t k = 0; k < n; ++k)
      EXPECT_NEAR(got[size_t(k)], ref.p[size_t(k)], 1e-6 + 1e-5 * std::fabs(ref.p[size_t(k)]))
          << "step " << s << " element " << k;
  }
  EXPECT_EQ(opt->step_count(0), steps);
}

TEST(Adafactor, DefaultsMatchTheAlgorithmInDouble) {
  // relative_step, scale_parameter, no first moment, no weight decay: transformers' defaults.
  const AdafactorOptions o;
  run_case("matrix", o, 0, {3, 4}, 4);
  run_case("vector", o, 0, {5}, 4);
  run_case("3-d", o, 0, {2, 3, 2}, 3);
  run_case("scalar-like [1]", o, 0, {1}, 3);
}

TEST(Adafactor, TrainerSettingsMatchTheAlgorithmInDouble) {
  // What Trainer builds for optim="adafactor": a manual lr, no relative step, no scaling.
  AdafactorOptions o;
  o.lr = 1e-2;
  o.relative_step = false;
  o.scale_parameter = false;
  o.weight_decay = 0.1;
  run_case("matrix", o, 1e-2, {4, 3}, 4);
  run_case("vector", o, 1e-2, {6}, 4);
  o.beta1 = 0.9;
  run_case("matrix, beta1", o, 1e-2, {4, 3}, 4);
  run_case("vector, beta1", o, 1e-2, {6}, 4);
}

TEST(Adafactor, WarmupInitAndClippingMatchTheAlgorithmInDouble) {
  AdafactorOptions o;
  o.warmup_init = true;
  run_case("warmup_init matrix", o, 0, {2, 5}, 3);
  AdafactorOptions c;
  c.clip_threshold = 0.5;  // makes the RMS clip bite
  c.decay_rate = -0.5;
  c.beta1 = 0.5;
  run_case("clip 0.5", c, 0, {3, 3}, 4, 50.0);
}

TEST(Adafactor, FirstStepByHand) {
  // One step from p = [3, 4] (RMS sqrt(12.5)) with g = [1, -2] and the defaults: beta2t = 0, so
  // v = g^2 + 1e-30 and update = g / |g| = [1, -1] (RMS 1, no clipping); lr = RMS(p) * 1e-2.
  Tensor p = Tensor::from_vector<float>({3.0f, 4.0f}, {2}).requires_grad_();
  Adafactor opt({p});
  p.set_grad(Tensor::from_vector<float>({1.0f, -2.0f}, {2}));
  opt.step();
  const double lr = std::sqrt(12.5) * 1e-2;
  EXPECT_NEAR(opt.last_lr(0), lr, 1e-12);
  const auto v = p.to_vector<float>();
  EXPECT_NEAR(v[0], 3.0 - lr, 1e-6);
  EXPECT_NEAR(v[1], 4.0 + lr, 1e-6);
}

TEST(Adafactor, RejectsWhatTransformersRejects) {
  Tensor p = Tensor::zeros({2}).requires_grad_();
  AdafactorOptions o;
  o.lr = 1e-3;  // a manual lr with relative_step
  EXPECT_THROW(Adafactor({p}, o), ValueError);
  o.relative_step = false;
  o.warmup_init = true;  // warmup_init without relative_step
  EXPECT_THROW(Adafactor({p}, o), ValueError);
  AdafactorOptions no_lr;
  no_lr.relative_step = false;  // no lr at all
  EXPECT_THROW(Adafactor({p}, no_lr), ValueError);
  o.warmup_init = false;
  o.scale_parameter = false;
  EXPECT_NO_THROW(Adafactor({p}, o));
}

TEST(Adafactor, SkipsParametersWithoutGradient) {
  Tensor a = Tensor::from_vector<float>({1.0f, 2.0f}, {2}).requires_grad_();
  Tensor b = Tensor::from_vector<float>({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2}).requires_grad_();
  Adafactor opt({a, b});
  b.set_grad(Tensor::ones({2, 2}));
  opt.step();
  EXPECT_EQ(opt.step_count(0), 0);
  EXPECT_EQ(opt.step_count(1), 1);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1.0f, 2.0f}));
}

TEST(Adafactor, StateRoundTripsThroughACheckpoint) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "cppformers_adafactor_state";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto make = [] {
    return std::vector<Tensor>{Tensor::from_vector<float>({0.5f, -1.0f, 2.0f, 0.25f, 1.0f, -0.5f}, {2, 3}).requires_grad_(),
                               Tensor::from_vector<float>({1.0f, -1.0f, 0.5f}, {3}).requires_grad_()};
  };
  AdafactorOptions o;
  o.beta1 = 0.9;
  auto grads = [](int s) {
    return std::vector<Tensor>{Tensor::full({2, 3}, 0.1 * s), Tensor::from_vector<float>({0.3f, -0.2f * float(s), 1.0f}, {3})};
  };
  // Uninterrupted: 4 steps.
  auto ps = make();
  Adafactor full(ps, o);
  for (int s = 1; s <= 4; ++s) {
    auto g = grads(s);
    for (size_t k = 0; k < ps.size(); ++k) ps[k].set_grad(g[k]);
    full.step();
  }
  // 2 steps, saved, loaded into a new optimizer over copies of the parameters, 2 more steps.
  auto qs = make();
  {
    Adafactor first(qs, o);
    for (int s = 1; s <= 2; ++s) {
      auto g = grads(s);
      for (size_t k = 0; k < qs.size(); ++k) qs[k].set_grad(g[k]);
      first.step();
    }
    first.save(dir.string());
  }
  Adafactor second(qs, o);
  second.load(dir.string());
  for (int s = 3; s <= 4; ++s) {
    auto g = grads(s);
    for (size_t k = 0; k < qs.size(); ++k) qs[k].set_grad(g[k]);
    second.step();
  }
  for (size_t k = 0; k < ps.size(); ++k) EXPECT_EQ(ps[k].to_vector<float>(), qs[k].to_vector<float>());
  EXPECT_EQ(second.step_count(0), 4);
}

TEST(Adafactor, SelectedByTrainingArgumentsAsInPython) {
  EXPECT_EQ(TrainingArguments::from_json({{"optim", "adafactor"}}).optim, "adafactor");
  EXPECT_EQ(TrainingArguments::from_json({{"adafactor", true}}).optim, "adafactor");  // the deprecated flag
  EXPECT_EQ(TrainingArguments::from_json({{"adafactor", false}}).optim, "adamw_torch");

  const std::string dir = testing::hf_fixture("bert_seqcls");
  auto model = AutoModelForSequenceClassification::from_pretrained(dir);
  std::vector<Example> ex;
  for (int i = 0; i < 8; ++i) {
    Example e;
    e.label = i % 3;
    e.input_ids = {1, 5 + i, 20 + 3 * i, 2};
    e.attention_mask = {1, 1, 1, 1};
    ex.push_back(e);
  }
  TrainingArguments args;
  args.output_dir = (std::filesystem::temp_directory_path() / "cppformers_adafactor_trainer").string();
  args.optim = "adafactor";
  args.learning_rate = 1e-3;
  args.lr_scheduler_type = "constant";
  args.max_steps = 2;
  args.per_device_train_batch_size = 4;
  args.save_strategy = "no";
  args.disable_tqdm = true;
  Trainer trainer(model, args, Dataset(ex));
  trainer.train();
  auto* opt = dynamic_cast<Adafactor*>(trainer.optimizer());
  ASSERT_NE(opt, nullptr);
  EXPECT_FALSE(opt->options().relative_step);
  EXPECT_FALSE(opt->options().scale_parameter);
  EXPECT_FALSE(opt->options().beta1);
  EXPECT_EQ(opt->step_count(0), 2);
  EXPECT_DOUBLE_EQ(opt->last_lr(0), 1e-3);  // the group's lr, unscaled
  auto ref = io::SafetensorsFile::open(dir + "/model.safetensors");
  const auto before = ref.get("classifier.weight").to_vector<float>();
  const auto after = model->state_dict().at("classifier.weight").to_vector<float>();
  double moved = 0;
  for (size_t i = 0; i < before.size(); ++i) moved = std::max(moved, double(std::fabs(before[i] - after[i])));
  EXPECT_GT(moved, 1e-4);
}

}  // namespace
}  // namespace cppformers
