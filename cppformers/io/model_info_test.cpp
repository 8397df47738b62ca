// model_info and `cppformers info` end to end, on the fixture folders (parameter counts as the
// fixtures' READMEs / goldens record Python's num_parameters()) and on Hub ids served by the
// fake Hub (only the small files fetched; safetensors headers read with Range requests).
#include "cppformers/io/model_info.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cppformers/core/error.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/testing/fake_hub.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::read_file;
using testing::run_cli;
using testing::write_file;

const std::string kCommit = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

// A temporary folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cf_info_XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Two shards of a fixture's tensors (names alternating) with their index, as save_pretrained
// writes a sharded checkpoint.
void write_sharded(const fs::path& from, const fs::path& to) {
  StateDict all = load_file((from / "model.safetensors").string());
  StateDict a, b;
  json map = json::object();
  int i = 0;
  for (auto& [name, t] : all) {
    const bool first = i++ % 2 == 0;
    (first ? a : b)[name] = t;
    map[name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  fs::create_directories(to);
  save_file(a, (to / "model-00001-of-00002.safetensors").string());
  save_file(b, (to / "model-00002-of-00002.safetensors").string());
  write_file(to / "model.safetensors.index.json", json({{"metadata", {{"total_size", 0}}}, {"weight_map", map}}).dump());
  fs::copy_file(from / "config.json", to / "config.json");
}

TEST(ModelInfo, FixtureFolders) {
  // text_classification/README.md: "135971 parameters", 3 labels, max_position_embeddings =
  // tokenizer model_max_length = 64.
  ModelInfo tc = model_info(testing::pipeline_fixture("text_classification"));
  EXPECT_EQ(tc.architectures, std::vector<std::string>{"BertForSequenceClassification"});
  EXPECT_EQ(tc.model_type, "bert");
  ASSERT_TRUE(tc.parameters);
  EXPECT_EQ(*tc.parameters, 135971u);
  EXPECT_EQ(tc.parameters_by_dtype, (std::map<std::string, uint64_t>{{"F32", 135971}}));
  EXPECT_EQ(tc.max_position_embeddings, 64);
  EXPECT_EQ(tc.model_max_length, 64);
  EXPECT_EQ(tc.max_length, 64);
  EXPECT_EQ(tc.labels, json({{"0", "negative"}, {"1", "neutral"}, {"2", "positive"}}));
  EXPECT_TRUE(tc.license.is_null());  // its README.md has no front matter
  EXPECT_TRUE(tc.repo_id.empty());

  // text_generation/README.md: GPT-2, "812752 parameters" with the tied lm_head not stored;
  // n_positions 128.
  ModelInfo tg = model_info(testing::pipeline_fixture("text_generation"));
  EXPECT_EQ(tg.model_type, "gpt2");
  EXPECT_EQ(tg.parameters, 812752u);
  EXPECT_EQ(tg.max_position_embeddings, 128);
  EXPECT_EQ(tg.max_position_key, "n_positions");

  // bert_medium: bfloat16 weights; golden.json records num_parameters 4132611.
  const std::string medium = testing::hf_fixture("bert_medium");
  const json golden = testing::golden_json(medium);
  ModelInfo bm = model_info(medium);
  EXPECT_EQ(bm.parameters, golden["num_parameters"].get<uint64_t>());
  EXPECT_EQ(bm.parameters_by_dtype.count("BF16"), 1u);
  EXPECT_EQ(bm.torch_dtype, "bfloat16");
}

TEST(ModelInfo, ShardedCheckpointsAndModelCards) {
  TempDir tmp;
  const fs::path dir = tmp.path / "sharded";
  write_sharded(testing::pipeline_fixture("text_classification"), dir);
  write_file(dir / "README.md",
             "---\nlicense: mit\npipeline_tag: text-classification\nbase_model:\n- org/base-a\n- org/base-b\n---\n# card\n");
  ModelInfo info = model_info(dir.string());
  EXPECT_EQ(info.weight_files,
            (std::vector<std::string>{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
  EXPECT_EQ(info.parameters, 135971u);
  EXPECT_EQ(info.license, "mit");
  EXPECT_EQ(info.pipeline_tag, "text-classification");
  EXPECT_EQ(info.base_model, json({"org/base-a", "org/base-b"}));
  EXPECT_EQ(info.model_max_length, std::nullopt);  // no tokenizer_config.json
  EXPECT_EQ(info.max_length, 64);                  // so max_position_embeddings

  fs::remove(dir / "model-00002-of-00002.safetensors");
  EXPECT_THROW(model_info(dir.string()), IOError);  // the index names a shard that is not there
  EXPECT_THROW(model_info((tmp.path / "nothing-here").string()), IOError);
  fs::create_directories(tmp.path / "empty");
  EXPECT_THROW(model_info((tmp.path / "empty").string()), IOError);  // no config, no weights
}

TEST(ModelInfo, HeaderCountsValidateWhatTheyRead) {
  EXPECT_EQ(safetensors_header_counts(R"({"__metadata__": {"format": "pt"}, "a": {"dtype": "F8_E4M3", "shape": [2, 3],
                                          "data_offsets": [0, 6]}, "b": {"dtype": "I32", "shape": [], "data_offsets": [6, 10]}})",
                                      "h"),
            (std::map<std::string, uint64_t>{{"F8_E4M3", 6}, {"I32", 1}}));  // dtypes cppformers cannot compute are counted
  EXPECT_THROW(safetensors_header_counts(R"({"a": {"dtype": "F32", "shape": [-1]}})", "h"), FormatError);
  EXPECT_THROW(safetensors_header_counts(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16]}})", "h"),
               FormatError);
  EXPECT_THROW(safetensors_header_counts(R"({"a": [1, 2]})", "h"), FormatError);
  EXPECT_THROW(safetensors_header_counts("{not json", "h"), FormatError);
}

