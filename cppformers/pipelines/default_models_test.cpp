// The default models shipped in assets/ (made by scripts/make_default_models from the fortunes
// package): they load, their tokenizer and config agree, and the pipelines of scripts/run work
// on them offline.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/pipelines/pipeline.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;

std::string asset(const std::string& name) { return std::string(CPPFORMERS_SOURCE_DIR) + "/assets/" + name; }

TEST(DefaultModels, FortuneClassifier) {
  const std::string dir = asset("fortune-bert-classifier");
  const auto cfg = io::read_json_file(dir + "/config.json");
  EXPECT_EQ(cfg["architectures"][0], "BertForSequenceClassification");
  std::set<std::string> labels;
  for (const auto& [id, name] : cfg["id2label"].items()) labels.insert(name.get<std::string>());
  EXPECT_EQ(labels, (std::set<std::string>{"computers", "food", "law", "love", "sports", "startrek"}));
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(dir);
  EXPECT_EQ(int64_t(tok.backend().vocab_size()), cfg["vocab_size"].get<int64_t>());
  EXPECT_EQ(fs::file_size(dir + "/model.safetensors") < 8u * 1024 * 1024, true);

  auto clf = pipeline("text-classification", dir);
  // Unmistakable sentences of three categories (the model's held-out macro-F1 is in assets/README.md).
  const std::vector<std::pair<std::string, std::string>> cases{
      {"Captain Kirk ordered Mr. Spock to beam the landing party up to the Enterprise.", "startrek"},
      {"The jury found the defendant guilty and the judge sentenced him.", "law"},
      {"The compiler crashed when I ran the program on the computer.", "computers"}};
  for (const auto& [text, label] : cases) {
    const auto r = clf->call(nlohmann::json(text));
    const auto& best = r.is_array() ? r[0] : r;
    EXPECT_EQ(best["label"], label) << text << " -> " << r.dump();
    EXPECT_GT(best["score"].get<double>(), 1.0 / 6);
  }
}

TEST(DefaultModels, FortuneGpt2) {
  const std::string dir = asset("fortune-gpt2");
  const auto cfg = io::read_json_file(dir + "/config.json");
  EXPECT_EQ(cfg["architectures"][0], "GPT2LMHeadModel");
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(dir);
  EXPECT_EQ(int64_t(tok.backend().vocab_size()), cfg["vocab_size"].get<int64_t>());
  ASSERT_TRUE(tok.token_to_id("<|endoftext|>"));
  EXPECT_EQ(int64_t(*tok.token_to_id("<|endoftext|>")), cfg["eos_token_id"].get<int64_t>());
  EXPECT_EQ(fs::file_size(dir + "/model.safetensors") < 8u * 1024 * 1024, true);

  auto gen = pipeline("text-generation", dir);
  const nlohmann::json kwargs = {{"do_sample", true}, {"top_k", 40}, {"max_new_tokens", 20}, {"seed", 7}};
  const auto a = gen->call(nlohmann::json("The computer"), kwargs);
  const auto b = gen->call(nlohmann::json("The computer"), kwargs);
  const std::string text = a[0]["generated_text"].get<std::string>();
  EXPECT_EQ(text.rfind("The computer", 0), 0u) << text;
  EXPECT_GT(text.size(), std::string("The computer").size()) << text;
  EXPECT_EQ(a, b);  // the same seed, the same sample
}

}  // namespace
}  // namespace cppformers
