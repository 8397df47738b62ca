#include "cppformers/training/data/dataset.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "cppformers/core/error.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;

std::string write(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("cppformers_ds_" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const std::string kTok = std::string(CPPFORMERS_SOURCE_DIR) + "/assets/tiny-bert-classifier";

TEST(Delimited, QuotesEscapesAndNewlines) {
  auto rows = parse_delimited("a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",3", ',', "t.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x, y", "say \"hi\""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"two\nlines", "3"}));
  EXPECT_THROW(parse_delimited("a\n\"open", ',', "t.csv"), FormatError);
}

TEST(Dataset, CsvWithStringLabelsAndAnEvalFileUsingTheSameIds) {
  const std::string train = write("train.csv", "text,label\nfree software,pos\n\"bad, bad law\",neg\nok,neutral\nfine,pos\n");
  Dataset ds = Dataset::from_file(train);
  ASSERT_EQ(ds.size(), 4u);
  EXPECT_EQ(ds.label_names(), (std::vector<std::string>{"neg", "neutral", "pos"}));
  EXPECT_EQ(ds[0].label, 2);
  EXPECT_EQ(ds[1].text, "bad, bad law");
  EXPECT_EQ(ds[1].label, 0);
  EXPECT_EQ(ds.num_labels(), 3);
  EXPECT_EQ(ds.id2label().at(1), "neutral");

  const std::string eval = write("eval.csv", "text,label\nx,pos\n");
  DataFileOptions o;
  o.label_names = ds.label_names();
  EXPECT_EQ(Dataset::from_file(eval, o)[0].label, 2);
  const std::string bad = write("bad.csv", "text,label\nx,pos\ny,maybe\n");
  EXPECT_NE(error_of([&] { Dataset::from_file(bad, o); }).find("bad.csv:3: label 'maybe'"), std::string::npos);
  o.label_names.clear();
  o.text_column = "sentence";
  EXPECT_NE(error_of([&] { Dataset::from_file(train, o); }).find("no column 'sentence' (columns: text, label)"),
            std::string::npos);
  const std::string ragged = write("ragged.csv", "text,label\na,b,c\n");
  EXPECT_NE(error_of([&] { Dataset::from_file(ragged); }).find("ragged.csv:2"), std::string::npos);
  EXPECT_THROW(Dataset::from_file("/nonexistent/x.csv"), IOError);
  EXPECT_THROW(Dataset::from_file(write("x.parquet", "")), NotSupportedError);
}

TEST(Dataset, TsvPairsAndIntegerLabels) {
  const std::string p = write("pairs.tsv", "premise\thypothesis\tlabel\na b\tc\t1\nd\te f\t0\n");
  DataFileOptions o;
  o.text_column = "premise";
  o.text_pair_column = "hypothesis";
  Dataset ds = Dataset::from_file(p, o);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(*ds[0].text_pair, "c");
  EXPECT_EQ(ds[0].label, 1);
  EXPECT_TRUE(ds.label_names().empty());
  EXPECT_EQ(ds.num_labels(), 2);
  EXPECT_EQ(ds.id2label().at(0), "LABEL_0");
}

TEST(Dataset, JsonLines) {
  const std::string p = write("d.jsonl", "{\"text\": \"a\", \"label\": 2}\n\n{\"text\": \"b\", \"label\": 0}\n");
  Dataset ds = Dataset::from_file(p);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].label, 2);
  EXPECT_EQ(ds.num_labels(), 3);
  const std::string bad = write("bad.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": 5, \"label\": 1}\n");
  EXPECT_NE(error_of([&] { Dataset::from_file(bad); }).find("bad.jsonl:2: key 'text' should be a string"),
            std::string::npos);
  const std::string broken = write("broken.jsonl", "{\"text\": \n");
  EXPECT_NE(error_of([&] { Dataset::from_file(broken); }).find("broken.jsonl:1"), std::string::npos);
}

