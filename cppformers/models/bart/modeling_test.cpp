#include "cppformers/models/bart/modeling.hpp"

#include <gtest/gtest.h>

#include "cppformers/models/parity_test_util.hpp"

namespace cppformers {
namespace {

TEST(Bart, MatchesPythonGolden) { testing::expect_golden_outputs("bart"); }

TEST(Bart, ShiftTokensRight) {
  Tensor labels = Tensor::from_vector<int64_t>({5, 6, -100}, {1, 3});
  EXPECT_EQ(shift_tokens_right(labels, 1, 2).to_vector<int64_t>(), (std::vector<int64_t>{2, 5, 6}));
}

}  // namespace
}  // namespace cppformers
