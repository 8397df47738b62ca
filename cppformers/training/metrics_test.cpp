#include "cppformers/training/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace cppformers {
namespace {

TEST(Metrics, AccuracyIgnoresMinus100) {
  EXPECT_DOUBLE_EQ(accuracy({1, 0, 2, 2}, {1, 1, 2, -100}), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(accuracy({}, {}), 0.0);
  EXPECT_THROW(accuracy({1}, {1, 2}), ValueError);
}

TEST(Metrics, PrecisionRecallF1AsSklearn) {
  // sklearn: y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
  const std::vector<int64_t> y{0, 1, 2, 0, 1, 2}, p{0, 2, 1, 0, 0, 1};
  // per class: 0: P 2/3 R 1 F 0.8; 1: P 0 R 0; 2: P 0 R 0
  auto macro = precision_recall_f1(p, y, "macro");
  EXPECT_NEAR(macro.precision, 2.0 / 9.0, 1e-12);
  EXPECT_NEAR(macro.recall, 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(macro.f1, 0.8 / 3.0, 1e-12);
  auto micro = precision_recall_f1(p, y, "micro");
  EXPECT_NEAR(micro.precision, 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(micro.recall, 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(micro.f1, 1.0 / 3.0, 1e-12);
  auto weighted = precision_recall_f1(p, y, "weighted");  // supports 2, 2, 2
  EXPECT_NEAR(weighted.f1, 0.8 / 3.0, 1e-12);
  // weighted with unequal supports: y = [0, 0, 0, 1], p = [0, 0, 1, 1]
  // class 0: P 1, R 2/3, F 0.8 (support 3); class 1: P 0.5, R 1, F 2/3 (support 1)
  auto w2 = precision_recall_f1({0, 0, 1, 1}, {0, 0, 0, 1}, "weighted");
  EXPECT_NEAR(w2.precision, 0.75 * 1 + 0.25 * 0.5, 1e-12);
  EXPECT_NEAR(w2.recall, 0.75 * (2.0 / 3.0) + 0.25 * 1, 1e-12);
  EXPECT_NEAR(w2.f1, 0.75 * 0.8 + 0.25 * (2.0 / 3.0), 1e-12);
  auto bin = precision_recall_f1({0, 0, 1, 1}, {0, 0, 0, 1}, "binary");
  EXPECT_NEAR(bin.precision, 0.5, 1e-12);
  EXPECT_NEAR(bin.recall, 1.0, 1e-12);
  // a class only predicted counts in macro (sklearn's union of labels)
  auto m3 = precision_recall_f1({0, 1}, {0, 0}, "macro");
  EXPECT_NEAR(m3.recall, 0.25, 1e-12);  // class 0: R 1/2; class 1: R 0 (no support)
  EXPECT_THROW(precision_recall_f1({0}, {0}, "samples"), ValueError);
}

TEST(Metrics, EntitiesAsSeqeval) {
  // seqeval's README example
  const std::vector<std::string> seq{"B-PER", "I-PER", "O", "B-LOC"};
  auto e = get_entities(seq);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], (Entity{"PER", 0, 1}));
  EXPECT_EQ(e[1], (Entity{"LOC", 3, 3}));
  // I- after O starts a chunk (conlleval); a type change ends one
  auto e2 = get_entities({"I-MISC", "I-MISC", "I-PER", "O"});
  ASSERT_EQ(e2.size(), 2u);
  EXPECT_EQ(e2[0], (Entity{"MISC", 0, 1}));
  EXPECT_EQ(e2[1], (Entity{"PER", 2, 2}));

  // seqeval.metrics doc example:
  // y_true = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']]
  // y_pred = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']]
  // f1 0.5, precision 0.5, recall 0.5, accuracy 0.8
  const SeqevalResult r = seqeval({{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}},
                                  {{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}});
  EXPECT_DOUBLE_EQ(r.f1, 0.5);
  EXPECT_DOUBLE_EQ(r.precision, 0.5);
  EXPECT_DOUBLE_EQ(r.recall, 0.5);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.8);
  EXPECT_DOUBLE_EQ(r.per_type.at("PER").f1, 1.0);
  EXPECT_DOUBLE_EQ(r.per_type.at("MISC").f1, 0.0);
  EXPECT_EQ(r.per_type.at("MISC").number, 1);
}

TEST(Metrics, PerplexityAndHooks) {
  EXPECT_NEAR(perplexity(std::log(20.0)), 20.0, 1e-9);
  EvalPrediction ep{Tensor::from_vector<float>({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, {3, 2}),
                    Tensor::from_vector<int64_t>({1, 0, 0}, {3})};
  auto m = classification_metrics()(ep);
  EXPECT_NEAR(m.at("accuracy"), 2.0 / 3.0, 1e-12);
  EXPECT_TRUE(m.count("f1") && m.count("precision") && m.count("recall"));

  // token classification: logits [1, 4, 3], labels with -100 at specials
  const std::vector<float> logits{0, 0, 0,  0, 1, 0,  0, 0, 1,  0, 0, 0};  // argmax: 0, 1, 2, 0
  EvalPrediction tp{Tensor::from_vector<float>(logits, {1, 4, 3}), Tensor::from_vector<int64_t>({-100, 1, 2, -100}, {1, 4})};
  auto tm = token_classification_metrics({{0, "O"}, {1, "B-PER"}, {2, "I-PER"}})(tp);
  EXPECT_DOUBLE_EQ(tm.at("f1"), 1.0);
  EXPECT_DOUBLE_EQ(tm.at("accuracy"), 1.0);
}

}  // namespace
}  // namespace cppformers
