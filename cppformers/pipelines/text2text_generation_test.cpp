// Replays Python's recorded summarization / translation calls (T5, greedy).
#include "cppformers/pipelines/text2text_generation.hpp"

#include <gtest/gtest.h>

#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(Text2TextGenerationPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("summarization_translation");
  auto sum = pipeline("summarization", dir);
  auto tr = pipeline("translation_en_to_de", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) {
              return (c["task"] == "summarization" ? sum : tr)->call(c["inputs"], c["kwargs"]);
            }), 7);
  auto& t = dynamic_cast<Text2TextGenerationPipeline&>(*tr);
  EXPECT_EQ(t.prefix, "translate English to German: ");
  auto t2t = pipeline("text2text-generation", dir);
  json out = t2t->call("summarize: The house is wonderful.", {{"max_new_tokens", 3}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].contains("generated_text"));
}

}  // namespace
}  // namespace cppformers