TEST(Dataset, ShuffleAndStratifiedSplit) {
  std::vector<Example> ex;
  for (int i = 0; i < 100; ++i) {
    Example e;
    e.text = std::to_string(i);
    e.label = i < 80 ? 0 : 1;  // 80 / 20
    ex.push_back(e);
  }
  Dataset ds(ex, {"a", "b"});
  Dataset s1 = ds.shuffle(7), s2 = ds.shuffle(7), s3 = ds.shuffle(8);
  std::vector<std::string> t1, t2, t3;
  for (size_t i = 0; i < 100; ++i) {
    t1.push_back(s1[i].text);
    t2.push_back(s2[i].text);
    t3.push_back(s3[i].text);
  }
  EXPECT_EQ(t1, t2);
  EXPECT_NE(t1, t3);
  auto sorted = t1;
  std::sort(sorted.begin(), sorted.end());
  auto orig = sorted;
  for (size_t i = 0; i < 100; ++i) orig[i] = std::to_string(i);
  std::sort(orig.begin(), orig.end());
  EXPECT_EQ(sorted, orig);  // a permutation

  auto split = ds.train_test_split(0.25, 42, /*stratify=*/true);
  EXPECT_EQ(split.test.size(), 25u);
  EXPECT_EQ(split.train.size(), 75u);
  int ones = 0;
  for (const auto& e : split.test.examples()) ones += e.label == 1;
  EXPECT_EQ(ones, 5);  // 20% of 25
  EXPECT_EQ(split.test.label_names(), ds.label_names());
  auto plain = ds.train_test_split(10, 1);
  EXPECT_EQ(plain.test.size(), 10u);
  EXPECT_THROW(ds.train_test_split(1.5e3), ValueError);
}

TEST(Dataset, BatchedTokenizationAndWordLabelAlignment) {
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(kTok);
  std::vector<Example> ex(3);
  ex[0].text = "free software";
  ex[1].text = "the library";
  ex[1].text_pair = "copyright notice";
  ex[2].text = "code";
  Dataset ds(ex);
  int calls = 0;
  ds.map([&](std::span<Example> b) { calls++; }, 2);
  EXPECT_EQ(calls, 2);
  ds.tokenize(tok, 2);
  const int64_t cls = *tok.token_to_id("[CLS]"), sep = *tok.token_to_id("[SEP]");
  EXPECT_EQ(ds[0].input_ids.front(), cls);
  EXPECT_EQ(ds[0].input_ids.back(), sep);
  EXPECT_EQ(ds[0].input_ids, tok.encode("free software"));
  EXPECT_EQ(ds[0].attention_mask, std::vector<int64_t>(ds[0].input_ids.size(), 1));
  EXPECT_EQ(ds[0].special_tokens_mask.front(), 1);
  EXPECT_EQ(ds[1].token_type_ids.back(), 1);  // the pair's segment

  // words: "copyright" is one token, "softwarex" splits into several; labels on first pieces only
  Example w;
  w.words = {"copyright", "softwarex", "law"};
  w.word_labels = {1, 2, 0};
  Dataset wd({w});
  wd.tokenize(tok);
  const Example& e = wd[0];
  ASSERT_EQ(e.labels.size(), e.input_ids.size());
  EXPECT_EQ(e.labels.front(), -100);  // [CLS]
  EXPECT_EQ(e.labels.back(), -100);   // [SEP]
  std::vector<int64_t> firsts;
  for (int64_t l : e.labels)
    if (l != -100) firsts.push_back(l);
  EXPECT_EQ(firsts, (std::vector<int64_t>{1, 2, 0}));
  EXPECT_GT(e.input_ids.size(), 5u);  // "softwarex" took more than one token

  const std::string p = write("ner.jsonl", "{\"tokens\": [\"the\", \"law\"], \"ner_tags\": [\"O\", \"B-LAW\"]}\n");
  DataFileOptions o;
  o.tokens_column = "tokens";
  o.label_column = "ner_tags";
  Dataset ner = Dataset::from_file(p, o);
  EXPECT_EQ(ner.label_names(), (std::vector<std::string>{"B-LAW", "O"}));
  EXPECT_EQ(ner[0].word_labels, (std::vector<int64_t>{1, 0}));
}

}  // namespace
}  // namespace cppformers
