// The tokenizer.json loader (Tokenizer::from_file / from_json_string) reads model.vocab and
// model.merges straight from the file's bytes: these tests check that it builds exactly the
// tokenizer that the plain JSON tree gives (Tokenizer::from_json), and fails with exactly the
// same errors, for the fixture files, for files written with every kind of JSON escape, and for
// malformed files.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/test_util.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"

namespace cppformers::tokenizers {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> some_texts() {
  std::vector<std::string> out;
  for (const auto& j : testing::read_jsonl(testing::fixtures_dir() + "/texts.jsonl")) out.push_back(j["text"]);
  return out;
}

// The error the tree parse gives for `text` ("" when it loads).
std::string tree_error(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse errors and numbers out of range: "invalid JSON"
    return std::string("x.json: invalid JSON: ") + e.what();
  }
  try {
    Tokenizer::from_json(j, "x.json");
  } catch (const FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
  return "";
}

std::string loader_error(const std::string& text) {
  try {
    Tokenizer::from_json_string(text, "x.json");
  } catch (const FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
  return "";
}

void expect_same_tokenizer(const Tokenizer& a, const Tokenizer& b, const std::vector<std::string>& texts) {
  ASSERT_EQ(a.vocab_size(), b.vocab_size());
  for (uint32_t id = 0; id < a.vocab_size() + 8; ++id) {
    auto ta = a.id_to_token(id), tb = b.id_to_token(id);
    ASSERT_EQ(ta, tb) << "id " << id;
    if (ta) {
      ASSERT_EQ(a.token_to_id(*ta), b.token_to_id(*ta)) << *ta;
    }
  }
  for (const auto& t : texts) {
    Encoding ea = a.encode(t, true), eb = b.encode(t, true);
    ASSERT_EQ(ea.ids, eb.ids) << t;
    ASSERT_EQ(ea.offsets, eb.offsets) << t;
  }
}

class LoaderFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(LoaderFixture, SameAsTheTreeAsWrittenReindentedAndAllEscaped) {
  std::string path = testing::fixtures_dir() + "/" + GetParam() + "/tokenizer.json";
  std::string text = read_text(path);
  json j = json::parse(text);
  Tokenizer tree = Tokenizer::from_json(j, path);
  auto texts = some_texts();
  expect_same_tokenizer(Tokenizer::from_file(path), tree, texts);
  // Indented, and with every non-ASCII char as \uXXXX (surrogate pairs beyond the BMP).
  expect_same_tokenizer(Tokenizer::from_json_string(j.dump(2, ' ', true), path), tree, texts);
  expect_same_tokenizer(Tokenizer::from_json_string(j.dump(), path), tree, texts);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LoaderFixture,
                         ::testing::Values("gpt2", "roberta_bpe", "bert_wordpiece", "wordlevel_whitespace",
                                           "llama_bpe_bytefallback", "t5_unigram", "xlmr_unigram_precompiled"));

// A tiny BPE file as text, with `vocab` and `merges` spliced in as written.
std::string tiny(const std::string& vocab, const std::string& merges, const std::string& model_extra = "",
                 const std::string& pre_tokenizer = R"({"type": "Whitespace"})") {
  return R"({"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": )" + pre_tokenizer + R"(,
    "post_processor": null, "decoder": null,
    "model": {)" + model_extra + R"("type": "BPE", "unk_token": "<unk>", "vocab": )" + vocab + R"(, "merges": )" + merges + "}}";
}

TEST(Loader, EscapedKeysAndMerges) {
  // \" \\ \/ \b \f \n \r \t, \u escapes (BMP, a surrogate pair, NUL) in keys and in merges.
  std::string text = tiny(R"({"<unk>": 0, "a\"": 1, "b\\": 2, "a\"b\\": 3, "\u00e9": 4, "\ud83d\ude00": 5,
                             "\u00e9\ud83d\ude00": 6, "x\/\b\f\n\r\t": 7, "n\u0000": 8})",
                          R"(["a\" b\\", ["\u00e9", "\ud83d\ude00"]])", "", "null");
  ASSERT_EQ(loader_error(text), "");
  Tokenizer a = Tokenizer::from_json_string(text, "x.json");
  Tokenizer b = Tokenizer::from_json(json::parse(text), "x.json");
  expect_same_tokenizer(a, b, {"a\"b\\", "\xC3\xA9\xF0\x9F\x98\x80", "a\" b\\"});
  EXPECT_EQ(a.token_to_id("x/\b\f\n\r\t"), 7u);
  EXPECT_EQ(a.token_to_id(std::string("n\0", 2)), 8u);
  EXPECT_EQ(a.encode("\xC3\xA9\xF0\x9F\x98\x80", false).ids, (std::vector<uint32_t>{6}));
}

