// End to end: `cppformers init` a tiny BERT, `cppformers train` it on a CSV with string labels,
// and check that the loss went down and that the saved folder reloads (model, labels, pipeline).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;

int run(const std::string& args, std::string* out) {
  const fs::path o = fs::temp_directory_path() / "cppformers_train_cli_stdout.txt";
  const std::string cmd = std::string(CPPFORMERS_CLI_PATH) + " " + args + " >" + o.string() +
                          " 2>" + o.string() + ".err";
  const int rc = std::system(cmd.c_str());
  std::ifstream f(o);
  std::stringstream ss;
  ss << f.rdbuf();
  if (out) *out = ss.str();
  if (rc != 0) {
    std::ifstream e(o.string() + ".err");
    std::stringstream es;
    es << e.rdbuf();
    ADD_FAILURE() << cmd << "\n" << es.str();
  }
  return rc;
}

TEST(TrainCli, TrainsATinyClassifierThatReloads) {
  const fs::path root = fs::temp_directory_path() / "cppformers_train_cli";
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string assets = std::string(CPPFORMERS_SOURCE_DIR) + "/assets/tiny-bert-classifier";
  std::ofstream(root / "config.json") << R"({"model_type": "bert", "vocab_size": 1000, "hidden_size": 16,
    "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 64,
    "initializer_range": 0.2})";
  ASSERT_EQ(run("init --config " + (root / "config.json").string() + " --out " + (root / "base").string(), nullptr), 0);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) fs::copy_file(fs::path(assets) / f, root / "base" / f);

  const std::vector<std::pair<std::string, std::string>> rows{
      {"free software library", "software"}, {"the source code is free", "software"},
      {"patent law and warranty", "legal"},  {"no warranty under the law", "legal"},
      {"copy and distribute copies", "copying"}, {"you may copy the program", "copying"}};
  {
    std::ofstream train(root / "train.csv"), eval(root / "eval.csv");
    train << "text,label\n";
    eval << "text,label\n";
    for (int rep = 0; rep < 5; ++rep)
      for (auto& [t, l] : rows) train << "\"" << t << "\"," << l << "\n";
    for (auto& [t, l] : rows) eval << "\"" << t << "\"," << l << "\n";
    std::ofstream(root / "args.json") << R"({"num_train_epochs": 6, "learning_rate": 0.005, "per_device_train_batch_size": 8,
      "logging_steps": 2, "save_strategy": "no", "eval_strategy": "epoch", "report_to": "jsonl", "warmup_ratio": 0.1})";
  }
  const fs::path out = root / "out";
  std::string stdout_text;
  ASSERT_EQ(run("train --model " + (root / "base").string() + " --train " + (root / "train.csv").string() + " --eval " +
                    (root / "eval.csv").string() + " --args " + (root / "args.json").string() + " --output-dir " +
                    out.string(),
                &stdout_text),
            0);
  const auto metrics = io::parse_json(stdout_text, "stdout");
  EXPECT_TRUE(metrics.contains("eval_accuracy")) << stdout_text;
  EXPECT_TRUE(metrics.contains("train_loss")) << stdout_text;

  // the loss went down
  std::ifstream log(out / "training_log.jsonl");
  std::vector<double> losses;
  for (std::string line; std::getline(log, line);) {
    const auto j = io::parse_json(line, "training_log.jsonl");
    if (j.contains("loss")) losses.push_back(j["loss"].get<double>());
  }
  ASSERT_GE(losses.size(), 4u);
  EXPECT_LT(losses.back(), losses.front());

  // the saved folder: labels in the config, the tokenizer beside it, loads and runs
  const auto cfg = io::read_json_file((out / "config.json").string());
  EXPECT_EQ(cfg["id2label"]["0"], "copying");
  EXPECT_EQ(cfg["label2id"]["software"], 2);
  EXPECT_EQ(cfg["architectures"][0], "BertForSequenceClassification");
  EXPECT_TRUE(fs::exists(out / "tokenizer.json"));
  auto model = AutoModelForSequenceClassification::from_pretrained(out.string());
  EXPECT_EQ(model->config().num_labels(), 3);
  auto clf = pipeline("text-classification", out.string());
  const auto r = clf->call(nlohmann::json("free software library"));
  const std::string label = r.is_array() ? r[0]["label"].get<std::string>() : r["label"].get<std::string>();
  EXPECT_TRUE((std::set<std::string>{"copying", "legal", "software"}).count(label)) << r.dump();
  fs::remove_all(root);
}

}  // namespace
}  // namespace cppformers
