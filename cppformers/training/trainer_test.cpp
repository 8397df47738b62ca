#include "cppformers/training/trainer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/ops/autocast.hpp"
#include "cppformers/ops/random.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;

const std::string kTok = std::string(CPPFORMERS_SOURCE_DIR) + "/assets/tiny-bert-classifier";

// Per process, under one folder removed when the process exits: ctest runs the tests of this
// file in parallel processes, and a shared name let one test's remove_all race another's writes
// ("cannot remove: Directory not empty").
fs::path tmp(const std::string& name) {
  static const struct Root {
    fs::path path = fs::temp_directory_path() / ("cppformers_trainer_" + std::to_string(::getpid()));
    ~Root() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } root;
  const fs::path p = root.path / name;
  fs::remove_all(p);
  return p;
}

// A tiny BERT classifier (dropout on, so that resuming must restore the RNG), saved once so
// every run starts from the same weights.
std::string tiny_model_dir() {
  static const std::string dir = [] {
    const fs::path d = tmp("model");
    fs::create_directories(d);
    std::ofstream(d / "config.json") << R"({"model_type": "bert", "architectures": ["BertForSequenceClassification"],
      "vocab_size": 1000, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
      "intermediate_size": 32, "max_position_embeddings": 64, "hidden_dropout_prob": 0.1,
      "attention_probs_dropout_prob": 0.1, "id2label": {"0": "neg", "1": "pos"}, "initializer_range": 0.2})";
    ops::manual_seed(3);
    auto model = model_from_config((d / "config.json").string(), Task::kSequenceClassification);
    model->save_pretrained(d.string());
    return d.string();
  }();
  return dir;
}

Dataset tiny_dataset(int n) {
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(kTok);
  const std::vector<std::string> pos{"free software library", "the free code", "copy the source code",
                                     "free library for you"};
  const std::vector<std::string> neg{"patent law warranty", "no warranty under law", "the patent notice",
                                     "law and notice"};
  std::vector<Example> ex;
  for (int i = 0; i < n; ++i) {
    Example e;
    e.label = i % 2;
    e.text = (e.label ? pos : neg)[(i / 2) % 4];
    ex.push_back(e);
  }
  Dataset ds(ex, {"neg", "pos"});
  ds.tokenize(tok);
  return ds;
}

std::shared_ptr<PreTrainedModel> load() { return AutoModelForSequenceClassification::from_pretrained(tiny_model_dir()); }

TrainingArguments quiet_args(const fs::path& out) {
  TrainingArguments a;
  a.output_dir = out.string();
  a.disable_tqdm = true;
  a.learning_rate = 5e-3;
  a.per_device_train_batch_size = 4;
  a.save_strategy = "no";
  a.logging_steps = 2;
  return a;
}

TEST(Trainer, DecayGroupsSkipBiasesAndNorms) {
  auto model = load();
  const auto names = Trainer::get_decay_parameter_names(*model);
  const std::set<std::string> s(names.begin(), names.end());
  EXPECT_TRUE(s.count("bert.encoder.layer.0.attention.self.query.weight"));
  EXPECT_TRUE(s.count("classifier.weight"));
  EXPECT_TRUE(s.count("bert.embeddings.word_embeddings.weight"));
  EXPECT_FALSE(s.count("bert.encoder.layer.0.attention.self.query.bias"));
  EXPECT_FALSE(s.count("bert.embeddings.LayerNorm.weight"));
  EXPECT_FALSE(s.count("bert.encoder.layer.0.output.LayerNorm.weight"));
}

