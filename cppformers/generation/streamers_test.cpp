#include "cppformers/generation/streamers.hpp"

#include <gtest/gtest.h>

namespace cppformers {
namespace {

TEST(Streamers, NeverEndsInsideAUtf8Character) {
  EXPECT_EQ(utf8_complete_prefix("abc"), 3u);
  EXPECT_EQ(utf8_complete_prefix(""), 0u);
  const std::string e_acute = "\xC3\xA9", euro = "\xE2\x82\xAC", emoji = "\xF0\x9F\x98\x80";
  EXPECT_EQ(utf8_complete_prefix("a" + e_acute), 3u);
  EXPECT_EQ(utf8_complete_prefix("a" + e_acute.substr(0, 1)), 1u);
  EXPECT_EQ(utf8_complete_prefix("a" + euro.substr(0, 2)), 1u);
  EXPECT_EQ(utf8_complete_prefix("a" + emoji.substr(0, 3)), 1u);
  EXPECT_EQ(utf8_complete_prefix("a" + emoji), 5u);
  // a byte-level decoder renders a partial character as U+FFFD: held back too
  EXPECT_EQ(utf8_complete_prefix("ab\xEF\xBF\xBD"), 2u);
  EXPECT_EQ(utf8_complete_prefix("ab\xEF\xBF\xBD\xEF\xBF\xBD"), 2u);
}

}  // namespace
}  // namespace cppformers
