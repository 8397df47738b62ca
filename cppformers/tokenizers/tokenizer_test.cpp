// Unit tests of the tokenizer components and of the loader's handling of malformed files.
#include "cppformers/tokenizers/tokenizer.hpp"

#include <gtest/gtest.h>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"
#include "cppformers/tokenizers/normalized_string.hpp"
#include "cppformers/tokenizers/regex.hpp"
#include "cppformers/tokenizers/test_util.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {
namespace {

// A tiny BPE tokenizer.json to build variants of.
json tiny_bpe() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
                      "normalized": false, "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Whitespace"},
    "post_processor": null,
    "decoder": null,
    "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
              "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": false,
              "vocab": {"<s>": 0, "<unk>": 1, "a": 2, "b": 3, "ab": 4, "c": 5, "abc": 6},
              "merges": ["a b", ["ab", "c"]]}
  })");
}

std::string error_of(const json& j) {
  try {
    Tokenizer::from_json(j, "tokenizer.json");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerLoad, TinyBpeEncodes) {
  Tokenizer t = Tokenizer::from_json(tiny_bpe());
  Encoding e = t.encode("abc ab<s>zz", false);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{6, 4, 0, 1}));
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"abc", "ab", "<s>", "<unk>"}));
  EXPECT_EQ(e.offsets[3], (Offsets{9, 11}));  // fused unk covers both chars
  EXPECT_EQ(t.decode(e.ids, true), "abc ab <unk>");
}

TEST(TokenizerLoad, MissingModelNamesTheKey) {
  json j = tiny_bpe();
  j.erase("model");
  EXPECT_NE(error_of(j).find("model"), std::string::npos);
}

TEST(TokenizerLoad, UnknownComponentTypeNamesTheKey) {
  json j = tiny_bpe();
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NoSuchThing"}}})}};
  std::string e = error_of(j);
  EXPECT_NE(e.find("normalizer.normalizers[0].type"), std::string::npos) << e;
  EXPECT_NE(e.find("NoSuchThing"), std::string::npos) << e;
  j = tiny_bpe();
  j["pre_tokenizer"] = {{"type", "Bogus"}};
  EXPECT_NE(error_of(j).find("pre_tokenizer.type"), std::string::npos);
  j = tiny_bpe();
  j["decoder"] = {{"type", "Bogus"}};
  EXPECT_NE(error_of(j).find("decoder.type"), std::string::npos);
  j = tiny_bpe();
  j["post_processor"] = {{"type", "Bogus"}};
  EXPECT_NE(error_of(j).find("post_processor.type"), std::string::npos);
  j = tiny_bpe();
  j["model"]["type"] = "Bogus";
  EXPECT_NE(error_of(j).find("model.type"), std::string::npos);
}

TEST(TokenizerLoad, MergesNamingUnknownTokens) {
  json j = tiny_bpe();
  j["model"]["merges"].push_back("a zz");
  std::string e = error_of(j);
  EXPECT_NE(e.find("model.merges[2]"), std::string::npos) << e;
  EXPECT_NE(e.find("zz"), std::string::npos) << e;
  j = tiny_bpe();
  j["model"]["merges"] = json::array({"b c"});  // "bc" is not in the vocab
  EXPECT_NE(error_of(j).find("'bc'"), std::string::npos);
  j = tiny_bpe();
  j["model"]["merges"] = json::array({"abc"});
  EXPECT_NE(error_of(j).find("model.merges[0]"), std::string::npos);
}

TEST(TokenizerLoad, WrongFieldTypes) {
  json j = tiny_bpe();
  j["model"]["vocab"]["a"] = "two";
  EXPECT_NE(error_of(j).find("model.vocab[\"a\"]"), std::string::npos);
  j = tiny_bpe();
  j["model"]["fuse_unk"] = 3;
  EXPECT_NE(error_of(j).find("model.fuse_unk"), std::string::npos);
  j = tiny_bpe();
  j["added_tokens"] = "nope";
  EXPECT_NE(error_of(j).find("added_tokens"), std::string::npos);
  j = tiny_bpe();
  j["added_tokens"][0]["content"] = 5;
  EXPECT_NE(error_of(j).find("added_tokens[0].content"), std::string::npos);
  j = tiny_bpe();
  j["model"]["merges"] = 7;
  EXPECT_NE(error_of(j).find("model.merges"), std::string::npos);
  j = tiny_bpe();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  EXPECT_NE(error_of(j).find("pre_tokenizer.pattern.Regex"), std::string::npos);
  j = tiny_bpe();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}};
  EXPECT_NE(error_of(j).find("Sideways"), std::string::npos);
  j = tiny_bpe();
  j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
  EXPECT_NE(error_of(j).find("precompiled_charsmap"), std::string::npos);
  EXPECT_THROW(Tokenizer::from_json_string("{not json", "x.json"), FormatError);
  EXPECT_THROW(Tokenizer::from_json_string("[1, 2]", "x.json"), FormatError);
  EXPECT_THROW(Tokenizer::from_file("/nonexistent/tokenizer.json"), IOError);
}