TEST(Trainer, TrainsEvaluatesLogsAndCheckpoints) {
  const fs::path out = tmp("run");
  TrainingArguments a = quiet_args(out);
  a.num_train_epochs = 4;
  a.eval_strategy = "epoch";
  a.save_strategy = "epoch";
  a.save_total_limit = 2;
  a.load_best_model_at_end = true;
  a.metric_for_best_model = "accuracy";
  a.weight_decay = 0.01;
  a.warmup_ratio = 0.1;
  a.report_to = {"jsonl"};
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(kTok);
  auto model = load();
  Trainer trainer(model, a, tiny_dataset(16), tiny_dataset(8), DataCollatorWithPadding(tok), classification_metrics());
  trainer.set_tokenizer_dir(kTok);
  const Metrics before = trainer.evaluate();
  const TrainOutput r = trainer.train();
  EXPECT_EQ(r.global_step, 16);  // 4 batches x 4 epochs
  const auto& hist = trainer.state().log_history;
  std::vector<double> losses;
  for (const auto& h : hist)
    if (h.contains("loss")) losses.push_back(h["loss"].get<double>());
  ASSERT_GE(losses.size(), 4u);
  EXPECT_LT(losses.back(), losses.front());
  const Metrics after = trainer.evaluate();
  EXPECT_LT(after.at("eval_loss"), before.at("eval_loss"));
  EXPECT_TRUE(after.count("eval_accuracy") && after.count("eval_f1"));
  EXPECT_TRUE(trainer.state().best_metric.has_value());

  // checkpoints: the last two survive (plus the best), each complete; no temp folders left
  const auto ckpts = Trainer::sorted_checkpoints(out.string());
  ASSERT_GE(ckpts.size(), 1u);
  EXPECT_EQ(ckpts.size(), 2u);
  EXPECT_EQ(fs::path(ckpts.back()).filename(), "checkpoint-16");
  for (const char* f : {"config.json", "model.safetensors", "optimizer.safetensors", "scheduler.json", "rng_state.json",
                        "trainer_state.json", "training_args.json", "tokenizer.json"})
    EXPECT_TRUE(fs::exists(fs::path(ckpts.back()) / f)) << f;
  for (const auto& e : fs::directory_iterator(out)) EXPECT_NE(e.path().filename().string().rfind("tmp-", 0), 0u);
  const auto state = io::read_json_file((fs::path(ckpts.back()) / "trainer_state.json").string());
  EXPECT_EQ(state["global_step"], 16);
  EXPECT_EQ(state["max_steps"], 16);
  EXPECT_TRUE(fs::exists(out / "training_log.jsonl"));

  // save_model: a folder that loads again with the labels
  trainer.save_model();
  auto again = AutoModelForSequenceClassification::from_pretrained(out.string());
  EXPECT_EQ(again->config().id2label.at(1), "pos");
  const auto cfg = io::read_json_file((out / "config.json").string());
  EXPECT_EQ(cfg["label2id"]["neg"], 0);
  EXPECT_EQ(cfg["architectures"][0], "BertForSequenceClassification");
  const auto sa = model->state_dict(), sb = again->state_dict();
  for (auto& [n, t] : sa) EXPECT_TRUE(testing::all_close(sb.at(n), t, 0, 0)) << n;
  fs::remove_all(out);
}

// Stops a run at a given step (after its checkpoint is written), as a crash would.
struct StopAt : TrainerCallback {
  int64_t step;
  explicit StopAt(int64_t s) : step(s) {}
  void on_step_end(const TrainingArguments&, TrainerState& st, TrainerControl& c) override {
    if (st.global_step == step) c.should_training_stop = true;
  }
};

TEST(Trainer, ResumeMidEpochIsBitIdentical) {
  auto args_for = [](const fs::path& out) {
    TrainingArguments a = quiet_args(out);
    a.per_device_train_batch_size = 2;
    a.gradient_accumulation_steps = 2;  // 8 batches, 4 updates per epoch
    a.num_train_epochs = 2;
    a.save_strategy = "steps";
    a.save_steps = 3;
    a.weight_decay = 0.01;
    a.warmup_steps = 2;
    return a;
  };
  const Dataset train = tiny_dataset(16);
  // uninterrupted
  const fs::path full_dir = tmp("full");
  auto full = load();
  Trainer(full, args_for(full_dir), train).train();
  // interrupted at step 6 (epoch 1, batch 4 of 8), then resumed in a new trainer and model
  const fs::path part_dir = tmp("part");
  {
    auto part = load();
    Trainer t(part, args_for(part_dir), train, {}, nullptr, nullptr, {std::make_shared<StopAt>(6)});
    EXPECT_EQ(t.train().global_step, 6);
  }
  ops::manual_seed(999);  // whatever the RNG is now, the checkpoint's state is restored
  auto resumed = load();
  Trainer t(resumed, args_for(part_dir), train);
  const TrainOutput r = t.train((part_dir / "checkpoint-6").string());
  EXPECT_EQ(r.global_step, 8);
  const auto a = full->state_dict(), b = resumed->state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (auto& [n, ta] : a) {
    const auto va = ta.to_vector<float>(), vb = b.at(n).to_vector<float>();
    EXPECT_TRUE(va == vb) << n << " differs after resuming";
  }
  // "last" finds the newest checkpoint
  EXPECT_EQ(Trainer::sorted_checkpoints(part_dir.string()).back(), (part_dir / "checkpoint-8").string());
  fs::remove_all(full_dir);
  fs::remove_all(part_dir);
}

