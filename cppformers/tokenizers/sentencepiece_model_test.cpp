// SentencePiece .model files against libsentencepiece's own command-line encoder: tiny models
// trained here with spm_train (Debian package `sentencepiece`) on the licence texts every Debian
// system ships, converted as transformers converts them (T5Tokenizer, XLMRobertaTokenizer,
// LlamaTokenizer), must give spm_encode's ids for the fixture texts.
#include "cppformers/tokenizers/sentencepiece_model.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/legacy_files.hpp"
#include "cppformers/tokenizers/test_util.hpp"

namespace cppformers::tokenizers {
namespace {

namespace fs = std::filesystem;

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  std::string d;
  while (std::getline(ss, d, ':'))
    if (!d.empty() && fs::exists(fs::path(d) / name)) return (fs::path(d) / name).string();
  return "";
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void write(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Trains the models once for all tests of this file, in a temporary folder.
class SentencePieceTools : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    spm_train_ = find_program("spm_train");
    spm_encode_ = find_program("spm_encode");
    if (spm_train_.empty() || spm_encode_.empty()) return;
    std::string tmpl = (fs::temp_directory_path() / "cppformers-spm-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return;
    dir_ = tmpl;
    std::string corpus;
    for (const char* f : {"GPL-3", "Apache-2.0", "MPL-2.0", "Artistic"}) corpus += read(fs::path("/usr/share/common-licenses") / f);
    corpus += "<udef> marks a user-defined symbol <udef>\n";
    write(dir_ / "corpus.txt", corpus);
    std::string common = " --input=" + quote((dir_ / "corpus.txt").string()) +
                         " --vocab_size=700 --character_coverage=1.0 --num_threads=1 --minloglevel=2"
                         " --user_defined_symbols='<udef>' > " +
                         quote((dir_ / "train.log").string()) + " 2>&1";
    train_ok_ = std::system((quote(spm_train_) + " --model_prefix=" + quote((dir_ / "unigram").string()) +
                             " --model_type=unigram" + common).c_str()) == 0 &&
                std::system((quote(spm_train_) + " --model_prefix=" + quote((dir_ / "bpe").string()) + " --model_type=bpe" +
                             common).c_str()) == 0 &&
                std::system((quote(spm_train_) + " --model_prefix=" + quote((dir_ / "llama").string()) +
                             " --model_type=bpe --byte_fallback=true --normalization_rule_name=identity"
                             " --remove_extra_whitespaces=false --split_digits=true" + common).c_str()) == 0;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    ASSERT_FALSE(spm_train_.empty() || spm_encode_.empty())
        << "spm_train / spm_encode not found in PATH: install the Debian package 'sentencepiece' (scripts/setup does)";
    ASSERT_TRUE(fs::exists("/usr/share/common-licenses/GPL-3")) << "the training text /usr/share/common-licenses is missing";
    ASSERT_TRUE(train_ok_) << "spm_train failed:\n" << read(dir_ / "train.log");
    ASSERT_TRUE(sentencepiece_available()) << "this build has no libsentencepiece (scripts/setup installs libsentencepiece-dev)";
  }

  // spm_encode's ids for each line.
  static std::vector<std::vector<int64_t>> spm_ids(const std::string& model, const std::vector<std::string>& lines) {
    std::string in;
    for (const auto& l : lines) in += l + "\n";
    write(dir_ / "input.txt", in);
    std::string cmd = quote(spm_encode_) + " --model=" + quote((dir_ / model).string()) + " --output_format=id < " +
                      quote((dir_ / "input.txt").string()) + " > " + quote((dir_ / "output.txt").string());
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("spm_encode failed: " + cmd);
    std::vector<std::vector<int64_t>> out;
    std::stringstream ss(read(dir_ / "output.txt"));
    std::string line;
    while (std::getline(ss, line)) {
      std::vector<int64_t> ids;
      std::stringstream ls(line);
      int64_t id;
      while (ls >> id) ids.push_back(id);
      out.push_back(std::move(ids));
    }
    return out;
  }

  // A folder holding `model` under `file_name` and a tokenizer_config.json.
  static fs::path folder(const std::string& name, const std::string& model, const std::string& file_name, const json& config) {
    fs::path d = dir_ / name;
    fs::create_directories(d);
    fs::copy_file(dir_ / model, d / file_name, fs::copy_options::overwrite_existing);
    write(d / "tokenizer_config.json", config.dump());
    return d;
  }

  // The fixture texts that spm_encode reads as one line, plus a few of our own.
  static std::vector<std::string> texts() {
    std::vector<std::string> out = {"<udef> at the start, and in the middle<udef>here", "  leading and   inner   spaces  ",
                                    "Copyright (C) 2007 Free Software Foundation, Inc.", "tabs\tand\u3000ideographic spaces"};
    for (const auto& j : testing::read_jsonl(testing::fixtures_dir() + "/texts.jsonl")) {
      std::string t = j.at("text");
      if (t.find('\n') == std::string::npos && t.find('\r') == std::string::npos) out.push_back(t);
    }
    return out;
  }

  // Compares our encodings (no special tokens) with spm_encode's ids mapped by `map_id`. Texts
  // containing one of `skip` (added tokens the fast tokenizer matches and spm_encode does not)
  // are left out.
  static void expect_spm_ids(const Tokenizer& tok, const std::string& model, const std::function<int64_t(int64_t)>& map_id,
                             const std::vector<std::string>& skip, const std::string& what) {
    std::vector<std::string> lines;
    for (const auto& t : texts()) {
      bool keep = true;
      for (const auto& s : skip) keep = keep && t.find(s) == std::string::npos;
      if (keep) lines.push_back(t);
    }
    auto want = spm_ids(model, lines);
    ASSERT_EQ(want.size(), lines.size());
    size_t bad = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      std::vector<int64_t> expected;
      for (int64_t id : want[i]) expected.push_back(map_id(id));
      Encoding e = tok.encode(lines[i], false);
      std::vector<int64_t> got(e.ids.begin(), e.ids.end());
      if (got != expected && ++bad <= 8)
        ADD_FAILURE() << what << ": " << json(lines[i]).dump() << "\n got  " << json(got).dump() << " " << json(e.tokens).dump()
                      << "\n want " << json(expected).dump();
    }
    std::printf("[spm] %s: %zu/%zu texts give spm_encode's ids\n", what.c_str(), lines.size() - bad, lines.size());
    EXPECT_EQ(bad, 0u) << what;
  }

