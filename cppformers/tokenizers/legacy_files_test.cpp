// Folders without tokenizer.json: the tokenizer built from the legacy files (vocab.txt,
// vocab.json + merges.txt, spiece.model) of a fixture folder, copied without its tokenizer.json,
// must encode every fixture text and pair exactly as that folder's tokenizer.json does (itself
// checked against the Rust library by parity_test.cpp), or as the Rust goldens where the files are
// made from a golden's tokenizer.json. Plus the errors for missing or malformed files.
#include "cppformers/tokenizers/legacy_files.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"
#include "cppformers/tokenizers/encoding_json.hpp"
#include "cppformers/tokenizers/sentencepiece_model.hpp"
#include "cppformers/tokenizers/test_util.hpp"

namespace cppformers::tokenizers {
namespace {

namespace fs = std::filesystem;

std::string pipelines_dir() { return std::string(CPPFORMERS_SOURCE_DIR) + "/../shared/fixtures/pipelines"; }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cppformers-legacy-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

void write(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

// Copies the named files of `from` that exist into `to`.
void copy_files(const fs::path& from, const fs::path& to, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (fs::exists(from / n)) fs::copy_file(from / n, to / n, fs::copy_options::overwrite_existing);
}

const std::vector<std::string> kConfigFiles = {"tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                                               "config.json"};

std::vector<std::string> texts() {
  std::vector<std::string> out;
  for (const auto& j : testing::read_jsonl(testing::fixtures_dir() + "/texts.jsonl")) out.push_back(j.at("text"));
  return out;
}

std::vector<std::pair<std::string, std::string>> pairs() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& j : testing::read_jsonl(testing::fixtures_dir() + "/pairs.jsonl")) out.push_back({j.at("a"), j.at("b")});
  return out;
}

// Everything an encoding reports, and the two decodes of its ids.
json describe(const Tokenizer& t, const Encoding& e) {
  json j = encoding_to_json(e, false);
  j["decode_skip"] = t.decode(e.ids, true);
  j["decode_keep"] = t.decode(e.ids, false);
  return j;
}

// Encodes every text and pair with both tokenizers, with and without special tokens.
void expect_same_encodings(const Tokenizer& got, const Tokenizer& want, const std::string& what) {
  size_t total = 0, bad = 0;
  auto check = [&](const std::string& label, const std::function<Encoding(const Tokenizer&)>& enc) {
    ++total;
    json g, w;
    try {
      g = describe(got, enc(got));
    } catch (const std::exception& e) {
      g = std::string("threw: ") + e.what();
    }
    try {
      w = describe(want, enc(want));
    } catch (const std::exception& e) {
      w = std::string("threw: ") + e.what();
    }
    if (g != w && ++bad <= 5) ADD_FAILURE() << what << ": " << label << "\n got  " << g.dump() << "\n want " << w.dump();
  };
  for (const auto& text : texts())
    for (bool special : {true, false})
      check(json(text).dump() + (special ? "" : " (no special tokens)"), [&](const Tokenizer& t) { return t.encode(text, special); });
  for (const auto& [a, b] : pairs())
    for (bool special : {true, false})
      check(json(a).dump() + " + " + json(b).dump() + (special ? "" : " (no special tokens)"),
            [&](const Tokenizer& t) { return t.encode(a, b, special); });
  std::printf("[legacy] %s: %zu/%zu encodings identical\n", what.c_str(), total - bad, total);
  EXPECT_EQ(bad, 0u) << what;
}

// The Rust goldens of a tokenizers fixture folder (golden.jsonl.gz, golden_pairs.jsonl.gz).
void expect_rust_goldens(const Tokenizer& tok, const std::string& folder) {
  std::string dir = testing::fixtures_dir() + "/" + folder;
  size_t total = 0, bad = 0;
  auto check = [&](const std::string& label, const Encoding& e, const json& want) {
    ++total;
    json got = encoding_to_json(e, false);
    for (const char* f : {"ids", "tokens", "offsets", "type_ids", "attention_mask", "special_tokens_mask", "word_ids"}) {
      if (want.contains(f) && got[f] != want[f]) {
        if (++bad <= 5) ADD_FAILURE() << folder << ": " << label << ": " << f << " got " << got[f].dump() << " want " << want[f].dump();
        return;
      }
    }
  };
  for (const auto& g : testing::read_jsonl(dir + "/golden.jsonl.gz")) {
    std::string text = g.at("text");
    check(json(text).dump(), tok.encode(text, true), g.at("encoding"));
    check(json(text).dump() + " (no special tokens)", tok.encode(text, false), g.at("encoding_no_special"));
  }
  for (const auto& g : testing::read_jsonl(dir + "/golden_pairs.jsonl.gz")) {
    std::string a = g.at("a"), b = g.at("b");
    check(json(a).dump() + " + " + json(b).dump(), tok.encode(a, b, true), g.at("encoding"));
  }
  std::printf("[legacy] %s goldens: %zu/%zu identical\n", folder.c_str(), total - bad, total);
  EXPECT_EQ(bad, 0u) << folder;
}

// vocab.json + merges.txt (with the "#version: 0.2" header transformers writes) of a BPE
// tokenizer.json, and its added tokens as tokenizer_config.json's added_tokens_decoder.
json write_bpe_files(const fs::path& tokenizer_json, const fs::path& to) {
  json j = json::parse(std::ifstream(tokenizer_json));
  write(to / "vocab.json", j["model"]["vocab"].dump());
  std::string merges = "#version: 0.2\n";
  for (const auto& m : j["model"]["merges"])
    merges += (m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>()) + "\n";
  write(to / "merges.txt", merges);
  json decoder = json::object();
  for (const auto& a : j["added_tokens"]) {
    json t = a;
    t.erase("id");
    decoder[std::to_string(a["id"].get<uint64_t>())] = t;
  }
  return decoder;
}

// ------------------------------------------------------------------------------------------------

class LegacyPipelineFolder : public ::testing::TestWithParam<std::pair<std::string, std::vector<std::string>>> {};

TEST_P(LegacyPipelineFolder, EncodesLikeItsTokenizerJson) {
  const auto& [name, files] = GetParam();
  fs::path src = fs::path(pipelines_dir()) / name;
  ASSERT_TRUE(fs::exists(src / "tokenizer.json")) << "missing fixture " << src;
  for (const auto& f : files) ASSERT_TRUE(fs::exists(src / f)) << "missing fixture " << (src / f);
  TempDir tmp;
  copy_files(src, tmp.path(), files);
  copy_files(src, tmp.path(), kConfigFiles);
  ASSERT_FALSE(fs::exists(tmp.path() / "tokenizer.json"));
  Tokenizer legacy = load_legacy_tokenizer(tmp.str());
  Tokenizer reference = Tokenizer::from_file((src / "tokenizer.json").string());
  expect_same_encodings(legacy, reference, name);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, LegacyPipelineFolder,
    ::testing::Values(std::make_pair(std::string("fill_mask"), std::vector<std::string>{"vocab.txt"}),
                      std::make_pair(std::string("text_classification"), std::vector<std::string>{"vocab.txt"}),
                      std::make_pair(std::string("token_classification"), std::vector<std::string>{"vocab.txt"}),
                      std::make_pair(std::string("question_answering"), std::vector<std::string>{"vocab.txt"}),
                      std::make_pair(std::string("zero_shot_classification"), std::vector<std::string>{"vocab.txt"}),
                      std::make_pair(std::string("feature_extraction"), std::vector<std::string>{"vocab.txt"}),
                      std::make_pair(std::string("text_generation"), std::vector<std::string>{"vocab.json", "merges.txt"}),
                      std::make_pair(std::string("zero_shot_image_classification"),
                                     std::vector<std::string>{"vocab.json", "merges.txt"}),
                      std::make_pair(std::string("summarization_translation"), std::vector<std::string>{"spiece.model"})),
    [](const auto& info) { return info.param.first; });

// The BERT and GPT-2 folders carry the tokenizers fixtures' files: the Rust goldens apply directly.
TEST(LegacyFiles, BertVocabTxtMatchesRustGoldens) {
  TempDir tmp;
  copy_files(fs::path(pipelines_dir()) / "fill_mask", tmp.path(), {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json"});
  expect_rust_goldens(load_legacy_tokenizer(tmp.str()), "bert_wordpiece");
}

TEST(LegacyFiles, Gpt2VocabJsonMergesMatchRustGoldens) {
  TempDir tmp;
  copy_files(fs::path(pipelines_dir()) / "text_generation", tmp.path(),
             {"vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"});
  expect_rust_goldens(load_legacy_tokenizer(tmp.str()), "gpt2");
}

TEST(LegacyFiles, RobertaVocabJsonMergesMatchRustGoldens) {
  TempDir tmp;
  json decoder = write_bpe_files(testing::fixtures_dir() + "/roberta_bpe/tokenizer.json", tmp.path());
  write(tmp.path() / "tokenizer_config.json",
        json{{"tokenizer_class", "RobertaTokenizer"}, {"add_prefix_space", true}, {"trim_offsets", true},
             {"added_tokens_decoder", decoder}, {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"sep_token", "</s>"},
             {"cls_token", "<s>"}, {"unk_token", "<unk>"}, {"pad_token", "<pad>"}, {"mask_token", "<mask>"}}
            .dump());
  LegacyTokenizer l = convert_legacy_tokenizer(tmp.str());
  EXPECT_EQ(l.tokenizer_class, "RobertaTokenizer");
  EXPECT_EQ(l.tokenizer_json["post_processor"]["type"], "RobertaProcessing");
  expect_rust_goldens(Tokenizer::from_json(l.tokenizer_json), "roberta_bpe");
}

// Qwen3's real tokenizer_config.json (Qwen2Tokenizer) with its vocabulary and merges.
TEST(LegacyFiles, Qwen2VocabJsonMergesMatchRustGoldens) {
  TempDir tmp;
  std::string dir = testing::fixtures_dir() + "/qwen3";
  write_bpe_files(dir + "/tokenizer.json", tmp.path());
  copy_files(dir, tmp.path(), {"tokenizer_config.json"});
  expect_rust_goldens(load_legacy_tokenizer(tmp.str()), "qwen3");
}

// No tokenizer_config.json: the class follows config.json's model_type.
TEST(LegacyFiles, ClassFromModelType) {
  TempDir tmp;
  json decoder = write_bpe_files(testing::fixtures_dir() + "/gpt2/tokenizer.json", tmp.path());
  write(tmp.path() / "config.json", R"({"model_type": "gpt2"})");
  LegacyTokenizer l = convert_legacy_tokenizer(tmp.str());
  EXPECT_EQ(l.tokenizer_class, "GPT2Tokenizer");
  EXPECT_EQ(l.special_tokens.at("eos_token"), "<|endoftext|>");
  // A plain special token (no added_tokens_decoder) is added as special and unnormalized.
  ASSERT_EQ(l.tokenizer_json["added_tokens"].size(), 1u);
  EXPECT_EQ(l.tokenizer_json["added_tokens"][0]["id"], 50256);
  EXPECT_EQ(l.tokenizer_json["added_tokens"][0]["normalized"], false);
  Tokenizer t = Tokenizer::from_json(l.tokenizer_json);
  EXPECT_EQ(t.encode("Hello world<|endoftext|>", true).ids, (std::vector<uint32_t>{15496, 995, 50256}));
}

// A bare vocab.txt is a BERT vocabulary with BertTokenizer's defaults.
TEST(LegacyFiles, BareVocabTxtIsBert) {
  TempDir tmp;
  write(tmp.path() / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n!\n");
  Tokenizer t = load_legacy_tokenizer(tmp.str());
  Encoding e = t.encode("Hello WORLDS! [MASK] x", true);
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "hello", "world", "##s", "!", "[MASK]", "[UNK]", "[SEP]"}));
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{2, 5, 6, 7, 8, 4, 1, 3}));
  Encoding p = t.encode("hello", "world", true);
  EXPECT_EQ(p.type_ids, (std::vector<uint32_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(t.decode(e.ids, true), "hello worlds!");
}

// CRLF line ends read as Python's text mode reads them; tokenizer_config's do_lower_case applies.
TEST(LegacyFiles, VocabTxtCrLfAndCaseSettings) {
  TempDir tmp;
  write(tmp.path() / "vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nHello\r\nhello\r\n");
  write(tmp.path() / "tokenizer_config.json", R"({"tokenizer_class": "BertTokenizerFast", "do_lower_case": false})");
  Tokenizer t = load_legacy_tokenizer(tmp.str());
  EXPECT_EQ(t.encode("Hello hello HELLO", false).ids, (std::vector<uint32_t>{4, 5, 1}));
}

TEST(LegacyFiles, AutoTokenizerPicksLegacyFilesWithoutTokenizerJson) {
  TempDir tmp;
  fs::path src = fs::path(pipelines_dir()) / "text_classification";
  copy_files(src, tmp.path(), {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json"});
  AutoTokenizer tok = AutoTokenizer::from_pretrained(tmp.str());
  EXPECT_EQ(tok.pad_token, std::optional<std::string>("[PAD]"));
  EXPECT_EQ(tok.cls_token, std::optional<std::string>("[CLS]"));
  EXPECT_EQ(tok.model_max_length, 64u);
  AutoTokenizer ref = AutoTokenizer::from_pretrained(src.string());
  tokenizers::CallOptions pad;
  pad.padding = true;
  auto a = tok(std::vector<std::string>{"Refund request", "card charged twice"}, pad);
  auto b = ref(std::vector<std::string>{"Refund request", "card charged twice"}, pad);
  EXPECT_EQ(a.input_ids, b.input_ids);
  EXPECT_EQ(a.attention_mask, b.attention_mask);
  EXPECT_EQ(tok.decode(a.input_ids[0], true), ref.decode(b.input_ids[0], true));
}

// ------------------------------------------------------------------------------------------------
// Errors name the file (and the line or key).

std::string error_of(const std::string& dir) {
  try {
    load_legacy_tokenizer(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(LegacyFilesErrors, NoFilesAtAll) {
  TempDir tmp;
  EXPECT_FALSE(has_legacy_tokenizer_files(tmp.str()));
  try {
    AutoTokenizer::from_pretrained(tmp.str());
    ADD_FAILURE() << "expected an error";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("no tokenizer.json"), std::string::npos) << e.what();
  }
}

TEST(LegacyFilesErrors, MissingMergesTxt) {
  TempDir tmp;
  write(tmp.path() / "vocab.json", R"({"a": 0})");
  write(tmp.path() / "tokenizer_config.json", R"({"tokenizer_class": "GPT2Tokenizer"})");
  EXPECT_FALSE(has_legacy_tokenizer_files(tmp.str()));
  write(tmp.path() / "vocab.txt", "a\n");  // a vocab.txt, but the config says GPT-2
  std::string e = error_of(tmp.str());
  EXPECT_NE(e.find("merges.txt: missing"), std::string::npos) << e;
}

TEST(LegacyFilesErrors, MalformedVocabJson) {
  TempDir tmp;
  write(tmp.path() / "vocab.json", R"({"a": 0, "b": )");
  write(tmp.path() / "merges.txt", "#version: 0.2\n");
  write(tmp.path() / "config.json", R"({"model_type": "roberta"})");
  std::string e = error_of(tmp.str());
  EXPECT_NE(e.find("vocab.json: invalid JSON"), std::string::npos) << e;
  write(tmp.path() / "vocab.json", R"({"a": "zero"})");
  e = error_of(tmp.str());
  EXPECT_NE(e.find("vocab.json: \"a\": expected a non-negative integer id"), std::string::npos) << e;
}

TEST(LegacyFilesErrors, MergesNamingUnknownTokensGiveTheLine) {
  TempDir tmp;
  write(tmp.path() / "vocab.json", R"({"a": 0, "b": 1, "ab": 2, "c": 3})");
  write(tmp.path() / "tokenizer_config.json", R"({"tokenizer_class": "GPT2Tokenizer"})");
  write(tmp.path() / "merges.txt", "#version: 0.2\na b\nab x\n");
  std::string e = error_of(tmp.str());
  EXPECT_NE(e.find("merges.txt:3: token \"x\" is not in the vocabulary"), std::string::npos) << e;
  write(tmp.path() / "merges.txt", "#version: 0.2\na b\nb c\n");
  e = error_of(tmp.str());
  EXPECT_NE(e.find("merges.txt:3: the merge result \"bc\" is not in the vocabulary"), std::string::npos) << e;
  write(tmp.path() / "merges.txt", "#version: 0.2\na b c\n\n");
  e = error_of(tmp.str());
  EXPECT_NE(e.find("merges.txt:2: expected two tokens"), std::string::npos) << e;
}

TEST(LegacyFilesErrors, VocabTxtNotUtf8) {
  TempDir tmp;
  write(tmp.path() / "vocab.txt", "[UNK]\n[CLS]\n[SEP]\nok\nbad\xff\n");
  std::string e = error_of(tmp.str());
  EXPECT_NE(e.find("vocab.txt:5: not valid UTF-8"), std::string::npos) << e;
}

TEST(LegacyFilesErrors, MalformedTokenizerConfig) {
  TempDir tmp;
  write(tmp.path() / "vocab.txt", "[UNK]\n[CLS]\n[SEP]\n");
  write(tmp.path() / "tokenizer_config.json", "{not json");
  std::string e = error_of(tmp.str());
  EXPECT_NE(e.find("tokenizer_config.json: invalid JSON"), std::string::npos) << e;
  write(tmp.path() / "tokenizer_config.json", R"({"cls_token": 3})");
  e = error_of(tmp.str());
  EXPECT_NE(e.find("tokenizer_config.json: cls_token"), std::string::npos) << e;
  write(tmp.path() / "tokenizer_config.json", R"({"added_tokens_decoder": {"x": {"content": "a"}}})");
  e = error_of(tmp.str());
  EXPECT_NE(e.find("added_tokens_decoder.x: the key is not a token id"), std::string::npos) << e;
}

TEST(LegacyFilesErrors, UnsupportedClassIsNamed) {
  TempDir tmp;
  write(tmp.path() / "vocab.txt", "[UNK]\n");
  write(tmp.path() / "tokenizer_config.json", R"({"tokenizer_class": "WhisperTokenizer"})");
  std::string e = error_of(tmp.str());
  EXPECT_NE(e.find("'WhisperTokenizer'"), std::string::npos) << e;
  EXPECT_NE(e.find("tokenizer_config.json"), std::string::npos) << e;
}

TEST(LegacyFilesErrors, NotASentencePieceModel) {
  TempDir tmp;
  write(tmp.path() / "spiece.model", "this is not a protobuf");
  write(tmp.path() / "tokenizer_config.json", R"({"tokenizer_class": "T5Tokenizer"})");
  std::string e = error_of(tmp.str());
  EXPECT_NE(e.find("spiece.model"), std::string::npos) << e;
  EXPECT_TRUE(sentencepiece_available()) << "this build has no libsentencepiece (scripts/setup installs libsentencepiece-dev)";
}

TEST(LegacyFilesErrors, TruncatedSentencePieceProto) {
  std::string bytes = "\x0a\x10\x0a\x03" "abc";  // a piece whose length runs past the end
  try {
    parse_sentencepiece_proto(bytes, "x.model");
    ADD_FAILURE() << "expected an error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("x.model: malformed SentencePiece model"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cppformers::tokenizers
