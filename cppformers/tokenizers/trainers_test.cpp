// Tokenizer training against the Rust `tokenizers` trainers: goldens recorded from tokenizers
// 0.22.2 (testdata/trainers/make_trainer_goldens.js), the Rust library's own unit-test
// expectations, hand-worked small cases, and (when the Node binding is installed in bench/peers)
// the Rust library loading and encoding what train_new_from_iterator writes.
#include "cppformers/tokenizers/trainers.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/test_util.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {
namespace {

namespace fs = std::filesystem;
using testing::fixtures_dir;
using testing::read_jsonl;

std::string testdata(const std::string& f) {
  return std::string(CPPFORMERS_SOURCE_DIR) + "/cppformers/tokenizers/testdata/trainers/" + f;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The fixture texts, one per line, as the golden script's corpus file; split the way the Rust
// library's train_from_files reads a file: lines that keep their "\n".
std::vector<std::string> corpus_lines() {
  std::string corpus;
  bool first = true;
  for (const auto& r : read_jsonl(fixtures_dir() + "/texts.jsonl")) {
    if (!first) corpus += "\n";
    corpus += r["text"].get<std::string>();
    first = false;
  }
  corpus += "\n";
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < corpus.size()) {
    size_t e = corpus.find('\n', pos);
    e = e == std::string::npos ? corpus.size() : e + 1;
    lines.push_back(corpus.substr(pos, e - pos));
    pos = e;
  }
  return lines;
}

const json& goldens() {
  static const json g = read_jsonl(testdata("rust_trainer_goldens.json.gz")).at(0);
  return g;
}

// A fixture tokenizer.json with its vocabulary emptied, as the golden script trains from.
json emptied_template(const std::string& fixture) {
  json j = json::parse(read_file(fixtures_dir() + "/" + fixture + "/tokenizer.json"));
  j["added_tokens"] = json::array();
  j["post_processor"] = nullptr;
  j["model"]["vocab"] = json::object();
  if (j["model"]["type"] == "BPE") j["model"]["merges"] = json::array();
  return j;
}

std::vector<std::pair<std::string, std::string>> golden_merges(const json& c) {
  std::vector<std::pair<std::string, std::string>> m;
  for (const auto& p : c["merges"]) m.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
  return m;
}

WordCounts words_of(std::initializer_list<std::pair<const char*, uint64_t>> list) {
  WordCounts wc;
  for (const auto& [w, n] : list) wc.add(w, n);
  return wc;
}

TEST(WordCounts, KeepsFirstSeenOrderAndSums) {
  WordCounts wc;
  wc.add("b");
  wc.add("a", 2);
  wc.add("b", 3);
  ASSERT_EQ(wc.size(), 2u);
  EXPECT_EQ(wc.entries()[0], (std::pair<std::string, uint64_t>{"b", 4}));
  EXPECT_EQ(wc.entries()[1], (std::pair<std::string, uint64_t>{"a", 2}));
  EXPECT_EQ(wc.count("a"), 2u);
  EXPECT_FALSE(wc.count("c"));
}

// The expectation of the Rust library's bpe/trainer.rs test_train.
TEST(BpeTrainer, RustUnitTestTrain) {
  WordCounts wc = words_of({{"roses", 1}, {"are", 2}, {"red", 1}, {"voilets", 1}, {"blue", 1}, {"BERT", 1},
                            {"is", 2}, {"big", 1}, {"and", 1}, {"so", 1}, {"GPT-2", 1}});
  BpeTrainerOptions o;
  o.min_frequency = 2;
  BpeTrainResult r = train_bpe(wc, o);
  EXPECT_EQ(r.vocab, (std::vector<std::string>{"-", "2", "B", "E", "G", "P", "R", "T", "a", "b", "d", "e", "g",
                                               "i", "l", "n", "o", "r", "s", "t", "u", "v", "re", "are", "is"}));
  EXPECT_EQ(r.merges, (std::vector<std::pair<std::string, std::string>>{{"r", "e"}, {"a", "re"}, {"i", "s"}}));
}

// The expectation of the Rust library's bpe_test_max_token_length_direct_assert.
TEST(BpeTrainer, RustUnitTestMaxTokenLength) {
  WordCounts wc = words_of({{"sin", 2}, {"Sin", 2}, {"Lon", 2}, {"Ano", 2}, {"짧은한", 2}, {"긴한글", 2},
                            {"短字符", 2}, {"长字符", 2}, {"短い文", 2}, {"長い文", 2}, {"so", 2}, {"GP", 2}});
  BpeTrainerOptions o;
  o.max_token_length = 2;
  BpeTrainResult r = train_bpe(wc, o);
  EXPECT_EQ(r.vocab, (std::vector<std::string>{"A", "G", "L", "P", "S", "i", "n", "o", "s", "い", "字", "文", "短",
                                               "符", "長", "长", "글", "긴", "은", "짧", "한", "in", "い文", "字符",
                                               "An", "GP", "Lo", "so", "긴한", "은한"}));
}

// Worked by hand: alphabet a:4 b:3 c:1 plus the initial 'z'; limit 2 keeps z and a; b and c are
// dropped from the words; the one pair left is (a, a).
TEST(BpeTrainer, SpecialTokensLimitAndInitialAlphabet) {
  WordCounts wc = words_of({{"aab", 2}, {"b", 1}, {"c", 1}});
  BpeTrainerOptions o;
  o.special_tokens = {AddedToken{0, "<s>"}};
  o.limit_alphabet = 2;
  o.initial_alphabet = {U'z'};
  BpeTrainResult r = train_bpe(wc, o);
  EXPECT_EQ(r.vocab, (std::vector<std::string>{"<s>", "a", "z", "aa"}));
  EXPECT_EQ(r.merges, (std::vector<std::pair<std::string, std::string>>{{"a", "a"}}));
}

// Worked by hand: prefix on non-first characters, suffix on the last; the merged token drops
// the right part's prefix.
TEST(BpeTrainer, PrefixAndSuffix) {
  WordCounts wc = words_of({{"ab", 3}, {"b", 1}});
  BpeTrainerOptions o;
  o.continuing_subword_prefix = "##";
  o.end_of_word_suffix = "</w>";
  BpeTrainResult r = train_bpe(wc, o);
  EXPECT_EQ(r.vocab, (std::vector<std::string>{"a", "b", "##b</w>", "b</w>", "ab</w>"}));
  EXPECT_EQ(r.merges, (std::vector<std::pair<std::string, std::string>>{{"a", "##b</w>"}}));
}

TEST(BpeTrainer, StopsAtVocabSizeAndMinFrequency) {
  WordCounts wc = words_of({{"abab", 5}, {"cd", 1}});
  BpeTrainerOptions o;
  o.vocab_size = 5;  // a b c d + one merge
  BpeTrainResult r = train_bpe(wc, o);
  EXPECT_EQ(r.vocab, (std::vector<std::string>{"a", "b", "c", "d", "ab"}));
  o.vocab_size = 100;
  o.min_frequency = 2;  // (c, d) occurs once: never merged
  r = train_bpe(wc, o);
  EXPECT_EQ(r.vocab, (std::vector<std::string>{"a", "b", "c", "d", "ab", "abab"}));
}

class RustBpeGolden : public ::testing::TestWithParam<const char*> {};

// Byte-level (and plain) BPE: the Rust trainer is deterministic, and so must we be identical:
// every vocabulary id and every merge in rank order.
TEST_P(RustBpeGolden, VocabAndMergesIdentical) {
  const json& c = goldens()["cases"][GetParam()];
  const json tj = emptied_template(c["template"].get<std::string>());
  WordCounts wc = count_training_words(tj, corpus_lines());
  BpeTrainResult r = train_bpe(wc, {});
  const auto expected_vocab = c["vocab"].get<std::vector<std::string>>();
  ASSERT_EQ(r.vocab.size(), expected_vocab.size());
  for (size_t i = 0; i < r.vocab.size(); ++i) ASSERT_EQ(r.vocab[i], expected_vocab[i]) << "id " << i;
  const auto expected_merges = golden_merges(c);
  ASSERT_EQ(r.merges.size(), expected_merges.size());
  for (size_t i = 0; i < r.merges.size(); ++i) ASSERT_EQ(r.merges[i], expected_merges[i]) << "rank " << i;
}

INSTANTIATE_TEST_SUITE_P(Goldens, RustBpeGolden, ::testing::Values("bpe_roberta", "bpe_gpt2", "bpe_llama_nopretok"));

// A smaller vocab_size stops the same run earlier: the first ids of the full run.
TEST(RustBpeGoldenPrefix, SmallerVocabIsAPrefix) {
  const json& c = goldens()["cases"]["bpe_roberta"];
  WordCounts wc = count_training_words(emptied_template("roberta_bpe"), corpus_lines());
  BpeTrainerOptions o;
  o.vocab_size = 1000;
  BpeTrainResult r = train_bpe(wc, o);
  const auto expected = c["vocab"].get<std::vector<std::string>>();
  ASSERT_EQ(r.vocab.size(), 1000u);
  EXPECT_EQ(r.vocab, std::vector<std::string>(expected.begin(), expected.begin() + 1000));
  const auto full = golden_merges(c);
  EXPECT_EQ(r.merges, decltype(full)(full.begin(), full.begin() + long(r.merges.size())));
}

// WordPiece: the Rust run's "##x" ids follow its hash map; given that order, the rest must match
// exactly. Without it, ids differ, and so does the vocabulary in part: on this corpus (small
// counts, many ties) two runs of the Rust trainer share only 87-89% of their tokens.
TEST(RustWordPieceGolden, IdenticalGivenTheRustRunsSubwordOrder) {
  const json& c = goldens()["cases"]["wordpiece_bert"];
  const auto expected = c["vocab"].get<std::vector<std::string>>();
  WordCounts wc = count_training_words(emptied_template("bert_wordpiece"), corpus_lines());
  BpeTrainerOptions o;
  for (const auto& t : expected)
    if (t.rfind("##", 0) == 0 && unicode::count_chars(t) == 3) o.decorated_alphabet_order.push_back(t);
  BpeTrainResult r = train_wordpiece(wc, o);
  EXPECT_TRUE(r.merges.empty());
  ASSERT_EQ(r.vocab.size(), expected.size());
  for (size_t i = 0; i < r.vocab.size(); ++i) ASSERT_EQ(r.vocab[i], expected[i]) << "id " << i;

  BpeTrainResult d = train_wordpiece(wc, {});
  std::set<std::string> a(d.vocab.begin(), d.vocab.end()), b(expected.begin(), expected.end());
  size_t common = 0;
  for (const auto& t : a) common += b.count(t);
  EXPECT_GT(double(common), 0.8 * double(b.size())) << common << " of " << b.size();
  // The single characters and their ## forms are the same set, ids in code-point order.
  size_t n_decorated = o.decorated_alphabet_order.size();
  size_t first = 0;
  while (d.vocab[first].rfind("##", 0) != 0 || unicode::count_chars(d.vocab[first]) != 3) ++first;
  std::vector<std::string> ours(d.vocab.begin() + long(first), d.vocab.begin() + long(first + n_decorated));
  EXPECT_TRUE(std::is_sorted(ours.begin(), ours.end()));
  std::sort(o.decorated_alphabet_order.begin(), o.decorated_alphabet_order.end());
  EXPECT_EQ(ours, o.decorated_alphabet_order);
  EXPECT_EQ(std::vector<std::string>(d.vocab.begin(), d.vocab.begin() + long(first)),
            std::vector<std::string>(expected.begin(), expected.begin() + long(first)));
}

// Training words: the normalizer and pre-tokenizer of the file, no added-token splitting.
TEST(CountTrainingWords, NormalizesAndPreTokenizes) {
  json j = emptied_template("bert_wordpiece");
  WordCounts wc = count_training_words(j, {"Hello, héllo [CLS] world!", "WORLD"});
  EXPECT_EQ(wc.count("hello"), 2u);  // lowercased, accents stripped
  EXPECT_EQ(wc.count("world"), 2u);
  EXPECT_EQ(wc.count("cls"), 1u);  // "[CLS]" is not an added token here: split as text
  EXPECT_EQ(wc.count(","), 1u);
  EXPECT_THROW(count_training_words(j, {std::string("bad \xff utf8")}), ValueError);
}

// --- train_new_from_iterator

std::vector<std::string> encode_texts() {
  std::vector<std::string> out;
  for (const auto& r : read_jsonl(fixtures_dir() + "/texts.jsonl")) out.push_back(r["text"].get<std::string>());
  return out;
}

bool node_binding_available() {
  const std::string mod = std::string(CPPFORMERS_SOURCE_DIR) + "/bench/peers/node_modules/@anush008/tokenizers";
  return fs::exists(mod) && std::system("node --version >/dev/null 2>&1") == 0;
}

// Runs encode_with_rust.js on a tokenizer.json text; nullopt (with a reason) when it cannot run.
std::optional<json> rust_encode(const std::string& tokenizer_json, const std::vector<std::string>& texts,
                                const std::string& tag) {
  const fs::path dir = fs::temp_directory_path() / ("cf_trainers_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << tokenizer_json;
  std::ofstream(dir / "texts.json") << json(texts).dump();
  const std::string cmd = "node '" + testdata("encode_with_rust.js") + "' '" + (dir / "tokenizer.json").string() +
                          "' '" + (dir / "texts.json").string() + "' > '" + (dir / "ids.json").string() + "'";
  int rc = std::system(cmd.c_str());
  std::optional<json> out;
  if (rc == 0) out = json::parse(read_file((dir / "ids.json").string()));
  fs::remove_all(dir);
  return out;
}

struct TrainNewCase {
  const char* fixture;
  size_t vocab_size;
};

class TrainNew : public ::testing::TestWithParam<TrainNewCase> {};

TEST_P(TrainNew, KeepsThePipelineAndLoadsInBothLibraries) {
  const auto& p = GetParam();
  const std::string old_text = read_file(fixtures_dir() + "/" + p.fixture + "/tokenizer.json");
  const json old_j = json::parse(old_text);
  TrainNewOptions o;
  o.vocab_size = p.vocab_size;
  const std::string new_text = train_new_from_iterator(old_text, corpus_lines(), o);
  const json nj = json::parse(new_text);

  // The same components, the old special tokens first in the vocabulary, in their order.
  for (const char* k : {"normalizer", "pre_tokenizer", "decoder", "truncation"}) EXPECT_EQ(nj[k], old_j[k]) << k;
  EXPECT_EQ(nj["model"]["type"], old_j["model"]["type"]);
  EXPECT_EQ(nj["model"]["vocab"].size(), p.vocab_size);
  size_t i = 0;
  for (const auto& t : old_j["added_tokens"]) {
    if (!t["special"].get<bool>()) continue;
    EXPECT_EQ(nj["added_tokens"][i]["content"], t["content"]);
    EXPECT_EQ(nj["added_tokens"][i]["id"], i);
    EXPECT_EQ(nj["added_tokens"][i]["lstrip"], t["lstrip"]);
    EXPECT_EQ(nj["model"]["vocab"][t["content"].get<std::string>()], i);
    ++i;
  }
  EXPECT_EQ(nj["added_tokens"].size(), i);

  Tokenizer ours = Tokenizer::from_json_string(new_text);
  const auto texts = encode_texts();
  // Byte-level: every byte is in the vocabulary, so nothing is unknown.
  if (nj["pre_tokenizer"]["type"] == "ByteLevel") {
    EXPECT_EQ(nj["model"]["vocab"].count("Ġ"), 1u);
    EXPECT_EQ(nj["model"]["vocab"].count("ÿ"), 1u);
  }
  if (!node_binding_available()) GTEST_SKIP() << "node or bench/peers/node_modules/@anush008/tokenizers missing: "
                                                 "the Rust-library half of this test did not run";
  auto rust = rust_encode(new_text, texts, p.fixture);
  ASSERT_TRUE(rust) << "the Rust library could not load or encode the trained tokenizer.json";
  ASSERT_EQ(rust->size(), texts.size());
  for (size_t k = 0; k < texts.size(); ++k) {
    Encoding e = ours.encode(texts[k]);
    std::vector<uint32_t> expected = (*rust)[k].get<std::vector<uint32_t>>();
    ASSERT_EQ(e.ids, expected) << "text " << k << ": " << texts[k];
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TrainNew,
                         ::testing::Values(TrainNewCase{"bert_wordpiece", 1500}, TrainNewCase{"roberta_bpe", 1200},
                                           TrainNewCase{"gpt2", 900}),
                         [](const auto& info) { return std::string(info.param.fixture); });

// The tokenizers shipped with the default models (trained by `cppformers train-tokenizer` in
// scripts/make_default_models): the Rust library loads them and encodes like ours.
TEST(TrainNewFromIterator, ShippedTokenizersEncodeAsTheRustLibrary) {
  const std::string assets = std::string(CPPFORMERS_SOURCE_DIR) + "/assets/";
  std::vector<std::string> texts = encode_texts();
  texts.push_back("Captain's log, stardate 3012.4: the Enterprise is\n\tin orbit. -- Kirk");
  for (const char* dir : {"fortune-bert-classifier", "fortune-gpt2"}) {
    const std::string file = assets + dir + "/tokenizer.json";
    ASSERT_TRUE(fs::exists(file)) << file;
    const std::string text = read_file(file);
    Tokenizer ours = Tokenizer::from_json_string(text);
    EXPECT_EQ(ours.vocab_size(), 4000u) << dir;
    if (!node_binding_available()) GTEST_SKIP() << "node or bench/peers/node_modules/@anush008/tokenizers missing";
    auto rust = rust_encode(text, texts, dir);
    ASSERT_TRUE(rust) << dir << ": the Rust library could not load or encode it";
    for (size_t k = 0; k < texts.size(); ++k)
      ASSERT_EQ(ours.encode(texts[k]).ids, (*rust)[k].get<std::vector<uint32_t>>()) << dir << ", text " << k;
  }
}

TEST(TrainNewFromIterator, PostProcessorIdsFollowTheNewVocabulary) {
  const std::string old_text = read_file(fixtures_dir() + "/bert_wordpiece/tokenizer.json");
  TrainNewOptions o;
  o.vocab_size = 600;
  o.new_special_tokens = {AddedToken{0, "<extra>", false, false, false, false, true}};
  o.special_tokens_map = {{"[CLS]", "<cls>"}};
  const json nj = json::parse(train_new_from_iterator(old_text, corpus_lines(), o));
  const json& vocab = nj["model"]["vocab"];
  EXPECT_EQ(vocab["<cls>"], 2);
  EXPECT_EQ(vocab["<extra>"], 5);
  EXPECT_FALSE(vocab.contains("[CLS]"));
  const json& st = nj["post_processor"]["special_tokens"];
  EXPECT_EQ(st["[CLS]"]["tokens"], json::array({"<cls>"}));
  EXPECT_EQ(st["[CLS]"]["ids"], json::array({2}));
  EXPECT_EQ(st["[SEP]"]["ids"], json::array({vocab["[SEP]"]}));
  EXPECT_EQ(nj["model"]["continuing_subword_prefix"], "##");
  EXPECT_EQ(nj["model"]["unk_token"], "[UNK]");
  EXPECT_EQ(nj["added_tokens"].back()["content"], "<extra>");

  // RobertaProcessing's cls / sep pairs.
  const std::string rob = read_file(fixtures_dir() + "/roberta_bpe/tokenizer.json");
  TrainNewOptions ro;
  ro.vocab_size = 400;
  const json rj = json::parse(train_new_from_iterator(rob, corpus_lines(), ro));
  EXPECT_EQ(rj["post_processor"]["cls"], json::array({"<s>", rj["model"]["vocab"]["<s>"]}));
  EXPECT_EQ(rj["post_processor"]["sep"], json::array({"</s>", rj["model"]["vocab"]["</s>"]}));
  EXPECT_EQ(rj["model"]["vocab"].size(), 400u);
}

TEST(TrainNewFromIterator, RefusesOtherModelsAndBadJson) {
  const std::string t5 = read_file(fixtures_dir() + "/t5_unigram/tokenizer.json");
  EXPECT_THROW(train_new_from_iterator(t5, {"a"}, {}), NotSupportedError);
  EXPECT_THROW(train_new_from_iterator("{not json", {"a"}, {}), FormatError);
}

TEST(TrainNewFromIterator, FolderCopiesConfigAndRenumbersAddedTokensDecoder) {
  const fs::path dir = fs::temp_directory_path() / ("cf_trainers_folder_" + std::to_string(::getpid()));
  const fs::path from = dir / "from", out = dir / "out";
  fs::create_directories(from);
  fs::copy_file(fixtures_dir() + "/bert_wordpiece/tokenizer.json", from / "tokenizer.json");
  std::ofstream(from / "tokenizer_config.json")
      << R"({"model_max_length": 128, "added_tokens_decoder": {"0": {"content": "[PAD]", "special": true}}})";
  TrainNewOptions o;
  o.vocab_size = 1200;  // the corpus's alphabet and its ## forms are about 940 tokens
  o.new_special_tokens = {AddedToken{0, "<new>", false, false, false, false, true}};
  train_new_tokenizer_folder(from.string(), corpus_lines(), o, out.string());
  Tokenizer t = Tokenizer::from_file((out / "tokenizer.json").string());
  EXPECT_EQ(t.vocab_size(), 1200u);
  const json cfg = json::parse(read_file((out / "tokenizer_config.json").string()));
  EXPECT_EQ(cfg["model_max_length"], 128);
  EXPECT_EQ(cfg["added_tokens_decoder"]["5"]["content"], "<new>");
  EXPECT_EQ(cfg["added_tokens_decoder"]["0"]["content"], "[PAD]");
  EXPECT_FALSE(cfg["added_tokens_decoder"]["0"].contains("id"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cppformers::tokenizers
