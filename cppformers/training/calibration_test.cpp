#include "cppformers/training/calibration.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/core/error.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;

// Synthetic validation logits from a known model: true logits u ~ N(0, 1.5^2) per class, a
// label drawn from softmax(u), and the reported logits `confidence` * u (> 1: over-confident).
struct Synthetic {
  int64_t n, k;
  std::vector<double> z;
  std::vector<int64_t> y;
};

Synthetic synthetic(int64_t n, int64_t k, double confidence, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.5);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  Synthetic s{n, k, {}, {}};
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> u(static_cast<size_t>(k)), p(static_cast<size_t>(k));
    double sum = 0;
    for (int64_t c = 0; c < k; ++c) sum += p[size_t(c)] = std::exp(u[size_t(c)] = normal(rng));
    double draw = uni(rng) * sum;
    int64_t label = k - 1;
    for (int64_t c = 0; c < k; ++c) {
      draw -= p[size_t(c)];
      if (draw < 0) {
        label = c;
        break;
      }
    }
    for (double v : u) s.z.push_back(confidence * v);
    s.y.push_back(label);
  }
  return s;
}

// The mean NLL of softmax(z / t), written out directly.
double nll(const Synthetic& s, double t) {
  double total = 0;
  for (int64_t i = 0; i < s.n; ++i) {
    double mx = -1e300;
    for (int64_t c = 0; c < s.k; ++c) mx = std::max(mx, s.z[size_t(i * s.k + c)] / t);
    double sum = 0;
    for (int64_t c = 0; c < s.k; ++c) sum += std::exp(s.z[size_t(i * s.k + c)] / t - mx);
    total += mx + std::log(sum) - s.z[size_t(i * s.k + s.y[size_t(i)])] / t;
  }
  return total / double(s.n);
}

// The minimiser by grid search in log t: a 1e-3 grid over [0.05, 20], then a 1e-6 grid around
// the best point.
template <class F>
double grid_minimum(F f) {
  double best = 0, best_v = 1e300;
  for (double lt = std::log(0.05); lt <= std::log(20.0); lt += 1e-3) {
    const double v = f(std::exp(lt));
    if (v < best_v) best_v = v, best = lt;
  }
  const double centre = best;
  for (double lt = centre - 2e-3; lt <= centre + 2e-3; lt += 1e-6) {
    const double v = f(std::exp(lt));
    if (v < best_v) best_v = v, best = lt;
  }
  return std::exp(best);
}

Tensor as_logits(const Synthetic& s) {
  return Tensor::from_vector<float>(std::vector<float>(s.z.begin(), s.z.end()), {s.n, s.k});
}

TEST(Calibration, FittedTemperatureMatchesAGridSearch) {
  Synthetic s = synthetic(500, 4, 2.5, 7);
  for (double& v : s.z) v = double(float(v));  // the values the tensor holds
  const TemperatureScaling fit = fit_temperature(as_logits(s), Tensor::from_vector<int64_t>(s.y, {s.n}));
  const double t_grid = grid_minimum([&](double t) { return nll(s, t); });
  EXPECT_GT(t_grid, 1.5);  // over-confident logits want T > 1
  EXPECT_NEAR(fit.temperature, t_grid, 1e-4 * t_grid);
  EXPECT_FALSE(fit.at_bound);
  EXPECT_EQ(fit.num_examples, 500);
  EXPECT_NEAR(fit.nll_before, nll(s, 1.0), 1e-9);
  EXPECT_NEAR(fit.nll_after, nll(s, fit.temperature), 1e-9);
  EXPECT_LT(fit.nll_after, fit.nll_before);
  EXPECT_NEAR(temperature_nll(as_logits(s), Tensor::from_vector<int64_t>(s.y, {s.n}), 3.0), nll(s, 3.0), 1e-9);
}

TEST(Calibration, UnderConfidentLogitsGetATemperatureBelowOne) {
  Synthetic s = synthetic(400, 3, 0.4, 3);
  for (double& v : s.z) v = double(float(v));
  const TemperatureScaling fit = fit_temperature(as_logits(s), Tensor::from_vector<int64_t>(s.y, {s.n}));
  const double t_grid = grid_minimum([&](double t) { return nll(s, t); });
  EXPECT_LT(t_grid, 1.0);
  EXPECT_NEAR(fit.temperature, t_grid, 1e-4 * t_grid);
}

TEST(Calibration, MultiLabelSigmoidMatchesAGridSearch) {
  // Targets drawn from sigmoid(u); logits 3u (over-confident).
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  const int64_t n = 300, k = 3;
  std::vector<float> z, y;
  for (int64_t i = 0; i < n * k; ++i) {
    const double u = normal(rng);
    y.push_back(uni(rng) < 1 / (1 + std::exp(-u)) ? 1.0f : 0.0f);
    z.push_back(float(3 * u));
  }
  auto bce = [&](double t) {
    double total = 0;
    for (size_t i = 0; i < z.size(); ++i) {
      const double x = double(z[i]) / t;
      total += std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))) - double(y[i]) * x;
    }
    return total / double(z.size());
  };
  const TemperatureScaling fit =
      fit_temperature(Tensor::from_vector<float>(z, {n, k}), Tensor::from_vector<float>(y, {n, k}), /*multi_label=*/true);
  const double t_grid = grid_minimum(bce);
  EXPECT_GT(t_grid, 1.5);
  EXPECT_NEAR(fit.temperature, t_grid, 1e-4 * t_grid);
  EXPECT_NEAR(fit.nll_after, bce(fit.temperature), 1e-9);
}

