#include "cppformers/pipelines/zero_shot_classification.hpp"

#include <gtest/gtest.h>

#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(ZeroShotClassificationPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("zero_shot_classification");
  auto pipe = pipeline("zero-shot-classification", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) { return pipe->call(c["inputs"], c["kwargs"]); }), 8);
  auto& zs = dynamic_cast<ZeroShotClassificationPipeline&>(*pipe);
  EXPECT_EQ(zs.entailment_id(), 2);  // label2id: contradiction 0, neutral 1, entailment 2
  EXPECT_THROW(pipe->call("text", json::object()), ValueError);  // candidate_labels is required
  EXPECT_THROW(pipe->call("text", {{"candidate_labels", {"a"}}, {"hypothesis_template", "no slot"}}), ValueError);
}

}  // namespace
}  // namespace cppformers
