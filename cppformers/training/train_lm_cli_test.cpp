// End to end through the `cppformers` program, the way scripts/make_default_models uses it:
// `dataset` (record files -> stratified split), `train-tokenizer` (from the templates in
// assets/tokenizer-templates), `train --task mlm|causal-lm --from-scratch`, then fine-tuning the
// masked LM into a classifier (`train --model`), and a classifier from scratch.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"
#include "cppformers/training/data/dataset.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;

int run(const std::string& args, std::string* out = nullptr, bool expect_ok = true) {
  const fs::path o = fs::temp_directory_path() / ("cppformers_train_lm_cli_" + std::to_string(::getpid()) + ".txt");
  const std::string cmd = "OMP_NUM_THREADS=1 " + std::string(CPPFORMERS_CLI_PATH) + " " + args + " >" + o.string() +
                          " 2>" + o.string() + ".err";
  const int status = std::system(cmd.c_str());
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream f(o);
  std::stringstream ss;
  ss << f.rdbuf();
  if (out) *out = ss.str();
  if (rc != 0 && expect_ok) {
    std::ifstream e(o.string() + ".err");
    std::stringstream es;
    es << e.rdbuf();
    ADD_FAILURE() << cmd << "\n" << es.str();
  }
  fs::remove(o);
  fs::remove(o.string() + ".err");
  return rc;
}

std::vector<double> logged_losses(const fs::path& dir) {
  std::ifstream log(dir / "training_log.jsonl");
  std::vector<double> losses;
  for (std::string line; std::getline(log, line);) {
    const auto j = io::parse_json(line, "training_log.jsonl");
    if (j.contains("loss")) losses.push_back(j["loss"].get<double>());
  }
  return losses;
}

// Three "categories" of short texts, each with its own words, in the fortune file format.
void write_record_files(const fs::path& dir) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cats{
      {"food", {"bread", "cheese", "soup", "apple", "butter", "dinner", "cook", "salt"}},
      {"space", {"captain", "starship", "warp", "planet", "engine", "orbit", "crew", "phaser"}},
      {"law", {"judge", "court", "lawyer", "verdict", "jury", "appeal", "trial", "statute"}}};
  std::mt19937 rng(7);
  for (const auto& [name, words] : cats) {
    std::ofstream f(dir / name);
    for (int r = 0; r < 40; ++r) {
      const int n = 4 + int(rng() % 8);
      for (int k = 0; k < n; ++k) f << (k ? " " : "") << words[rng() % words.size()] << (rng() % 5 == 0 ? " the" : "");
      f << ".\n%\n";
    }
  }
}

