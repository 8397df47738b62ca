// Model card front matter: the YAML block huggingface_hub reads, in the forms model cards use.
#include "cppformers/io/model_card.hpp"

#include <gtest/gtest.h>

#include "cppformers/core/error.hpp"

namespace cppformers::io {
namespace {

using nlohmann::json;

TEST(ModelCard, ScalarsListsAndNestedBlocks) {
  const std::string card =
      "---\n"
      "license: apache-2.0\n"
      "pipeline_tag: text-classification   # a comment\n"
      "base_model:\n"
      "- google-bert/bert-base-uncased\n"
      "- 'org/other'\n"
      "tags: [sentiment, \"bert\"]\n"
      "library_name: transformers\n"
      "inference: false\n"
      "version: 1.5\n"
      "downloads: 12_000\n"
      "empty:\n"
      "quoted_bool: 'yes'\n"
      "model-index:\n"
      "- name: x\n"
      "  results:\n"
      "  - task: {type: text-classification}\n"
      "---\n"
      "# The model\n\nText with --- inside.\n";
  json m = parse_model_card_metadata(card, "README.md");
  EXPECT_EQ(m["license"], "apache-2.0");
  EXPECT_EQ(m["pipeline_tag"], "text-classification");
  EXPECT_EQ(m["base_model"], json({"google-bert/bert-base-uncased", "org/other"}));
  EXPECT_EQ(m["tags"], json({"sentiment", "bert"}));
  EXPECT_EQ(m["inference"], false);  // PyYAML's YAML 1.1 booleans
  EXPECT_EQ(m["version"], 1.5);
  EXPECT_EQ(m["downloads"], 12000);
  EXPECT_TRUE(m["empty"].is_null());
  EXPECT_EQ(m["quoted_bool"], "yes");  // quoted: a string
  EXPECT_EQ(m["model-index"][0]["results"][0]["task"]["type"], "text-classification");
}

TEST(ModelCard, WhereTheBlockIsAndIsNot) {
  EXPECT_EQ(parse_model_card_metadata("# no front matter\nlicense: mit\n", "R"), json::object());
  EXPECT_EQ(parse_model_card_metadata("", "R"), json::object());
  EXPECT_EQ(parse_model_card_metadata("---\nlicense: mit\n", "R"), json::object());  // never closed
  // Leading blank lines and CRLF line ends, as huggingface_hub's REGEX_YAML_BLOCK allows; the
  // closing '---' may end the text.
  EXPECT_EQ(parse_model_card_metadata("\n\r\n---\r\nbase_model: a/b\r\n---", "R"), json({{"base_model", "a/b"}}));
  EXPECT_EQ(parse_model_card_metadata("---\n---\n# empty block\n", "R"), json::object());
}

TEST(ModelCard, MalformedYamlIsAFormatErrorNamingTheFile) {
  try {
    parse_model_card_metadata("---\nlicense: [mit\n---\n", "org/x/README.md");
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("org/x/README.md"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_model_card_metadata("---\n- a\n- b\n---\n", "R"), FormatError);  // not a mapping
  // An alias bomb is refused, not expanded.
  std::string bomb = "---\na: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c, ++prev)
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  bomb += "---\n";
  EXPECT_THROW(parse_model_card_metadata(bomb, "R"), FormatError);
  EXPECT_THROW(read_model_card_metadata("/no/such/README.md"), IOError);
}

}  // namespace
}  // namespace cppformers::io