TEST(Calibration, SeparableDataEndsAtTheLowerBoundAndBadInputIsRefused) {
  // Every prediction right with a margin: sharper is always better, T goes to its lower bound.
  const Tensor z = Tensor::from_vector<float>({2, 0, 0, 2, 3, -1}, {3, 2});
  const TemperatureScaling fit = fit_temperature(z, Tensor::from_vector<int64_t>({0, 1, 0}, {3}));
  EXPECT_TRUE(fit.at_bound);
  EXPECT_DOUBLE_EQ(fit.temperature, 1e-2);
  // -100 labels are ignored.
  const TemperatureScaling some = fit_temperature(z, Tensor::from_vector<int64_t>({0, -100, -100}, {3}));
  EXPECT_EQ(some.num_examples, 1);
  EXPECT_THROW(fit_temperature(z, Tensor::from_vector<int64_t>({0, 1}, {2})), ValueError);
  EXPECT_THROW(fit_temperature(z, Tensor::from_vector<int64_t>({0, 5, 1}, {3})), ValueError);
  EXPECT_THROW(fit_temperature(z, Tensor::from_vector<int64_t>({-100, -100, -100}, {3})), ValueError);
}

fs::path tiny_classifier_copy(const std::string& name) {
  const fs::path src = fs::path(CPPFORMERS_SOURCE_DIR) / "assets" / "tiny-bert-classifier";
  const fs::path dst = fs::temp_directory_path() / ("cppformers_calibration_" + name);
  fs::remove_all(dst);
  fs::copy(src, dst, fs::copy_options::recursive);
  return dst;
}

TEST(Calibration, StoredInConfigAndAppliedByTheTextClassificationPipeline) {
  const fs::path dir = tiny_classifier_copy("pipeline");
  const std::vector<std::string> texts{"free software for everyone", "no warranty of any kind"};
  auto plain = pipeline("text-classification", dir.string());
  const nlohmann::json logits = plain->call(texts, {{"top_k", nullptr}, {"function_to_apply", "none"}});
  const nlohmann::json before = plain->call(texts, {{"top_k", nullptr}});

  // The temperature goes into config.json through the model's config and save_pretrained.
  const double T = 2.5;
  {
    auto model = AutoModelForSequenceClassification::from_pretrained(dir.string());
    EXPECT_FALSE(calibration_temperature(model->config()));
    set_calibration_temperature(model->mutable_config(), T);
    model->save_pretrained(dir.string());
    auto again = AutoConfig::from_pretrained(dir.string());
    ASSERT_TRUE(calibration_temperature(*again));
    EXPECT_DOUBLE_EQ(*calibration_temperature(*again), T);
    EXPECT_DOUBLE_EQ(io::read_json_file((dir / "config.json").string())["calibration_temperature"].get<double>(), T);
  }
  auto calibrated = pipeline("text-classification", dir.string());
  EXPECT_EQ(calibrated->call(texts, {{"top_k", nullptr}, {"function_to_apply", "none"}}), logits);  // raw logits as before
  const nlohmann::json after = calibrated->call(texts, {{"top_k", nullptr}});
  ASSERT_EQ(after.size(), 2u);
  for (size_t i = 0; i < texts.size(); ++i) {
    // softmax(logits / T), computed here from the raw logits.
    std::map<std::string, double> raw;
    for (const auto& e : logits[i]) raw[e["label"]] = e["score"].get<double>();
    double mx = -1e300, sum = 0;
    for (auto& [l, v] : raw) mx = std::max(mx, v / T);
    for (auto& [l, v] : raw) sum += std::exp(v / T - mx);
    double top_before = before[i][0]["score"], top_after = after[i][0]["score"];
    EXPECT_LT(top_after, top_before);  // T > 1 softens the scores
    for (const auto& e : after[i])
      EXPECT_NEAR(e["score"].get<double>(), std::exp(raw[e["label"]] / T - mx) / sum, 1e-6) << e.dump();
  }
  // A malformed temperature is an error naming the key.
  {
    nlohmann::json cfg = io::read_json_file((dir / "config.json").string());
    cfg["calibration_temperature"] = -1;
    std::ofstream((dir / "config.json").string()) << cfg.dump(2);
  }
  auto bad = pipeline("text-classification", dir.string());
  EXPECT_THROW(bad->call(texts), FormatError);
}

}  // namespace
}  // namespace cppformers
