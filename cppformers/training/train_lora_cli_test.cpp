// End to end: `cppformers train --lora ... --merge --calibrate` on a tiny BERT: the output dir
// holds a peft adapter, OUTPUT/merged a plain model with the calibration temperature, and the
// adapter reloaded onto the base gives the merged model's logits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/pipelines/pipeline.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"
#include "cppformers/training/lora.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;

int run(const std::string& args, std::string* out, std::string* err = nullptr) {
  const fs::path o = fs::temp_directory_path() / "cppformers_train_lora_cli_stdout.txt";
  const std::string cmd = std::string(CPPFORMERS_CLI_PATH) + " " + args + " >" + o.string() + " 2>" + o.string() + ".err";
  const int rc = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  if (out) *out = slurp(o);
  if (err) *err = slurp(o.string() + ".err");
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(TrainCli, LoraMergeCalibrate) {
  const fs::path root = fs::temp_directory_path() / "cppformers_train_lora_cli";
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
    for (int rep = 0; rep < 4; ++rep)
      for (auto& [t, l] : rows) train << "\"" << t << "\"," << l << "\n";
    for (auto& [t, l] : rows) eval << "\"" << t << "\"," << l << "\n";
    std::ofstream(root / "args.json") << R"({"num_train_epochs": 3, "learning_rate": 0.01, "per_device_train_batch_size": 8,
      "save_strategy": "no", "disable_tqdm": true})";
  }
  const fs::path out = root / "out";
  const std::string common = "train --model " + (root / "base").string() + " --train " + (root / "train.csv").string() +
                             " --args " + (root / "args.json").string() + " --output-dir " + out.string();
  std::string stdout_text, err;
  ASSERT_EQ(run(common + " --eval " + (root / "eval.csv").string() +
                    " --lora r=4,alpha=8,dropout=0.1,targets=query,value --merge --calibrate",
                &stdout_text, &err),
            0)
      << err;
  const auto metrics = io::parse_json(stdout_text, "stdout");
  ASSERT_TRUE(metrics.contains("calibration_temperature")) << stdout_text;
  const double T = metrics["calibration_temperature"].get<double>();
  EXPECT_GT(T, 0);
  EXPECT_LE(metrics["eval_nll_calibrated"].get<double>(), metrics["eval_nll_uncalibrated"].get<double>() + 1e-12);

  // The adapter, as peft saves it, with the classifier as a module to save.
  EXPECT_TRUE(fs::exists(out / "adapter_config.json"));
  EXPECT_FALSE(fs::exists(out / "model.safetensors"));
  const auto cfg = io::read_json_file((out / "adapter_config.json").string());
  EXPECT_EQ(cfg["r"], 4);
  EXPECT_EQ(cfg["task_type"], "SEQ_CLS");
  EXPECT_EQ(cfg["target_modules"], nlohmann::json({"query", "value"}));
  EXPECT_EQ(cfg["base_model_name_or_path"], (root / "base").string());
  auto adapter = io::SafetensorsFile::open((out / "adapter_model.safetensors").string());
  EXPECT_EQ(adapter.names(), (std::vector<std::string>{
                                 "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
                                 "base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight",
                                 "base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight",
                                 "base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight",
                                 "base_model.model.classifier.bias", "base_model.model.classifier.weight"}));

  // The merged model: a plain folder with labels, tokenizer and the temperature.
  const fs::path merged = out / "merged";
  const auto mcfg = io::read_json_file((merged / "config.json").string());
  EXPECT_DOUBLE_EQ(mcfg["calibration_temperature"].get<double>(), T);
  EXPECT_EQ(mcfg["id2label"]["0"], "copying");
  EXPECT_TRUE(fs::exists(merged / "tokenizer.json"));

  // The adapter on the base (with the training labels) computes the merged model's logits.
  FromPretrainedOptions mo;
  mo.id2label = {{0, "copying"}, {1, "legal"}, {2, "software"}};
  auto peft = PeftModel::from_pretrained(AutoModelForSequenceClassification::from_pretrained((root / "base").string(), mo),
                                         out.string());
  auto plain = AutoModelForSequenceClassification::from_pretrained(merged.string());
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(merged.string());
  const std::vector<int64_t> ids = tok.encode("free software library");
  ModelInputs in;
  in.input_ids = Tensor::from_vector<int64_t>(ids, {1, int64_t(ids.size())});
  autograd::NoGradGuard no_grad;
  peft->eval();
  plain->eval();
  const auto a = peft->forward(in).logits.to_vector<float>(), b = plain->forward(in).logits.to_vector<float>();
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);

  // The pipeline on the merged folder applies the temperature: scores = softmax(logits / T).
  auto clf = pipeline("text-classification", merged.string());
  const auto scores = clf->call("free software library", {{"top_k", nullptr}});
  double mx = -1e300, sum = 0;
  for (float v : b) mx = std::max(mx, double(v) / T);
  for (float v : b) sum += std::exp(double(v) / T - mx);
  for (const auto& e : scores) {
    const int64_t id = mcfg["label2id"][e["label"].get<std::string>()].get<int64_t>();
    EXPECT_NEAR(e["score"].get<double>(), std::exp(double(b[size_t(id)]) / T - mx) / sum, 1e-5);
  }

  // Wrong combinations are refused before any work, with exit code 1.
  EXPECT_EQ(run(common + " --merge", nullptr, &err), 1) << err;
  EXPECT_NE(err.find("--merge needs --lora"), std::string::npos) << err;
  EXPECT_EQ(run(common + " --calibrate", nullptr, &err), 1) << err;
  EXPECT_EQ(run(common + " --eval " + (root / "eval.csv").string() + " --lora r=4 --calibrate", nullptr, &err), 1) << err;
  EXPECT_EQ(run(common + " --lora rank=4", nullptr, &err), 1) << err;
  fs::remove_all(root);
}

}  // namespace
}  // namespace cppformers
