// The UnicodeScripts pre-tokenizer against the Rust library (goldens and generator in
// testdata/unicode_scripts: its character classes over every code point, and the pieces and
// encodings of mixed-script texts).
#include "cppformers/tokenizers/unicode_scripts.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "cppformers/tokenizers/test_util.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"

namespace cppformers::tokenizers {
namespace {

std::string testdata() { return std::string(CPPFORMERS_SOURCE_DIR) + "/cppformers/tokenizers/testdata/unicode_scripts"; }

json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  return json::parse(f);
}

TEST(UnicodeScripts, ScriptOfSomeCharacters) {
  auto name = [](char32_t c) { return std::string(unicode::script_name(unicode::script(c))); };
  EXPECT_EQ(name(U'a'), "Latin");
  EXPECT_EQ(name(U'0'), "Common");
  EXPECT_EQ(name(U' '), "Common");
  EXPECT_EQ(name(U'\u4eac'), "Han");
  EXPECT_EQ(name(U'\u3044'), "Hiragana");
  EXPECT_EQ(name(U'\u30b0'), "Katakana");
  EXPECT_EQ(name(U'\u30fc'), "Common");
  EXPECT_EQ(name(U'\u0301'), "Inherited");
  EXPECT_EQ(name(U'\u0589'), "Common");      // Armenian since Unicode 11
  EXPECT_EQ(name(U'\U0001F970'), "Any");     // an emoji of Unicode 11
  EXPECT_EQ(name(U'\uE000'), "Any");         // private use
  EXPECT_EQ(name(0x110000), "Any");
  auto pre = [](char32_t c) { return std::string(unicode::script_name(unicode::pre_tokenizer_script(c))); };
  EXPECT_EQ(pre(U'\u3044'), "Han");
  EXPECT_EQ(pre(U'\u30b0'), "Han");
  EXPECT_EQ(pre(U'\u30fc'), "Han");
  EXPECT_EQ(pre(U' '), "Any");
  EXPECT_EQ(pre(U'\t'), "Common");
}

// Every code point: "Any" exactly where the library has it, and the library's classes map one to
// one onto ours.
TEST(UnicodeScripts, ClassesOfEveryCodePointMatchTheRustLibrary) {
  json g = read_json(testdata() + "/script_classes.json");
  std::vector<int> golden(0x110000, 0);
  for (const auto& r : g.at("ranges"))
    for (uint32_t c = r[0].get<uint32_t>(); c <= r[1].get<uint32_t>(); ++c) golden[c] = r[2].get<int>();
  std::map<int, int> to_ours, to_golden;
  size_t mismatches = 0;
  for (uint32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;  // not chars
    int ours = unicode::pre_tokenizer_script(c);
    bool ok = (ours == 0) == (golden[c] == 0);
    if (ok && ours != 0) {
      auto [a, ins_a] = to_ours.emplace(golden[c], ours);
      auto [b, ins_b] = to_golden.emplace(ours, golden[c]);
      ok = a->second == ours && b->second == golden[c];
    }
    if (!ok && ++mismatches <= 10)
      ADD_FAILURE() << "U+" << std::hex << c << ": ours " << unicode::script_name(ours) << ", library class " << std::dec
                    << golden[c];
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(to_ours.size(), g.at("classes").get<size_t>());
}

TEST(UnicodeScripts, PiecesAndEncodingsMatchTheRustLibrary) {
  Tokenizer t = Tokenizer::from_file(testdata() + "/tokenizer.json");
  auto golden = testing::read_jsonl(testdata() + "/golden.jsonl");
  ASSERT_GT(golden.size(), 400u);
  for (const auto& g : golden) {
    std::string text = g.at("text");
    SCOPED_TRACE(text);
    auto pieces = t.pre_tokenize_str(text);
    ASSERT_TRUE(pieces.has_value());
    std::vector<std::pair<std::string, Offsets>> want;
    for (const auto& p : g.at("pre_tokens")) want.push_back({p[0], {p[1][0], p[1][1]}});
    EXPECT_EQ(*pieces, want);
    Encoding e = t.encode(text);
    EXPECT_EQ(e.ids, g.at("ids").get<std::vector<uint32_t>>());
    EXPECT_EQ(e.tokens, g.at("tokens").get<std::vector<std::string>>());
    std::vector<Offsets> off;
    for (const auto& o : g.at("offsets")) off.push_back({o[0], o[1]});
    EXPECT_EQ(e.offsets, off);
  }
}

TEST(UnicodeScripts, LoadsInsideASequence) {
  json j = read_json(testdata() + "/tokenizer.json");
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", json::array({{{"type", "UnicodeScripts"}}, {{"type", "WhitespaceSplit"}}})}};
  Tokenizer t = Tokenizer::from_json(j);
  auto pieces = t.pre_tokenize_str("Apples are \xE3\x82\x8A\xE3\x82\x93\xE3\x81\x94 x");
  ASSERT_TRUE(pieces.has_value());
  std::vector<std::pair<std::string, Offsets>> want = {
      {"Apples", {0, 6}}, {"are", {7, 10}}, {"\xE3\x82\x8A\xE3\x82\x93\xE3\x81\x94", {11, 14}}, {"x", {15, 16}}};
  EXPECT_EQ(*pieces, want);
}

}  // namespace
}  // namespace cppformers::tokenizers
