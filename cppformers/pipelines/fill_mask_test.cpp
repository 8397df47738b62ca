#include "cppformers/pipelines/fill_mask.hpp"

#include <gtest/gtest.h>

#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(FillMaskPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("fill_mask");
  auto pipe = pipeline("fill-mask", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) { return pipe->call(c["inputs"], c["kwargs"]); }), 9);
}

TEST(FillMaskPipeline, NoMaskIsAClearError) {
  auto pipe = pipeline("fill-mask", testing::pipeline_fixture("fill_mask"));
  try {
    pipe->call("There is no mask here.");
    FAIL() << "expected an error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("No mask_token ([MASK]) found on the input"), std::string::npos);
  }
}

}  // namespace
}  // namespace cppformers
