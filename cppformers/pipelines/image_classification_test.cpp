// Replays Python's recorded image pipeline calls (../shared/fixtures/pipelines).
#include "cppformers/pipelines/image_classification.hpp"

#include <gtest/gtest.h>

#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

json with_paths(const json& x, const std::string& dir) {
  if (x.is_string()) return dir + "/" + x.get<std::string>();
  json out = json::array();
  for (const json& v : x) out.push_back(with_paths(v, dir));
  return out;
}

TEST(ImageClassificationPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("image_classification");
  auto pipe = pipeline("image-classification", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) { return pipe->call(with_paths(c["inputs"], dir), c["kwargs"]); }), 5);
  EXPECT_THROW(pipe->call(dir + "/nonexistent.png"), IOError);
  EXPECT_THROW(pipe->call(dir + "/config.json"), FormatError);  // not an image
}

TEST(ZeroShotImageClassificationPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("zero_shot_image_classification");
  auto pipe = pipeline("zero-shot-image-classification", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) { return pipe->call(with_paths(c["inputs"], dir), c["kwargs"]); }), 3);
}

}  // namespace
}  // namespace cppformers
