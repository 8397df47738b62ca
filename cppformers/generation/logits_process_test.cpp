#include "cppformers/generation/logits_process.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cppformers/generation/beam_search.hpp"

namespace cppformers {
namespace {

const float kInf = std::numeric_limits<float>::infinity();

// Scores whose softmax is exactly `probs` (log of each).
std::vector<float> logs(const std::vector<float>& probs) {
  std::vector<float> v;
  for (float p : probs) v.push_back(p > 0 ? std::log(p) : -kInf);
  return v;
}

std::vector<bool> kept(const LogitsProcessor& p, std::vector<float> s, const Sequences& ids = {{}}) {
  p.process(ids, s.data(), 1, int64_t(s.size()));
  std::vector<bool> out;
  for (float v : s) out.push_back(v != -kInf);
  return out;
}

TEST(LogitsWarpers, TopK) {
  const std::vector<float> s = {1.0f, 4.0f, 3.0f, 2.0f, 3.0f};
  EXPECT_EQ(kept(TopKLogitsWarper(1), s), (std::vector<bool>{false, true, false, false, false}));
  // the k-th score ties: both stay, as `scores < kth` in Python
  EXPECT_EQ(kept(TopKLogitsWarper(2), s), (std::vector<bool>{false, true, true, false, true}));
  EXPECT_EQ(kept(TopKLogitsWarper(10), s), (std::vector<bool>(5, true)));
  EXPECT_EQ(kept(TopKLogitsWarper(1, 3), s), (std::vector<bool>{false, true, true, false, true}));
  EXPECT_THROW(TopKLogitsWarper(0), ValueError);
}

TEST(LogitsWarpers, TopP) {
  // probabilities 0.5, 0.25, 0.15, 0.1: the smallest set reaching p
  const std::vector<float> s = logs({0.1f, 0.5f, 0.15f, 0.25f});
  EXPECT_EQ(kept(TopPLogitsWarper(0.45), s), (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(kept(TopPLogitsWarper(0.6), s), (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(kept(TopPLogitsWarper(0.8), s), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(kept(TopPLogitsWarper(1.0), s), (std::vector<bool>(4, true)));
  EXPECT_EQ(kept(TopPLogitsWarper(0.0), s), (std::vector<bool>{false, true, false, false}));  // min_tokens_to_keep 1
  EXPECT_EQ(kept(TopPLogitsWarper(0.0, 2), s), (std::vector<bool>{false, true, false, true}));
}

TEST(LogitsWarpers, MinP) {
  // top probability 0.5: min_p 0.4 removes everything below 0.2
  const std::vector<float> s = logs({0.1f, 0.5f, 0.15f, 0.25f});
  EXPECT_EQ(kept(MinPLogitsWarper(0.4), s), (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(kept(MinPLogitsWarper(0.25), s), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(kept(MinPLogitsWarper(1.0), s), (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(kept(MinPLogitsWarper(1.0, 3), s), (std::vector<bool>{false, true, true, true}));
}

TEST(LogitsWarpers, Temperature) {
  std::vector<float> s = {1.0f, -2.0f};
  TemperatureLogitsWarper(0.5).process({{}}, s.data(), 1, 2);
  EXPECT_EQ(s, (std::vector<float>{2.0f, -4.0f}));
  EXPECT_THROW(TemperatureLogitsWarper(0.0), ValueError);
}

TEST(LogitsProcessors, RepetitionNgramBadWordsMinLength) {
  std::vector<float> s = {2.0f, -2.0f, 3.0f, 1.0f};
  RepetitionPenaltyLogitsProcessor(2.0).process({{0, 1, 1}}, s.data(), 1, 4);
  EXPECT_EQ(s, (std::vector<float>{1.0f, -4.0f, 3.0f, 1.0f}));  // each seen token once

  // 2-grams: after "... 1" the sequence 1 2 1 forbids 2 (1 2 seen)
  EXPECT_EQ(kept(NoRepeatNGramLogitsProcessor(2), std::vector<float>(4, 0.0f), {{1, 2, 1}}),
            (std::vector<bool>{true, true, false, true}));
  EXPECT_EQ(kept(NoRepeatNGramLogitsProcessor(3), std::vector<float>(4, 0.0f), {{1, 2, 3, 1, 2}}),
            (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(kept(NoRepeatNGramLogitsProcessor(4), std::vector<float>(4, 0.0f), {{1, 2}}), (std::vector<bool>(4, true)));

  // bad words: single tokens always, [1, 3] only after 1; [eos] alone is dropped
  NoBadWordsLogitsProcessor bad({{0}, {1, 3}, {2}}, {2});
  EXPECT_EQ(kept(bad, std::vector<float>(4, 0.0f), {{3, 1}}), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(kept(bad, std::vector<float>(4, 0.0f), {{1, 3}}), (std::vector<bool>{false, true, true, true}));

  EXPECT_EQ(kept(MinLengthLogitsProcessor(3, {2, 3}), std::vector<float>(4, 0.0f), {{1, 1}}),
            (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(kept(MinLengthLogitsProcessor(3, {2}), std::vector<float>(4, 0.0f), {{1, 1, 1}}), (std::vector<bool>(4, true)));
  EXPECT_EQ(kept(MinNewTokensLengthLogitsProcessor(2, 1, {2}), std::vector<float>(4, 0.0f), {{1, 1}}),
            (std::vector<bool>{true, true, false, true}));
  EXPECT_EQ(kept(MinNewTokensLengthLogitsProcessor(2, 1, {2}), std::vector<float>(4, 0.0f), {{1, 1, 3}}),
            (std::vector<bool>(4, true)));
}

TEST(BeamHypotheses, KeepsTheBestAndStopsAsPython) {
  BeamHypotheses h(2, 1.0, 0, 20);
  h.add({1, 2}, -4.0, 2);  // score -2
  h.add({1, 3}, -3.0, 2);  // -1.5
  EXPECT_DOUBLE_EQ(h.worst_score, -2.0);
  h.add({1, 4}, -2.0, 2);  // -1: replaces -2
  ASSERT_EQ(h.size(), 2u);
  EXPECT_DOUBLE_EQ(h.worst_score, -1.5);
  h.add({1, 5}, -8.0, 2);  // worse: ignored
  EXPECT_EQ(h.size(), 2u);
  // early_stopping false: done when the best running beam cannot beat the worst kept one
  EXPECT_TRUE(h.is_done(-4.0, 4, 2));   // -4 / 2 = -2 <= -1.5
  EXPECT_FALSE(h.is_done(-2.0, 4, 2));  // -1 > -1.5
  BeamHypotheses never(2, 1.0, 2, 10);
  never.add({1}, -1.0, 1);
  never.add({2}, -1.0, 1);
  EXPECT_FALSE(never.is_done(-8.5, 2, 0));  // -8.5 / 10 > -1
  EXPECT_TRUE(never.is_done(-11.0, 2, 0));
}

}  // namespace
}  // namespace cppformers