TEST(TrainLmCli, DatasetTokenizerPretrainFineTune) {
  const fs::path root = fs::temp_directory_path() / ("cppformers_train_lm_cli_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "records");
  write_record_files(root / "records");
  const std::string src = CPPFORMERS_SOURCE_DIR;

  // dataset: a stratified split of two of the three files, the corpus without the test texts
  std::string out;
  ASSERT_EQ(run("dataset --record-files " + (root / "records/food").string() + " " + (root / "records/space").string() +
                    " " + (root / "records/law").string() + " --record-separator % --labels food,space --test-size 0.25" +
                    " --seed 1 --out " + (root / "data").string(),
                &out),
            0);
  const auto counts = io::parse_json(out, "stdout");
  Dataset train = Dataset::from_file((root / "data/train.jsonl").string());
  Dataset test = Dataset::from_file((root / "data/test.jsonl").string());
  EXPECT_EQ(train.label_names(), (std::vector<std::string>{"food", "space"}));
  EXPECT_EQ(counts["test"]["food"].get<int>() + counts["test"]["space"].get<int>(), int(test.size()));
  EXPECT_NEAR(counts["test"]["food"].get<int>(), counts["test"]["space"].get<int>(), 1);  // stratified
  DataFileOptions textonly;
  textonly.label_column = "";
  textonly.labels_required = false;
  Dataset corpus = Dataset::from_file((root / "data/corpus.jsonl").string(), textonly);
  std::set<std::string> corpus_texts;
  for (const auto& e : corpus.examples()) corpus_texts.insert(e.text);
  for (const auto& e : test.examples()) EXPECT_FALSE(corpus_texts.count(e.text)) << e.text;
  for (const auto& e : train.examples()) EXPECT_TRUE(corpus_texts.count(e.text)) << e.text;
  EXPECT_EQ(counts["corpus"].get<size_t>(), corpus.size());

  // train-tokenizer from the two templates
  ASSERT_EQ(run("train-tokenizer --from " + src + "/assets/tokenizer-templates/bert-uncased --corpus " +
                (root / "data/corpus.jsonl").string() + " --vocab-size 90 --out " + (root / "wp").string()),
            0);
  ASSERT_EQ(run("train-tokenizer --from " + src + "/assets/tokenizer-templates/gpt2 --corpus " +
                (root / "data/corpus.jsonl").string() + " --vocab-size 300 --out " + (root / "bpe").string()),
            0);
  auto wp = tokenizers::Tokenizer::from_file((root / "wp/tokenizer.json").string());
  EXPECT_EQ(wp.vocab_size(), 90u);
  EXPECT_EQ(wp.token_to_id("[MASK]"), 4u);
  EXPECT_TRUE(fs::exists(root / "wp/tokenizer_config.json"));
  auto bpe = tokenizers::Tokenizer::from_file((root / "bpe/tokenizer.json").string());
  EXPECT_EQ(bpe.vocab_size(), 300u);
  const auto enc = bpe.encode("captain starship warp");
  EXPECT_LT(enc.ids.size(), 18u);  // merged, not one token per byte (21)
  EXPECT_EQ(bpe.decode(enc.ids), "captain starship warp");

  // masked LM from scratch
  std::ofstream(root / "bert.json") << R"({"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 90,
    "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
    "max_position_embeddings": 32, "initializer_range": 0.2})";
  std::ofstream(root / "lm_args.json") << R"({"max_steps": 12, "learning_rate": 0.01, "per_device_train_batch_size": 4,
    "logging_steps": 3, "save_strategy": "no", "report_to": "jsonl", "warmup_steps": 2})";
  ASSERT_EQ(run("train --task mlm --from-scratch " + (root / "bert.json").string() + " --tokenizer " +
                    (root / "wp").string() + " --train " + (root / "data/corpus.jsonl").string() +
                    " --validation-split 0.1 --block-size 32 --args " + (root / "lm_args.json").string() +
                    " --output-dir " + (root / "mlm").string(),
                &out),
            0);
  auto m = io::parse_json(out, "stdout");
  EXPECT_TRUE(m.contains("eval_perplexity")) << out;
  auto losses = logged_losses(root / "mlm");
  ASSERT_GE(losses.size(), 3u);
  EXPECT_LT(losses.back(), losses.front());
  EXPECT_EQ(io::read_json_file((root / "mlm/config.json").string())["architectures"][0], "BertForMaskedLM");
  EXPECT_TRUE(fs::exists(root / "mlm/tokenizer.json"));

  // causal LM from scratch (eos after each text), then generation through the program
  std::ofstream(root / "gpt2.json") << R"({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 300,
    "n_positions": 32, "n_embd": 16, "n_layer": 1, "n_head": 2, "bos_token_id": 0, "eos_token_id": 0})";
  ASSERT_EQ(run("train --task causal-lm --from-scratch " + (root / "gpt2.json").string() + " --tokenizer " +
                    (root / "bpe").string() + " --train " + (root / "data/corpus.jsonl").string() +
                    " --block-size 32 --args " + (root / "lm_args.json").string() + " --output-dir " +
                    (root / "clm").string()),
            0);
  losses = logged_losses(root / "clm");
  ASSERT_GE(losses.size(), 3u);
  EXPECT_LT(losses.back(), losses.front());
  EXPECT_EQ(run("generate --model " + (root / "clm").string() + " \"bread\" --max-new-tokens 5", &out), 0);

  // the masked LM fine-tuned into a classifier, and the same classifier from scratch
  std::ofstream(root / "cls_args.json") << R"({"num_train_epochs": 8, "learning_rate": 0.005, "per_device_train_batch_size": 8,
    "logging_steps": 2, "save_strategy": "no", "report_to": "jsonl"})";
  for (const std::string& from : {"--model " + (root / "mlm").string(),
                                  "--from-scratch " + (root / "bert.json").string() + " --tokenizer " + (root / "wp").string()}) {
    fs::remove_all(root / "cls");
    ASSERT_EQ(run("train " + from + " --train " + (root / "data/train.jsonl").string() + " --eval " +
                      (root / "data/test.jsonl").string() + " --args " + (root / "cls_args.json").string() +
                      " --max-length 32 --output-dir " + (root / "cls").string(),
                  &out),
              0);
    m = io::parse_json(out, "stdout");
    EXPECT_GT(m["eval_f1"].get<double>(), 0.8) << out;  // the two word sets are disjoint
    const auto cfg = io::read_json_file((root / "cls/config.json").string());
    EXPECT_EQ(cfg["architectures"][0], "BertForSequenceClassification");
    EXPECT_EQ(cfg["id2label"]["1"], "space");
    EXPECT_EQ(cfg["label2id"]["food"], 0);
  }

  // usage errors
  EXPECT_EQ(run("train --task bogus --model " + (root / "mlm").string() + " --train " +
                    (root / "data/train.jsonl").string(),
                nullptr, false),
            1);
  EXPECT_EQ(run("train --train " + (root / "data/train.jsonl").string(), nullptr, false), 1);
  EXPECT_EQ(run("train --from-scratch " + (root / "bert.json").string() + " --train " +
                    (root / "data/train.jsonl").string(),
                nullptr, false),
            1);
  fs::remove_all(root);
}

}  // namespace
}  // namespace cppformers
