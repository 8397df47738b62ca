// Parity with the Rust `tokenizers` 0.22.2 goldens in ../shared/fixtures/tokenizers: every
// text, pair and batch case of every tokenizer folder, field for field.
#include <gtest/gtest.h>

#include <filesystem>

#include "cppformers/tokenizers/encoding_json.hpp"
#include "cppformers/tokenizers/test_util.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"

namespace cppformers::tokenizers {
namespace {

using testing::fixtures_dir;
using testing::read_jsonl;

const std::vector<std::string> kFolders = {"qwen3", "deepseek_v3", "gpt2", "bert_wordpiece", "roberta_bpe", "t5_unigram",
                          "llama_bpe_bytefallback", "wordlevel_whitespace", "xlmr_unigram_precompiled"};

// Compares an encoding with its golden; returns "" or a description of the first difference.
std::string diff_json(const json& got, const json& want) {
  for (const char* f : {"ids", "tokens", "offsets", "type_ids", "attention_mask", "special_tokens_mask", "word_ids",
                        "sequence_ids"}) {
    if (!want.contains(f)) continue;
    if (!got.contains(f)) return std::string(f) + " missing";
    if (got[f] != want[f]) return std::string(f) + ": got " + got[f].dump() + " want " + want[f].dump();
  }
  if (want.contains("overflowing")) {
    if (!got.contains("overflowing")) return "overflowing missing";
    if (got["overflowing"].size() != want["overflowing"].size())
      return "overflowing: got " + std::to_string(got["overflowing"].size()) + " encodings, want " +
             std::to_string(want["overflowing"].size());
    for (size_t i = 0; i < want["overflowing"].size(); ++i) {
      std::string d = diff_json(got["overflowing"][i], want["overflowing"][i]);
      if (!d.empty()) return "overflowing[" + std::to_string(i) + "]." + d;
    }
  }
  return "";
}

std::string diff_encoding(const Encoding& e, const json& want, bool with_overflowing) {
  return diff_json(encoding_to_json(e, with_overflowing), want);
}

class Parity : public ::testing::TestWithParam<std::string> {
 protected:
  std::string dir() const { return fixtures_dir() + "/" + GetParam(); }
  Tokenizer load() const {
    std::string path = dir() + "/tokenizer.json";
    if (!std::filesystem::exists(path)) ADD_FAILURE() << "missing fixture " << path;
    return Tokenizer::from_file(path);
  }
};

void report(const std::string& what, size_t total, const std::vector<std::string>& failures) {
  std::printf("[parity] %s: %zu/%zu match\n", what.c_str(), total - failures.size(), total);
  for (size_t i = 0; i < failures.size() && i < 8; ++i) ADD_FAILURE() << what << ": " << failures[i];
  EXPECT_TRUE(failures.empty()) << what << ": " << failures.size() << " of " << total << " differ";
}

TEST_P(Parity, Single) {
  Tokenizer tok = load();
  auto gold = read_jsonl(dir() + "/golden.jsonl.gz");
  ASSERT_EQ(gold.size(), 405u);
  std::vector<std::string> failures;
  for (const auto& g : gold) {
    std::string text = g["text"];
    std::string id = g["id"];
    std::string d;
    try {
      auto norm = tok.normalize_str(text);
      json got_norm = norm ? json(*norm) : json(nullptr);
      if (got_norm != g["normalized"]) d += " normalized: got " + got_norm.dump() + " want " + g["normalized"].dump();
      auto pre = tok.pre_tokenize_str(norm ? *norm : text);
      json got_pre = nullptr;
      if (pre) {
        got_pre = json::array();
        for (auto& [piece, off] : *pre) got_pre.push_back({piece, {off.first, off.second}});
      }
      if (got_pre != g["pre_tokenized"]) d += " pre_tokenized: got " + got_pre.dump() + " want " + g["pre_tokenized"].dump();
      Encoding e = tok.encode(text, true);
      std::string x = diff_encoding(e, g["encoding"], false);
      if (!x.empty()) d += " encoding." + x;
      Encoding n = tok.encode(text, false);
      x = diff_encoding(n, g["encoding_no_special"], false);
      if (!x.empty()) d += " encoding_no_special." + x;
      for (auto [key, ids] : {std::pair<const char*, const Encoding*>{"decode", &e}, {"decode_no_special", &n}}) {
        std::string skip = tok.decode(ids->ids, true), keep = tok.decode(ids->ids, false);
        if (skip != g[key]["skip_special_tokens"]) d += std::string(" ") + key + ".skip: got " + json(skip).dump() + " want " + g[key]["skip_special_tokens"].dump();
        if (keep != g[key]["keep_special_tokens"]) d += std::string(" ") + key + ".keep: got " + json(keep).dump() + " want " + g[key]["keep_special_tokens"].dump();
      }
    } catch (const std::exception& ex) {
      d += std::string(" threw ") + ex.what();
    }
    if (!d.empty()) failures.push_back(id + " " + json(text).dump() + ":" + d);
  }
  report(GetParam() + " single", gold.size(), failures);
}

TEST_P(Parity, Pairs) {
  Tokenizer tok = load();
  auto gold = read_jsonl(dir() + "/golden_pairs.jsonl.gz");
  ASSERT_EQ(gold.size(), 50u);
  std::vector<std::string> failures;
  for (const auto& g : gold) {
    std::string a = g["a"], b = g["b"], d;
    try {
      Encoding e = tok.encode(a, b, true);
      std::string x = diff_encoding(e, g["encoding"], false);
      if (!x.empty()) d += " encoding." + x;
      Encoding n = tok.encode(a, b, false);
      x = diff_encoding(n, g["encoding_no_special"], false);
      if (!x.empty()) d += " encoding_no_special." + x;
      std::string skip = tok.decode(e.ids, true), keep = tok.decode(e.ids, false);
      if (skip != g["decode"]["skip_special_tokens"]) d += " decode.skip: got " + json(skip).dump();
      if (keep != g["decode"]["keep_special_tokens"]) d += " decode.keep: got " + json(keep).dump();
    } catch (const std::exception& ex) {
      d += std::string(" threw ") + ex.what();
    }
    if (!d.empty()) failures.push_back(g["id"].get<std::string>() + ":" + d);
  }
  report(GetParam() + " pairs", gold.size(), failures);
}

TEST_P(Parity, Batches) {
  Tokenizer tok = load();
  auto gold = read_jsonl(dir() + "/golden_batches.jsonl.gz");
  ASSERT_EQ(gold.size(), 57u);
  std::vector<std::string> failures;
  for (const auto& g : gold) {
    std::string d;
    bool want_error = g["encodings"].is_object() && g["encodings"].contains("error");
    try {
      const json& s = g["tokenizer_json_settings"];
      tok.set_truncation(s["truncation"].is_null() ? std::nullopt : std::optional(parse_truncation(s["truncation"], "truncation")));
      tok.set_padding(s["padding"].is_null() ? std::nullopt : std::optional(parse_padding(s["padding"], "padding")));
      std::vector<Encoding> encs;
      if (g["kind"] == "pair") {
        encs.push_back(tok.encode(g["inputs"][0].get<std::string>(), g["inputs"][1].get<std::string>(), true));
      } else {
        std::vector<std::string> in;
        for (auto& x : g["inputs"]) in.push_back(x);
        encs = tok.encode_batch(in, true);
      }
      if (want_error) d += " expected the error " + g["encodings"]["error"].dump();
      else if (encs.size() != g["encodings"].size()) d += " count differs";
      for (size_t i = 0; i < encs.size() && i < g["encodings"].size(); ++i) {
        std::string x = diff_encoding(encs[i], g["encodings"][i], true);
        if (!x.empty()) d += " [" + std::to_string(i) + "]." + x;
      }
    } catch (const std::exception& ex) {
      if (!want_error || g["encodings"]["error"] != ex.what())
        d += std::string(" threw ") + ex.what();
    }
    if (!d.empty()) failures.push_back(g["id"].get<std::string>() + ":" + d);
  }
  report(GetParam() + " batches", gold.size(), failures);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Parity, ::testing::ValuesIn(kFolders),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(ParityFixtures, Present) {
  ASSERT_TRUE(std::filesystem::exists(fixtures_dir() + "/texts.jsonl")) << "tokenizer fixtures missing at " << fixtures_dir();
}

}  // namespace
}  // namespace cppformers::tokenizers