// ---- `cppformers info` ------------------------------------------------------------------------

TEST(InfoCommand, HumanJsonHelpAndErrors) {
  const std::string dir = testing::pipeline_fixture("text_classification");
  testing::CliRun r = run_cli("info " + dir + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["architecture"], "BertForSequenceClassification");
  EXPECT_EQ(j["model_type"], "bert");
  EXPECT_EQ(j["parameters"], 135971);
  EXPECT_EQ(j["dtypes"], json({"F32"}));
  EXPECT_EQ(j["max_length"], 64);
  EXPECT_EQ(j["labels"]["2"], "positive");
  EXPECT_TRUE(j["license"].is_null());
  EXPECT_TRUE(j["repo_id"].is_null());

  r = run_cli("info " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture: BertForSequenceClassification\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters:   135,971 (136.0K)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max length:   64 (model_max_length 64; max_position_embeddings 64)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("labels:       0: negative, 1: neutral, 2: positive\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("license:      -\n"), std::string::npos) << r.out;

  r = run_cli("info --help");
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--json", "--revision", "--token", "--cache-dir", "--local-files-only"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;

  // Exit codes: 3 not found, 2 usage, 4 a malformed file.
  r = run_cli("info /no/such/model-folder");
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err, "cppformers: error: /no/such/model-folder: no such model folder\n");
  EXPECT_EQ(r.out, "");
  r = run_cli("info");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("model is required"), std::string::npos) << r.err;
  TempDir tmp;
  write_file(tmp.path / "config.json", "{\"model_type\": ");
  r = run_cli("info " + tmp.path.string());
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find((tmp.path / "config.json").string()), std::string::npos) << r.err;
}

class InfoHubTest : public testing::FakeHubTest {};

TEST_F(InfoHubTest, AHubIdFetchesTheSmallFilesAndReadsHeadersWithRanges) {
  const fs::path fixture = testing::pipeline_fixture("text_classification");
  TempDir tmp;
  write_sharded(fixture, tmp.path);
  const std::string card = "---\nlicense: apache-2.0\npipeline_tag: text-classification\nbase_model: org/base\n---\n";
  hub_.add("org/single", "main", kCommit,
           {{"config.json", {read_file(fixture / "config.json")}},
            {"tokenizer_config.json", {read_file(fixture / "tokenizer_config.json")}},
            {"tokenizer.json", {read_file(fixture / "tokenizer.json")}},
            {"README.md", {card}},
            {"model.safetensors", {read_file(fixture / "model.safetensors"), true}}});
  hub_.add("org/sharded", "main", kCommit,
           {{"config.json", {read_file(fixture / "config.json")}},
            {"model.safetensors.index.json", {read_file(tmp.path / "model.safetensors.index.json")}},
            {"model-00001-of-00002.safetensors", {read_file(tmp.path / "model-00001-of-00002.safetensors"), true}},
            {"model-00002-of-00002.safetensors", {read_file(tmp.path / "model-00002-of-00002.safetensors"), true}}});

  testing::CliRun r = run_cli("info org/single --json");
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["parameters"], 135971);
  EXPECT_EQ(j["repo_id"], "org/single");
  EXPECT_EQ(j["commit"], kCommit);
  EXPECT_EQ(j["license"], "apache-2.0");
  EXPECT_EQ(j["pipeline_tag"], "text-classification");
  EXPECT_EQ(j["base_model"], "org/base");
  EXPECT_EQ(j["max_length"], 64);
  const fs::path snap = storage("models--org--single") / "snapshots" / kCommit;
  EXPECT_TRUE(fs::exists(snap / "config.json"));
  EXPECT_TRUE(fs::exists(snap / "README.md"));
  EXPECT_FALSE(fs::exists(snap / "model.safetensors"));  // the weights were not downloaded
  EXPECT_FALSE(fs::exists(snap / "tokenizer.json"));
  size_t cdn_gets = 0;
  for (const testing::Seen& s : hub_.seen())
    if (s.server == "cdn") {
      ++cdn_gets;
      EXPECT_EQ(s.range.rfind("bytes=0-", 0), 0u) << s.range;  // only the header's bytes
    }
  EXPECT_EQ(cdn_gets, 1u);

  r = run_cli("info org/sharded --json");
  ASSERT_EQ(r.code, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["parameters"], 135971);
  EXPECT_EQ(j["weight_files"].size(), 2u);
  EXPECT_TRUE(j["license"].is_null());

  // Offline: what the cache has; the weights' headers were never cached, so no count.
  hub_.clear();
  r = run_cli("info org/single --json --local-files-only");
  ASSERT_EQ(r.code, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["architecture"], "BertForSequenceClassification");
  EXPECT_TRUE(j["parameters"].is_null());
  EXPECT_EQ(hub_.count(), 0u);

  // Not on the Hub: exit 3 and the Hub's answer in words.
  r = run_cli("info org/missing");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("'org/missing'"), std::string::npos) << r.err;
  r = run_cli("info org/single --revision no-such-branch");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("no-such-branch"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cppformers::io