TEST(Loader, ModelWithoutTypeKeepsItsVocabAndMerges) {
  std::string text = R"({"model": {"unk_token": "<unk>", "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3}, "merges": ["a b"]},
                         "pre_tokenizer": {"type": "Whitespace"}})";
  Tokenizer t = Tokenizer::from_json_string(text, "x.json");
  EXPECT_EQ(t.encode("ab", false).ids, (std::vector<uint32_t>{3}));
  expect_same_tokenizer(t, Tokenizer::from_json(json::parse(text), "x.json"), {"ab a b", "ba"});
}

TEST(Loader, RepeatedKeysAndIdsResolveAsInTheTree) {
  for (const std::string& text : {
           tiny(R"({"<unk>": 0, "a": 1, "b": 2, "ab": 3, "a": 4})", R"(["a b"])"),
           tiny(R"({"<unk>": 0, "a": 1, "b": 2, "ab": 3, "c": 3})", R"(["a b"])"),
           tiny(R"({"<unk>": 0, "a": 1, "b": 2, "ab": 3})", R"(["a b"])", R"("vocab": {"<unk>": 0, "q": 1}, )"),
           tiny(R"({"<unk>": 0, "a": 1, "b": 2, "ab": 3})", R"(["a b", "a b"])"),
           tiny(R"({"<unk>": 0, "a": 1, "b": 2, "ab": 3})", R"([])", R"("merges": ["a b"], )"),
           std::string(R"({"model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}, )") +
               R"("model": {"type": "WordLevel", "vocab": {"b": 0, "a": 1}, "unk_token": "a"}})",
       }) {
    SCOPED_TRACE(text);
    ASSERT_EQ(loader_error(text), tree_error(text));
    if (tree_error(text).empty())
      expect_same_tokenizer(Tokenizer::from_json_string(text, "x.json"), Tokenizer::from_json(json::parse(text), "x.json"),
                            {"ab", "a b c", "b a"});
  }
}

// A Unigram vocab ([[piece, score], ...]) is read from the bytes too; scores are the numbers the
// JSON tree's get<double>() gives (integers, exponents, -0, integers past 64 bits).
std::string unigram(const std::string& vocab) {
  return R"({"normalizer": null, "pre_tokenizer": null, "model": {"type": "Unigram", "unk_id": 0, "vocab": )" + vocab + "}}";
}

TEST(Loader, UnigramVocabScoresAsInTheTree) {
  std::string text = unigram(R"([["<unk>", 0], ["a", -1e0], ["b", -2], ["ab", -0.25E1], ["c", -18446744073709551616],
                                 ["d", -0], ["abc", -3.5], ["\u00e9", -1.0e-1], ["cd", -9223372036854775807]])");
  ASSERT_EQ(loader_error(text), "");
  expect_same_tokenizer(Tokenizer::from_json_string(text, "x.json"), Tokenizer::from_json(json::parse(text), "x.json"),
                        {"abc", "abd", "cd", "dd", "\xC3\xA9" "ab", "xyz"});
  // Typeless: inferred from the array vocab.
  std::string typeless = R"({"model": {"unk_id": 0, "vocab": [["<unk>", 0], ["a", -1], ["b", -2], ["ab", -1.5]]}})";
  ASSERT_EQ(loader_error(typeless), "");
  expect_same_tokenizer(Tokenizer::from_json_string(typeless, "x.json"), Tokenizer::from_json(json::parse(typeless), "x.json"),
                        {"ab", "ba", "abab"});
  for (const std::string& bad : {
           unigram(R"([["a", "x"]])"), unigram(R"([["a"]])"), unigram(R"([["a", 1, 2]])"), unigram(R"([[1, 2]])"),
           unigram(R"([["a", 1e999]])"), unigram(R"([["a", 01]])"), unigram(R"([["a", 1.]])"), unigram(R"([["a", .5]])"),
           unigram(R"([["a", +1]])"), unigram(R"([["a", -]])"), unigram(R"([["a", 1],])"), unigram(R"([["a", 1] ["b", 2]])"),
           unigram(R"([["a", true]])"), unigram(R"([["a", null]])"), unigram(R"(["a", 1])"), unigram("[[\"a\xff\", 1]]"),
           unigram(R"([["a", 1]], "unk_id": 5)"), unigram(R"([])"),
       }) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(loader_error(bad), tree_error(bad));
  }
}

