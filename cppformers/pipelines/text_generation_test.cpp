#include "cppformers/pipelines/text_generation.hpp"

#include <gtest/gtest.h>

#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(TextGenerationPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("text_generation");
  auto pipe = pipeline("text-generation", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) { return pipe->call(c["inputs"], c["kwargs"]); }), 5);
}

TEST(TextGenerationPipeline, TypedCallAndErrors) {
  const std::string dir = testing::pipeline_fixture("text_generation");
  auto pipe = pipeline("text-generation", dir);
  auto& tg = dynamic_cast<TextGenerationPipeline&>(*pipe);
  const std::string prompt = "Once upon a time";
  const std::string full = tg(prompt, {{"max_new_tokens", 4}, {"do_sample", false}});
  const std::string tail = tg(prompt, {{"max_new_tokens", 4}, {"do_sample", false}}, false);
  EXPECT_EQ(full, prompt + tail);  // return_full_text=False drops exactly the prompt
  EXPECT_FALSE(tail.empty());
  EXPECT_THROW(pipe->call(json::array({{{"role", "user"}, {"content", "hi"}}})), NotSupportedError);
  EXPECT_THROW(pipe->call(prompt, {{"max_new_tokenz", 4}}), Error);  // unknown generate kwarg is named
}

}  // namespace
}  // namespace cppformers
