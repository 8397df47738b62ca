#include "cppformers/models/t5/modeling.hpp"

#include <gtest/gtest.h>

#include "cppformers/models/parity_test_util.hpp"

namespace cppformers {
namespace {

TEST(T5, ReluTiedMatchesPythonGolden) { testing::expect_golden_outputs("t5"); }
TEST(T5, GatedGeluUntiedMatchesPythonGolden) { testing::expect_golden_outputs("t5_gated"); }

TEST(T5, RelativePositionBuckets) {
  // values of transformers' _relative_position_bucket (32 buckets, max distance 128)
  EXPECT_EQ(t5_relative_position_bucket(0, true, 32, 128), 0);
  EXPECT_EQ(t5_relative_position_bucket(-1, true, 32, 128), 1);
  EXPECT_EQ(t5_relative_position_bucket(1, true, 32, 128), 17);
  EXPECT_EQ(t5_relative_position_bucket(-7, true, 32, 128), 7);
  EXPECT_EQ(t5_relative_position_bucket(-8, true, 32, 128), 8);
  EXPECT_EQ(t5_relative_position_bucket(-20, true, 32, 128), 10);
  EXPECT_EQ(t5_relative_position_bucket(-1000, true, 32, 128), 15);
  EXPECT_EQ(t5_relative_position_bucket(1000, true, 32, 128), 31);
  // causal (decoder): future positions share bucket 0
  EXPECT_EQ(t5_relative_position_bucket(5, false, 32, 128), 0);
  EXPECT_EQ(t5_relative_position_bucket(-5, false, 32, 128), 5);
  EXPECT_EQ(t5_relative_position_bucket(-20, false, 32, 128), 17);
  EXPECT_EQ(t5_relative_position_bucket(-1000, false, 32, 128), 31);
}

}  // namespace
}  // namespace cppformers