// bf16=true: the matrix products of forward and backward run in bf16 (f32 accumulation, f32
// master weights). Training still converges, the weights end near the f32 run's but not equal
// to them (the products were rounded), and two bf16 runs are bit-identical.
TEST(Trainer, Bf16AutocastTrainsNearTheF32Run) {
  const Dataset train = tiny_dataset(16);
  auto run = [&](bool bf16, const std::string& name, std::vector<double>* losses) {
    const fs::path out = tmp(name);
    TrainingArguments a = quiet_args(out);
    a.num_train_epochs = 3;
    a.logging_steps = 1;
    a.bf16 = bf16;
    auto model = load();
    Trainer t(model, a, train);
    t.train();
    for (const auto& h : t.state().log_history)
      if (h.contains("loss")) losses->push_back(h["loss"].get<double>());
    fs::remove_all(out);
    return model->state_dict();
  };
  std::vector<double> l32, l16, l16b;
  const auto w32 = run(false, "f32", &l32), w16 = run(true, "bf16", &l16), w16b = run(true, "bf16b", &l16b);
  ASSERT_EQ(l16.size(), l32.size());
  EXPECT_LT(l16.back(), l16.front());
  EXPECT_EQ(l16, l16b);
  double max_diff = 0, scale = 0;
  for (auto& [n, t] : w32) {
    const auto a = t.to_vector<float>(), b = w16.at(n).to_vector<float>(), c = w16b.at(n).to_vector<float>();
    EXPECT_TRUE(b == c) << n;
    for (size_t i = 0; i < a.size(); ++i) {
      max_diff = std::max(max_diff, double(std::abs(a[i] - b[i])));
      scale = std::max(scale, double(std::abs(a[i])));
    }
  }
  EXPECT_LT(max_diff, 0.05 * scale);
  if (ops::native_bf16_gemm()) EXPECT_GT(max_diff, 0.0) << "bf16=true changed nothing";
  else EXPECT_EQ(max_diff, 0.0) << "without native bf16 the products must stay f32";
}

TEST(Trainer, EarlyStoppingAndGradientAccumulation) {
  const fs::path out = tmp("early");
  TrainingArguments a = quiet_args(out);
  a.learning_rate = 0;  // nothing improves
  a.eval_strategy = "steps";
  a.eval_steps = 1;
  a.metric_for_best_model = "loss";
  a.num_train_epochs = 5;
  a.finalize();
  auto cb = std::make_shared<EarlyStoppingCallback>(2);
  Trainer t(load(), a, tiny_dataset(16), tiny_dataset(4), nullptr, nullptr, {cb});
  t.train();
  EXPECT_EQ(t.state().global_step, 3);  // best at 1, no improvement at 2 and 3
  fs::remove_all(out);

  // bs 4 x gas 1 and bs 2 x gas 2 take the same SGD step (dropout off: eval-like determinism
  // is not needed since the model below has none)
  auto step_with = [&](int64_t bs, int64_t gas) {
    TrainingArguments g = quiet_args(tmp("gas"));
    g.optim = "sgd";
    g.learning_rate = 0.5;
    g.max_steps = 1;
    g.per_device_train_batch_size = bs;
    g.gradient_accumulation_steps = gas;
    g.max_grad_norm = 0;
    auto m = AutoModelForSequenceClassification::from_pretrained(testing::hf_fixture("train_bert_seqcls"));
    std::vector<Example> ex;
    const Dataset src = tiny_dataset(4);
    for (auto e : src.examples()) {
      for (auto& id : e.input_ids) id %= 128;  // the fixture's vocabulary
      ex.push_back(e);
    }
    Trainer tr(m, g, Dataset(ex));
    tr.train();
    return m->state_dict();
  };
  const auto one = step_with(4, 1), two = step_with(2, 2);
  for (auto& [n, t1] : one) EXPECT_TRUE(testing::all_close(two.at(n), t1, 1e-6, 1e-5)) << n;
  fs::remove_all(tmp("gas"));
}

TEST(Trainer, PredictAndErrors) {
  const fs::path out = tmp("predict");
  Trainer t(load(), quiet_args(out), {}, {}, nullptr, classification_metrics());
  EXPECT_THROW(t.train(), ValueError);
  const PredictionOutput p = t.predict(tiny_dataset(6));
  EXPECT_EQ(p.predictions.shape(), (Shape{6, 2}));
  EXPECT_EQ(p.label_ids.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0, 1, 0, 1}));
  EXPECT_TRUE(p.metrics.count("test_accuracy") && p.metrics.count("test_loss"));
  EXPECT_THROW(t.train("last"), ValueError);  // no train data, checked first
  fs::remove_all(out);
}

}  // namespace
}  // namespace cppformers