TEST(TokenizerEncode, InvalidUtf8IsAValueError) {
  Tokenizer t = Tokenizer::from_json(tiny_bpe());
  EXPECT_THROW(t.encode(std::string("ab\xff"), true), ValueError);
  EXPECT_THROW(t.encode(std::string("\xed\xa0\x80"), true), ValueError);  // a surrogate
  EXPECT_THROW(t.encode(std::string("\xc3"), true), ValueError);          // truncated
}

TEST(TokenizerEncode, StrideMustBeBelowMaxLength) {
  Tokenizer t = Tokenizer::from_json(tiny_bpe());
  TruncationParams p;
  p.max_length = 2;
  p.stride = 2;
  t.set_truncation(p);
  EXPECT_THROW(t.encode("a b c a b c", false), ValueError);
}

// encode_batch runs on all cores in chunks of texts: results in input order, each identical to
// encode() of its text (with the tokenizer's truncation, then the batch padded), and an error
// names the first failing input.
void expect_same_encoding(const Encoding& a, const Encoding& b, const std::string& what) {
  EXPECT_EQ(a.ids, b.ids) << what;
  EXPECT_EQ(a.tokens, b.tokens) << what;
  EXPECT_EQ(a.offsets, b.offsets) << what;
  EXPECT_EQ(a.type_ids, b.type_ids) << what;
  EXPECT_EQ(a.words, b.words) << what;
  EXPECT_EQ(a.attention_mask, b.attention_mask) << what;
  EXPECT_EQ(a.special_tokens_mask, b.special_tokens_mask) << what;
  EXPECT_EQ(a.sequence_ranges, b.sequence_ranges) << what;
  EXPECT_EQ(a.overflowing.size(), b.overflowing.size()) << what;
}

TEST(TokenizerBatch, SameAsOneByOneInInputOrder) {
  std::vector<std::string> texts;
  for (int r = 0; r < 3; ++r)
    for (const auto& j : testing::read_jsonl(testing::fixtures_dir() + "/texts.jsonl")) texts.push_back(j["text"]);
  for (const char* name : {"gpt2", "bert_wordpiece", "t5_unigram"}) {
    Tokenizer tok = Tokenizer::from_file(testing::fixtures_dir() + "/" + name + "/tokenizer.json");
    for (int settings = 0; settings < 2; ++settings) {
      if (settings == 1) {
        TruncationParams t;
        t.max_length = 24;
        t.stride = 4;
        tok.set_truncation(t);
        PaddingParams p;
        p.pad_to_multiple_of = 8;
        tok.set_padding(p);
      }
      std::vector<Encoding> one;
      for (const auto& t : texts) one.push_back(tok.encode(t, true));
      if (tok.padding()) pad_encodings(one, *tok.padding());
      std::vector<Encoding> batch = tok.encode_batch(texts, true);
      std::vector<EncodeInput> inputs;
      for (const auto& t : texts) inputs.push_back({t, std::nullopt});
      std::vector<Encoding> batch2 = tok.encode_batch(inputs, true);
      ASSERT_EQ(batch.size(), texts.size());
      ASSERT_EQ(batch2.size(), texts.size());
      for (size_t i = 0; i < texts.size(); ++i) {
        expect_same_encoding(batch[i], one[i], std::string(name) + " text " + std::to_string(i));
        expect_same_encoding(batch2[i], one[i], std::string(name) + " input " + std::to_string(i));
      }
    }
  }
}

TEST(TokenizerBatch, NamesTheFirstFailingInput) {
  Tokenizer tok = Tokenizer::from_file(testing::fixtures_dir() + "/gpt2/tokenizer.json");
  std::vector<std::string> texts(2000, "Hello world, a text that encodes.");
  texts[1500] = "bad \xff";
  texts[1500][4] = static_cast<char>(0xff);
  texts[700] = texts[1500];
  try {
    tok.encode_batch(texts, true);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("batch input 700: ", 0), 0u) << e.what();
  }
}

// Unigram's Viterbi walks a trie of the pieces: the best path, a repeated piece taking its last
// id and score (as the vocabulary map), unknown characters fused into one unk piece, and byte
// fallback for that piece.
TEST(UnigramModel, BestPathRepeatedPiecesUnknownRunsAndByteFallback) {
  auto make = [](bool byte_fallback) {
    json j = json::parse(R"({"model": {"type": "Unigram", "unk_id": 0, "vocab": [
        ["<unk>", 0.0], ["a", -1.0], ["b", -2.0], ["ab", -1.2], ["abc", -10.0], ["c", -3.0], ["b", -0.5],
        ["<0x78>", -20.0], ["<0x79>", -20.0], ["\u00e9", -1.0], ["\u00e9t\u00e9", -1.5]]}})");
    j["model"]["byte_fallback"] = byte_fallback;
    return Tokenizer::from_json(j);
  };
  Tokenizer t = make(false);
  Encoding e = t.encode("abxyc", false);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{3, 0, 5}));
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"ab", "xy", "c"}));
  EXPECT_EQ(e.offsets, (std::vector<Offsets>{{0, 2}, {2, 4}, {4, 5}}));
  EXPECT_EQ(t.encode("b", false).ids, (std::vector<uint32_t>{6}));
  EXPECT_EQ(t.encode("bab", false).ids, (std::vector<uint32_t>{6, 3}));
  EXPECT_EQ(t.encode("x\xC3\xA9t\xC3\xA9z", false).ids, (std::vector<uint32_t>{0, 10, 0}));
  EXPECT_EQ(t.encode("\xC3\xA9tz\xC3\xA9", false).ids, (std::vector<uint32_t>{9, 0, 9}));
  Tokenizer f = make(true);
  Encoding g = f.encode("abxyc", false);
  EXPECT_EQ(g.ids, (std::vector<uint32_t>{3, 7, 8, 5}));
  EXPECT_EQ(g.offsets, (std::vector<Offsets>{{0, 2}, {2, 4}, {2, 4}, {4, 5}}));
}