TEST(Loader, MalformedFilesFailAsTheTreeParseDoes) {
  const std::string merges = R"(["a b"])";
  const std::string vocab = R"({"<unk>": 0, "a": 1, "b": 2, "ab": 3})";
  std::vector<std::string> cases = {
      // ids that are not non-negative integers, or out of range
      tiny(R"({"<unk>": 0, "a": 1.5, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": 1e2, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": -1, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": "1", "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": null, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": 99999999999999999999999, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": 4000000000, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": 01, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": [1], "b": 2, "ab": 3})", merges),
      // not JSON inside the vocab
      tiny(R"({"<unk>": 0, "a": 1, "b": 2, "ab": 3,})", merges),
      tiny(R"({"<unk>": 0, "a" 1, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a": 1 "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, a: 1, "b": 2, "ab": 3})", merges),
      tiny("{\"<unk>\": 0, \"a\xff\": 1, \"b\": 2, \"ab\": 3}", merges),
      tiny("{\"<unk>\": 0, \"a\xc0\xaf\": 1, \"b\": 2, \"ab\": 3}", merges),
      tiny("{\"<unk>\": 0, \"a\xed\xa0\x80\": 1, \"b\": 2, \"ab\": 3}", merges),
      tiny("{\"<unk>\": 0, \"a\xf4\x90\x80\x80\": 1, \"b\": 2, \"ab\": 3}", merges),
      tiny("{\"<unk>\": 0, \"a\xe2\x82\": 1, \"b\": 2, \"ab\": 3}", merges),
      tiny("{\"<unk>\": 0, \"a\n\": 1, \"b\": 2, \"ab\": 3}", merges),
      tiny(R"({"<unk>": 0, "a\x": 1, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a\ud800": 1, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a\udc00": 1, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a\ud800\u0041": 1, "b": 2, "ab": 3})", merges),
      tiny(R"({"<unk>": 0, "a\u00g0": 1, "b": 2, "ab": 3})", merges),
      // merges that are malformed or name unknown tokens
      tiny(vocab, R"(["a b", 7])"),
      tiny(vocab, R"(["a b", ["a"]])"),
      tiny(vocab, R"(["a b", ["a", "b", "c"]])"),
      tiny(vocab, R"(["a b", ["a", 2]])"),
      tiny(vocab, R"(["ab"])"),
      tiny(vocab, R"(["a zz"])"),
      tiny(vocab, R"(["b a"])"),
      tiny(vocab, R"(["a b",])"),
      tiny(vocab, R"(["a b" "a b"])"),
      tiny(vocab, "[\"a\xff b\"]"),
      tiny(vocab, R"(7)"),
      tiny(R"([["a", 1]])", merges),
      // not JSON elsewhere, truncated, or trailing bytes
      tiny(vocab, merges).substr(0, 40),
      tiny(vocab, merges).substr(0, tiny(vocab, merges).size() - 1),
      tiny(vocab, merges) + " x",
      tiny(vocab, merges) + "}",
      "{\"model\": {\"vocab\": {\"a\": 1}, \"merges\": [\"a b\"]}, \"x\": \"\xff\"}",
      R"({"model": {"vocab": {"a": 1}, "merges": ["a b"]}, "x": [1, 2}})",
      R"({"model": {"vocab": {"a": 1}, "merges": ["a b"]} "x": 1})",
      R"({"model": {"type": "BPE", "vocab": {"a": 1}, "merges": []}, "x": tru})",
      R"({"model": {"type": "BPE", "vocab": {"a": 1}, "merges": []}, "x": 1e999})",
      R"({"model": {"type": "BPE", "vocab": {"a": 1}, "merges": []}, "added_tokens": [{"id": 1e999}]})",
      R"([1, 2])",
      R"("model")",
      "",
  };
  for (const auto& text : cases) {
    SCOPED_TRACE(text);
    std::string expected = tree_error(text);
    EXPECT_NE(expected, "");
    EXPECT_EQ(loader_error(text), expected);
  }
}

}  // namespace
}  // namespace cppformers::tokenizers