  static inline std::string spm_train_, spm_encode_;
  static inline fs::path dir_;
  static inline bool train_ok_ = false;
};

// Texts left out of the comparison with spm_encode, where transformers' fast tokenizers differ from
// SentencePiece by design:
//  * added tokens (<s>, </s>, <unk>, <pad>, <mask> and the user-defined <udef>) are matched in the
//    raw text before the model, and (legacy Metaspace / Prepend) each remaining piece gets its own
//    "▁" — spm_encode reads special tokens as text and adds one dummy prefix per line;
//  * the Rust Precompiled normalizer maps a grapheme as a whole only when it is shorter than 6
//    bytes, so "e" + three combining marks stays decomposed where SentencePiece composes "é".
const std::vector<std::string> kSkip = {"<s>", "</s>", "<unk>", "<pad>", "<mask>", "<udef>", "\u0301\u0302\u0303"};

TEST_F(SentencePieceTools, ReadsTheModel) {
  SentencePieceModel m = read_sentencepiece_model((dir_ / "unigram.model").string());
  ASSERT_EQ(m.pieces.size(), 700u);
  EXPECT_EQ(m.model_type, SentencePieceModel::Unigram);
  EXPECT_EQ(m.pieces[0].piece, "<unk>");
  EXPECT_EQ(m.pieces[0].type, SentencePieceModel::Unknown);
  EXPECT_EQ(m.pieces[1].type, SentencePieceModel::Control);
  EXPECT_EQ(m.pieces[3].piece, "<udef>");
  EXPECT_EQ(m.pieces[3].type, SentencePieceModel::UserDefined);
  EXPECT_EQ(m.normalizer_name, "nmt_nfkc");
  EXPECT_FALSE(m.precompiled_charsmap.empty());
  EXPECT_FALSE(m.byte_fallback);
  SentencePieceModel l = read_sentencepiece_model((dir_ / "llama.model").string());
  EXPECT_EQ(l.model_type, SentencePieceModel::Bpe);
  EXPECT_TRUE(l.byte_fallback);
  EXPECT_EQ(l.normalizer_name, "identity");
  EXPECT_TRUE(l.precompiled_charsmap.empty());
  EXPECT_FALSE(l.remove_extra_whitespaces);
}

// Truncated and corrupted copies of real models: a FormatError or a model, never a crash.
TEST_F(SentencePieceTools, DamagedProtosGiveErrors) {
  for (const char* name : {"unigram.model", "llama.model"}) {
    std::string bytes = read(dir_ / name);
    size_t errors = 0;
    for (size_t n = 0; n < bytes.size(); n += 1 + bytes.size() / 400) {
      try {
        parse_sentencepiece_proto(bytes.substr(0, n), name);
      } catch (const FormatError&) {
        ++errors;
      }
    }
    EXPECT_GT(errors, 0u);
    uint32_t seed = 12345;
    for (int k = 0; k < 300; ++k) {
      std::string b = bytes;
      for (int j = 0; j < 4; ++j) {
        seed = seed * 1664525u + 1013904223u;
        b[seed % b.size()] = static_cast<char>(seed >> 24);
      }
      try {
        parse_sentencepiece_proto(b, name);
      } catch (const FormatError&) {
      }
    }
  }
}

TEST_F(SentencePieceTools, UnigramAsT5Tokenizer) {
  fs::path d = folder("t5", "unigram.model", "spiece.model", {{"tokenizer_class", "T5Tokenizer"}, {"extra_ids", 0}});
  Tokenizer tok = load_legacy_tokenizer(d.string());
  expect_spm_ids(tok, "unigram.model", [](int64_t id) { return id; }, kSkip, "unigram as T5Tokenizer");
  // As transformers' T5TokenizerFast (legacy=True): a piece after an added token starts with "▁".
  EXPECT_EQ(tok.encode("at<udef>the", false).tokens, (std::vector<std::string>{"\u2581at", "<udef>", "\u2581the"}));
  // T5's post-processor appends </s>.
  Encoding e = tok.encode("free software", true);
  EXPECT_EQ(e.tokens.back(), "</s>");
  EXPECT_EQ(e.ids.back(), 2u);
}

// XLM-R shifts the SentencePiece ids by one (fairseq's <s> <pad> </s> <unk> first).
TEST_F(SentencePieceTools, UnigramAsXlmRobertaTokenizer) {
  fs::path d = folder("xlmr", "unigram.model", "sentencepiece.bpe.model", {{"tokenizer_class", "XLMRobertaTokenizer"}});
  Tokenizer tok = load_legacy_tokenizer(d.string());
  auto fairseq = [](int64_t id) -> int64_t { return id == 0 ? 3 : id == 1 ? 0 : id == 2 ? 2 : id + 1; };
  expect_spm_ids(tok, "unigram.model", fairseq, kSkip, "unigram as XLMRobertaTokenizer");
  EXPECT_EQ(tok.token_to_id("<mask>"), std::optional<uint32_t>(701));
  Encoding e = tok.encode("free", "software", true);
  EXPECT_EQ(e.tokens.front(), "<s>");
  EXPECT_EQ(std::count(e.tokens.begin(), e.tokens.end(), "</s>"), 3);
}

TEST_F(SentencePieceTools, BpeAsT5Tokenizer) {
  fs::path d = folder("t5bpe", "bpe.model", "spiece.model", {{"tokenizer_class", "T5Tokenizer"}, {"extra_ids", 0}});
  Tokenizer tok = load_legacy_tokenizer(d.string());
  expect_spm_ids(tok, "bpe.model", [](int64_t id) { return id; }, kSkip, "bpe as T5Tokenizer");
}

TEST_F(SentencePieceTools, ByteFallbackBpeAsLlamaTokenizer) {
  fs::path d = folder("llama", "llama.model", "tokenizer.model", {{"tokenizer_class", "LlamaTokenizer"}});
  Tokenizer tok = load_legacy_tokenizer(d.string());
  expect_spm_ids(tok, "llama.model", [](int64_t id) { return id; }, kSkip, "byte-fallback bpe as LlamaTokenizer");
  Encoding e = tok.encode("free software", true);
  EXPECT_EQ(e.tokens.front(), "<s>");
  EXPECT_EQ(tok.decode(tok.encode("Grüße, 世界!", false).ids, false), "Grüße, 世界!");
}

}  // namespace
}  // namespace cppformers::tokenizers