TEST(NormalizedStringTest, AlignmentsFollowTransforms) {
  NormalizedString s("e\xCC\x81t\xC3\xA9");  // e + combining acute, t, é
  s.nfc();
  EXPECT_EQ(s.get(), "\xC3\xA9t\xC3\xA9");
  // as in Rust, a composed char keeps the alignment of its first part
  EXPECT_EQ(*s.convert_normalized_range(0, 2), (Offsets{0, 1}));
  s.nfd();
  EXPECT_EQ(s.get(), "e\xCC\x81te\xCC\x81");
  EXPECT_EQ(*s.convert_normalized_range(4, 7), (Offsets{4, 6}));
  s.filter([](char32_t c) { return !unicode::is_mark(c); });
  EXPECT_EQ(s.get(), "ete");
  EXPECT_EQ(*s.convert_normalized_range(2, 3), (Offsets{4, 6}));
}

TEST(NormalizedStringTest, SplitBehaviours) {
  NormalizedString s("the-final--countdown");
  auto pieces = [&](SplitBehavior b) {
    std::vector<std::string> out;
    for (auto& p : s.split(Pattern::character(U'-'), b)) out.push_back(p.get());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces(SplitBehavior::Removed), (V{"the", "final", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::Isolated), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::MergedWithPrevious), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::MergedWithNext), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::Contiguous), (V{"the", "-", "final", "--", "countdown"}));
  std::vector<std::string> inv;
  for (auto& p : s.split(Pattern::character(U'-').inverted(), SplitBehavior::Removed)) inv.push_back(p.get());
  EXPECT_EQ(inv, (V{"-", "-", "-"}));
}

TEST(NormalizedStringTest, ReplaceAndPrepend) {
  NormalizedString s("a  b");
  Regex re(" {2,}");
  s.replace(Pattern::regex(re), " ");
  EXPECT_EQ(s.get(), "a b");
  EXPECT_EQ(*s.convert_normalized_range(1, 2), (Offsets{2, 3}));
  s.prepend("\xE2\x96\x81");
  EXPECT_EQ(s.get(), "\xE2\x96\x81" "a b");
  EXPECT_EQ(*s.convert_normalized_range(0, 3), (Offsets{0, 1}));
}

TEST(UnicodeTest, LossyDecoding) {
  EXPECT_EQ(unicode::from_utf8_lossy("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(unicode::from_utf8_lossy("\xe2\x82"), "\xEF\xBF\xBD");  // one maximal subpart
  EXPECT_EQ(unicode::find_invalid_utf8("h\xC3\xA9"), std::string::npos);
}

TEST(RegexTest, OnigurumaCompatibleClasses) {
  Regex ws("\\s+");
  EXPECT_EQ(ws.find_all("a\xC2\x85" "b").size(), 1u);  // NEL is whitespace for Oniguruma
  Regex sym("\\p{S}+");
  EXPECT_EQ(sym.find_all("\xF0\x9F\xAA\xBF").size(), 1u);  // U+1FABF (Unicode 15) is a symbol
}

TEST(AutoTokenizerTest, CallPadsTruncatesAndDecodes) {
  std::string dir = testing::fixtures_dir() + "/bert_wordpiece";
  AutoTokenizer tok = AutoTokenizer::from_pretrained(dir);
  tok.pad_token = "[PAD]";
  auto b = tok(std::vector<std::string>{"Hello world", "A much longer sentence than the first one, really."},
               {.padding = true, .truncation = true, .max_length = 8, .return_offsets_mapping = true});
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.ids(0).size(), b.ids(1).size());
  EXPECT_LE(b.ids(1).size(), 8u);
  EXPECT_EQ(b.ids(0).front(), 2);  // [CLS]
  EXPECT_EQ(b.attention_mask[0].back(), 0);
  EXPECT_EQ(b.offset_mapping.size(), 2u);
  auto fixed = tok("Hello", {.padding = "max_length", .truncation = true, .max_length = 6});
  EXPECT_EQ(fixed.ids(0).size(), 6u);
  EXPECT_EQ(tok.decode(tok.encode("Hello world"), true), "hello world");
}

}  // namespace
}  // namespace cppformers::tokenizers
