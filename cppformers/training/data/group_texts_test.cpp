#include "cppformers/training/data/group_texts.hpp"

#include <gtest/gtest.h>

#include "cppformers/core/error.hpp"

namespace cppformers {
namespace {

Example tokenized(std::vector<int64_t> ids) {
  Example e;
  e.text = "x";
  e.input_ids = ids;
  e.attention_mask.assign(ids.size(), 1);
  e.token_type_ids.assign(ids.size(), 0);
  e.special_tokens_mask.assign(ids.size(), 0);
  return e;
}

// run_mlm.py's group_texts: concatenate, cut into block_size, drop the remainder.
TEST(GroupTexts, ConcatenatesAndDropsTheRemainder) {
  Dataset ds({tokenized({1, 2, 3}), tokenized({4, 5}), tokenized({6, 7, 8, 9})});
  Dataset g = group_texts(ds, 4);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].input_ids, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(g[1].input_ids, (std::vector<int64_t>{5, 6, 7, 8}));
  EXPECT_EQ(g[1].attention_mask, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(g[1].token_type_ids.size(), 4u);
  EXPECT_EQ(g[1].special_tokens_mask.size(), 4u);
  EXPECT_EQ(g[0].label, -100);
}

TEST(GroupTexts, SeparatorAfterEachTextUnlessAlreadyThere) {
  Dataset ds({tokenized({1, 2}), tokenized({3, 0}), tokenized({4})});
  Dataset g = group_texts(ds, 3, 0);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].input_ids, (std::vector<int64_t>{1, 2, 0}));
  EXPECT_EQ(g[1].input_ids, (std::vector<int64_t>{3, 0, 4}));  // the trailing "0" of the last text dropped
}

TEST(GroupTexts, Errors) {
  Dataset ds({tokenized({1, 2})});
  EXPECT_THROW(group_texts(ds, 0), ValueError);
  Example raw;
  raw.text = "not tokenized";
  EXPECT_THROW(group_texts(Dataset({raw}), 2), ValueError);
}

}  // namespace
}  // namespace cppformers
