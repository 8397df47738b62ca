// The byte-level BPE fast path (fast_path.hpp) against the general pipeline: identical encodings
// (every field) on the fixture texts and pairs and on random texts, for the fixture tokenizers
// it applies to and for variants that exercise its options (add_prefix_space, NFC, normalized /
// lstrip / rstrip / single_word added tokens).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "cppformers/tokenizers/encoding_json.hpp"
#include "cppformers/tokenizers/pre_tokenizers.hpp"
#include "cppformers/tokenizers/regex.hpp"
#include "cppformers/tokenizers/test_util.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {
namespace {

using testing::fixtures_dir;

json load_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

// Random strings from pieces that stress the pre-tokenizer regexes, the byte-level mapping,
// NFC and the added-token matcher.
std::vector<std::string> random_texts(size_t n, uint32_t seed, const std::vector<std::string>& extra) {
  static const std::vector<std::string> atoms = {
      "a", "b", "Z", "hello", "World", " ", "  ", "\t", "\n", "\r\n", "\n\n", "'s", "'T", "'ll", "'Re", "0", "12", "345",
      "2024", ".", ",", "!?", "...", "-", "_", "(", ")", "\"", "'", "#", "$", "\xC3\xA9" /* é */,
      "e\xCC\x81" /* e + combining acute */, "\xCC\x81", "\xCC\xA3\xCC\x81" /* marks in order */,
      "\xCC\x81\xCC\xA3" /* marks out of canonical order */, "\xE2\x84\xAB" /* Angstrom sign (singleton) */,
      "\xE1\x84\x80\xE1\x85\xA1" /* Hangul L+V jamo */, "\xEA\xB0\x80" /* 가 */, "\xE1\x86\xA8" /* T jamo */,
      "\xE4\xB8\xAD\xE6\x96\x87" /* 中文 */, "\xE3\x81\x8B\xE3\x82\x99" /* か + voiced mark */,
      "\xF0\x9F\x98\x80" /* emoji */, "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "\xE2\x80\x8B" /* ZWSP */,
      "\xC2\xA0" /* NBSP */, "\xE2\x80\x83", "\xC2\x85" /* NEL */, "\xD0\xB9" /* й */, "\xD0\xB8\xCC\x86" /* и + breve */,
      "\xD7\xA9\xD6\xB8\xD7\x9C\xD7\x95\xD6\xB9\xD7\x9D" /* Hebrew with points */, "\x01", "\x7F", "\xEF\xBF\xBD",
      "\xE0\xA4\x95\xE0\xA4\xBC" /* Devanagari + nukta */, "\xEF\xAC\x81" /* fi ligature */, "\xE2\x91\xA0" /* ① */,
      "\xEF\xBC\xA1" /* fullwidth A */, "\xE1\xBA\x9B\xCC\xA3", "Ab\xC3\xA7" "d", "http://x.y/z?q=1"};
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string s;
    size_t len = rng() % 24;
    for (size_t k = 0; k < len; ++k) {
      if (!extra.empty() && rng() % 8 == 0) s += extra[rng() % extra.size()];
      else s += atoms[rng() % atoms.size()];
    }
    if (rng() % 16 == 0) s = std::string(300 + rng() % 400, "ab \n"[rng() % 4]) + s;  // long words (no cache)
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> fixture_texts() {
  std::vector<std::string> out;
  for (const auto& r : testing::read_jsonl(fixtures_dir() + "/texts.jsonl")) out.push_back(r["text"]);
  for (const auto& r : testing::read_jsonl(fixtures_dir() + "/pairs.jsonl")) {
    out.push_back(r["a"]);
    out.push_back(r["b"]);
  }
  return out;
}

// Encodes every text (alone, with and without special tokens, and as pairs) with the fast path
// and with the general pipeline; all fields must agree.
void expect_same(Tokenizer& tok, const std::vector<std::string>& texts, const std::string& what) {
  ASSERT_TRUE(tok.has_fast_path()) << what;
  size_t failures = 0;
  auto both = [&](auto&& f) {
    tok.set_fast_path_enabled(true);
    json a = f();
    tok.set_fast_path_enabled(false);
    json b = f();
    tok.set_fast_path_enabled(true);
    return std::make_pair(a, b);
  };
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string& t = texts[i];
    const std::string& u = texts[(i * 7 + 3) % texts.size()];
    for (bool special : {true, false}) {
      auto [a, b] = both([&] { return encoding_to_json(tok.encode(t, special), true); });
      auto [c, d] = both([&] { return encoding_to_json(tok.encode(t, u, special), true); });
      if ((a != b || c != d) && failures++ < 5) {
        ADD_FAILURE() << what << ": text " << json(t).dump() << " (pair with " << json(u).dump() << ", special "
                      << special << ")\n fast    " << (a != b ? a : c).dump() << "\n general " << (a != b ? b : d).dump();
      }
    }
  }
  EXPECT_EQ(failures, 0u) << what;
}

std::vector<std::string> added_contents(const json& j) {
  std::vector<std::string> out;
  for (const auto& a : j["added_tokens"]) out.push_back(a["content"]);
  if (out.size() > 40) out.resize(40);
  return out;
}

class FastPathFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(FastPathFixture, SameAsGeneralPipeline) {
  json j = load_json(fixtures_dir() + "/" + GetParam() + "/tokenizer.json");
  Tokenizer tok = Tokenizer::from_json(j);
  auto texts = fixture_texts();
  auto rnd = random_texts(1500, 1234, added_contents(j));
  texts.insert(texts.end(), rnd.begin(), rnd.end());
  expect_same(tok, texts, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FastPathFixture, ::testing::Values("gpt2", "qwen3", "deepseek_v3", "roberta_bpe"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// Variants of the fixture files that switch on what the real ones leave off.
TEST(FastPath, VariantsSameAsGeneralPipeline) {
  json gpt2 = load_json(fixtures_dir() + "/gpt2/tokenizer.json");
  json qwen = load_json(fixtures_dir() + "/qwen3/tokenizer.json");
  std::vector<std::pair<std::string, json>> variants;
  {
    json j = qwen;  // Split + ByteLevel(add_prefix_space, use_regex), NFC, tricky added tokens
    j["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true;
    j["pre_tokenizer"]["pretokenizers"][1]["use_regex"] = true;
    j["added_tokens"].push_back({{"id", 151700}, {"content", "\xC3\xA9t\xC3\xA9"}, {"single_word", false}, {"lstrip", true},
                                 {"rstrip", false}, {"normalized", true}, {"special", false}});
    j["added_tokens"].push_back({{"id", 151701}, {"content", " world"}, {"single_word", true}, {"lstrip", false},
                                 {"rstrip", true}, {"normalized", true}, {"special", false}});
    j["added_tokens"].push_back({{"id", 151702}, {"content", "<raw>"}, {"single_word", false}, {"lstrip", true},
                                 {"rstrip", true}, {"normalized", false}, {"special", true}});
    variants.emplace_back("qwen3+prefix+regex+added", j);
  }
  {
    json j = gpt2;  // ByteLevel alone with add_prefix_space, NFC as a one-element Sequence
    j["pre_tokenizer"]["add_prefix_space"] = true;
    j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}}}};
    j["added_tokens"].push_back({{"id", 50257}, {"content", "hello"}, {"single_word", true}, {"lstrip", false},
                                 {"rstrip", false}, {"normalized", true}, {"special", false}});
    variants.emplace_back("gpt2+prefix+nfc", j);
  }
  {
    json j = gpt2;  // ByteLevel without its regex, after two Splits
    j["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}{1,3}"}}}, {"behavior", "Isolated"}, {"invert", false}},
                            {{"type", "Split"}, {"pattern", {{"Regex", "\\s+|x*"}}}, {"behavior", "Isolated"}, {"invert", false}},
                            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
    variants.emplace_back("gpt2+splits+empty-matches", j);
  }
  for (auto& [name, j] : variants) {
    SCOPED_TRACE(name);
    Tokenizer tok = Tokenizer::from_json(j);
    auto texts = fixture_texts();
    std::vector<std::string> extra = added_contents(j);
    for (const char* s : {"\xC3\xA9t\xC3\xA9", " world", "<raw>", "hello", "e\xCC\x81t\xC3\xA9"}) extra.push_back(s);
    auto rnd = random_texts(1000, 99, extra);
    texts.insert(texts.end(), rnd.begin(), rnd.end());
    expect_same(tok, texts, name);
  }
}

TEST(FastPath, OnlyForByteLevelBpe) {
  for (const char* name : {"bert_wordpiece", "t5_unigram", "llama_bpe_bytefallback", "wordlevel_whitespace",
                           "xlmr_unigram_precompiled"}) {
    Tokenizer tok = Tokenizer::from_file(fixtures_dir() + "/" + name + "/tokenizer.json");
    EXPECT_FALSE(tok.has_fast_path()) << name;
  }
}

}  // namespace
}  // namespace cppformers::tokenizers
