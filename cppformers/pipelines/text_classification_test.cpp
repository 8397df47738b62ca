// Replays Python's recorded pipeline() calls (../shared/fixtures/pipelines) through the C++ API.
#include "cppformers/pipelines/text_classification.hpp"

#include <gtest/gtest.h>

#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(TextClassificationPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("text_classification");
  auto pipe = pipeline("text-classification", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) { return pipe->call(c["inputs"], c["kwargs"]); }), 11);
}

TEST(TextClassificationPipeline, TypedCallAliasAndErrors) {
  const std::string dir = testing::pipeline_fixture("text_classification");
  auto pipe = pipeline("sentiment-analysis", dir);
  auto& tc = dynamic_cast<TextClassificationPipeline&>(*pipe);
  const auto all = tc("The meeting has been moved to Thursday afternoon.", -1);
  ASSERT_EQ(all.size(), 3u);
  double sum = 0;
  for (const auto& r : all) sum += r.score;
  EXPECT_NEAR(sum, 1.0, 1e-6);  // softmax over the labels
  EXPECT_GE(all[0].score, all[1].score);
  EXPECT_THROW(pipe->call("text", {{"topk", 2}}), ValueError);  // a misspelt kwarg is named, not ignored
  EXPECT_THROW(pipe->call("text", {{"function_to_apply", "relu"}}), ValueError);
  EXPECT_THROW(pipeline("text-clasification", dir), NotSupportedError);
}

}  // namespace
}  // namespace cppformers
