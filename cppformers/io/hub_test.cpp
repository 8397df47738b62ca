// The Hub client against a fake Hub served by the test on 127.0.0.1 (testing/fake_hub.hpp),
// following the real protocol. Every test has its own HF_HOME.
#include "cppformers/io/hub.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/pipelines/pipeline.hpp"
#include "cppformers/testing/fake_hub.hpp"
#include "cppformers/testing/fixtures.hpp"

// HubOptions{.revision = ...} leaves the other fields at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace cppformers::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::CliRun;
using testing::FakeFile;
using testing::kToken;
using testing::read_file;
using testing::run_cli;
using testing::Seen;
using testing::weights_bytes;
using testing::write_file;

const std::string kCommitA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const std::string kCommitB = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";

class HubTest : public testing::FakeHubTest {
 protected:
  void SetUp() override {
    testing::FakeHubTest::SetUp();
    weights_ = weights_bytes(300000, 1);
    hub_.add("org/tiny", "main", kCommitA,
             {{"config.json", {R"({"model_type": "bert"})"}},
              {"tokenizer.json", {R"({"version": "1.0"})"}},
              {"model.safetensors", {weights_, true}},
              {"pytorch_model.bin", {"pickle, never fetched", true}},
              {"README.md", {"---\nlicense: mit\n---\n"}},
              {"1_Pooling/config.json", {R"({"pooling_mode_mean_tokens": true})"}}});
    hub_.add("org/tiny", "v1", kCommitB,
             {{"config.json", {R"({"model_type": "bert", "v": 1})"}},
              {"tokenizer.json", {R"({"version": "1.0"})"}},
              {"model.safetensors", {weights_, true}}});
    hub_.add("tiny-single", "main", kCommitA, {{"config.json", {"{}"}}});
    hub_.add("org/private", "main", kCommitA, {{"config.json", {R"({"private": true})"}}}, true);
  }
  std::string weights_sha() const { return sha256_hex(weights_); }

  std::string weights_;
};

using testing::error_of;

TEST_F(HubTest, FreshDownloadInPythonsLayoutThenCacheWithoutRequest) {
  const std::string snap = resolve_model("org/tiny");
  EXPECT_EQ(fs::path(snap), storage() / "snapshots" / kCommitA);
  EXPECT_EQ(read_file(storage() / "refs" / "main"), kCommitA);  // no newline, as Python writes it
  EXPECT_EQ(read_file(fs::path(snap) / "model.safetensors"), weights_);
  EXPECT_EQ(read_file(fs::path(snap) / "1_Pooling" / "config.json"), R"({"pooling_mode_mean_tokens": true})");
  EXPECT_TRUE(fs::exists(fs::path(snap) / "README.md"));
  EXPECT_FALSE(fs::exists(fs::path(snap) / "pytorch_model.bin"));  // not in the default patterns
  // Relative symlinks into blobs/, the LFS blob named by its sha256.
  EXPECT_EQ(fs::read_symlink(fs::path(snap) / "model.safetensors"), fs::path("../../blobs") / weights_sha());
  EXPECT_EQ(fs::read_symlink(fs::path(snap) / "1_Pooling" / "config.json").string().substr(0, 15), "../../../blobs/");
  EXPECT_TRUE(fs::is_regular_file(storage() / "blobs" / weights_sha()));
  for (auto& e : fs::directory_iterator(storage() / "blobs"))
    EXPECT_EQ(e.path().extension(), "") << "left over: " << e.path();
  EXPECT_EQ(hub_.count("cdn", "GET"), 1u);
  EXPECT_EQ(hub_.count("cdn", "HEAD"), 0u);

  hub_.clear();
  EXPECT_EQ(resolve_model("org/tiny"), snap);
  EXPECT_EQ(hf_hub_download("org/tiny", "config.json"), snap + "/config.json");
  EXPECT_EQ(hub_.count(), 0u) << "a cached snapshot must be served without any request";

  // An id without an organisation.
  EXPECT_EQ(fs::path(resolve_model("tiny-single", {.allow_patterns = {"config.json"}})),
            storage("models--tiny-single") / "snapshots" / kCommitA);
  // A local folder is returned as is; a missing one or a bad id is a clear error.
  EXPECT_EQ(resolve_model(home_.string()), home_.string());
  EXPECT_NE(error_of([] { resolve_model("./no/such/folder"); }).find("no such model folder"), std::string::npos);
  EXPECT_NE(error_of([] { resolve_model("not a repo id!"); }).find("neither a model folder nor a Hub model id"),
            std::string::npos);
}

TEST_F(HubTest, TokenGoesToTheHubButNeverToTheCdn) {
  hf_hub_download("org/tiny", "model.safetensors", {.token = kToken});
  hf_hub_download("org/tiny", "config.json", {.token = kToken});
  size_t hub_requests = 0;
  for (const Seen& s : hub_.seen()) {
    if (s.server == "cdn") {
      EXPECT_EQ(s.authorization, "") << "the token leaked to the CDN";
    }
    if (s.server == "hub") {
      EXPECT_EQ(s.authorization, std::string("Bearer ") + kToken);
      ++hub_requests;
    }
  }
  EXPECT_GE(hub_requests, 2u);
}

TEST_F(HubTest, RevisionPinningByBranchAndCommit) {
  const std::string main_snap = resolve_model("org/tiny");
  hub_.clear();
  const std::string v1 = resolve_model("org/tiny", {.revision = "v1"});
  EXPECT_EQ(fs::path(v1), storage() / "snapshots" / kCommitB);
  EXPECT_EQ(read_file(storage() / "refs" / "v1"), kCommitB);
  EXPECT_EQ(read_file(fs::path(v1) / "config.json"), R"({"model_type": "bert", "v": 1})");
  // The weights are the same blob: linked, not fetched again.
  EXPECT_EQ(hub_.count("cdn", "GET"), 0u);
  EXPECT_EQ(fs::read_symlink(fs::path(v1) / "model.safetensors"), fs::path("../../blobs") / weights_sha());

  // By commit: straight to snapshots/<commit>, no ref written, no request once cached.
  hub_.clear();
  EXPECT_EQ(resolve_model("org/tiny", {.revision = kCommitB}), v1);
  EXPECT_EQ(hub_.count(), 0u);
  EXPECT_EQ(hf_hub_download("org/tiny", "config.json", {.revision = kCommitA}), main_snap + "/config.json");
  EXPECT_EQ(hub_.count(), 0u);
  EXPECT_FALSE(fs::exists(storage() / "refs" / kCommitA));

  // A commit not yet cached is fetched by its hash.
  fs::remove_all(home_ / "hub");
  const std::string by_commit = hf_hub_download("org/tiny", "config.json", {.revision = kCommitB});
  EXPECT_EQ(fs::path(by_commit), storage() / "snapshots" / kCommitB / "config.json");
  EXPECT_FALSE(fs::exists(storage() / "refs" / kCommitB));
  EXPECT_NE(error_of([] { hf_hub_download("org/tiny", "config.json", {.revision = "nope"}); })
                .find("revision 'nope' not found"),
            std::string::npos);
}

TEST_F(HubTest, OfflineModeAndLocalFilesOnly) {
  const std::string snap = resolve_model("org/tiny");
  hub_.clear();
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(resolve_model("org/tiny"), snap);
  EXPECT_EQ(hf_hub_download("org/tiny", "model.safetensors"), snap + "/model.safetensors");
  std::string e = error_of([] { resolve_model("org/other"); });
  EXPECT_NE(e.find("not in the cache"), std::string::npos) << e;
  EXPECT_NE(e.find("HF_HUB_OFFLINE"), std::string::npos) << e;
  e = error_of([] { hf_hub_download("org/tiny", "pytorch_model.bin"); });
  EXPECT_NE(e.find("'pytorch_model.bin' of 'org/tiny'"), std::string::npos) << e;
  e = error_of([] { resolve_model("org/tiny", {.revision = "v1"}); });
  EXPECT_NE(e.find("revision 'v1'"), std::string::npos) << e;
  ::unsetenv("HF_HUB_OFFLINE");

  ::setenv("TRANSFORMERS_OFFLINE", "yes", 1);
  EXPECT_NE(error_of([] { resolve_model("org/other"); }).find("not in the cache"), std::string::npos);
  ::unsetenv("TRANSFORMERS_OFFLINE");

  HubOptions local{.local_files_only = true};
  EXPECT_EQ(resolve_model("org/tiny", local), snap);
  e = error_of([&] { hf_hub_download("org/tiny", "nothing.json", local); });
  EXPECT_NE(e.find("local_files_only"), std::string::npos) << e;
  // force_download never reaches the network offline either.
  local.force_download = true;
  EXPECT_EQ(hf_hub_download("org/tiny", "config.json", local), snap + "/config.json");
  EXPECT_EQ(hub_.count(), 0u);
}

TEST_F(HubTest, ReusesACacheWrittenByPython) {
  // The layout huggingface_hub writes: refs/main, blobs/<etag>, relative symlinks. This repo is
  // not on the (fake) Hub at all, so any request would fail.
  const fs::path s = storage("models--someone--py-model");
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  write_file(s / "refs" / "main", commit);
  const std::pair<const char*, std::string> files[] = {
      {"config.json", "{}"}, {"model.safetensors", weights_}, {"tokenizer_config.json", "{}"}};
  for (auto& [name, body] : files) {
    const std::string etag = sha256_hex(body);
    write_file(s / "blobs" / etag, body);
    fs::create_directories(s / "snapshots" / commit);
    fs::create_symlink(fs::path("../../blobs") / etag, s / "snapshots" / commit / name);
  }
  EXPECT_EQ(fs::path(resolve_model("someone/py-model")), s / "snapshots" / commit);
  EXPECT_EQ(hub_.count(), 0u);
}

TEST_F(HubTest, ResumesAPartialDownloadWithRange) {
  const fs::path partial = storage() / "blobs" / (weights_sha() + ".incomplete");
  write_file(partial, weights_.substr(0, 123456));
  const std::string path = hf_hub_download("org/tiny", "model.safetensors");
  EXPECT_EQ(read_file(path), weights_);
  EXPECT_FALSE(fs::exists(partial));
  std::vector<std::string> ranges;
  for (const Seen& s : hub_.seen())
    if (s.server == "cdn") ranges.push_back(s.range);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0], "bytes=123456-");
}

TEST_F(HubTest, ACorruptedPartialIsDetectedAndRefetchedWhole) {
  const fs::path partial = storage() / "blobs" / (weights_sha() + ".incomplete");
  write_file(partial, std::string(1000, 'x'));  // not the file's first bytes
  EXPECT_EQ(read_file(hf_hub_download("org/tiny", "model.safetensors")), weights_);
  std::vector<std::string> ranges;
  for (const Seen& s : hub_.seen())
    if (s.server == "cdn") ranges.push_back(s.range);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "bytes=1000-");
  EXPECT_EQ(ranges[1], "");  // after the sha256 mismatch: from scratch
}

TEST_F(HubTest, CorruptedBytesAreDetectedBySha256AndRefetched) {
  hub_.corrupt_next = 1;
  const std::string path = hf_hub_download("org/tiny", "model.safetensors");
  EXPECT_EQ(sha256_file(path), weights_sha());
  EXPECT_EQ(hub_.count("cdn", "GET"), 2u);

  // A corrupted blob in the cache (same size) found when a snapshot links to it again.
  fs::remove_all(home_ / "hub");
  hf_hub_download("org/tiny", "model.safetensors");
  const fs::path blob = storage() / "blobs" / weights_sha();
  std::string bad = weights_;
  bad[7] ^= 1;
  fs::remove(blob);
  write_file(blob, bad);
  hub_.clear();
  const std::string v1 = hf_hub_download("org/tiny", "model.safetensors", {.revision = "v1"});
  EXPECT_EQ(read_file(v1), weights_);
  EXPECT_EQ(hub_.count("cdn", "GET"), 1u);
  // And a truncated one found by its size when the Hub is asked (force: the download command).
  write_file(blob, weights_.substr(0, 1000));
  hub_.clear();
  EXPECT_EQ(read_file(hf_hub_download("org/tiny", "model.safetensors", {.prefer_cache = false})), weights_);
  EXPECT_EQ(hub_.count("cdn", "GET"), 1u);

  // Always corrupted: a clear error, no blob and no partial file left behind.
  fs::remove_all(home_ / "hub");
  hub_.corrupt_next = 100;
  std::string e = error_of([] { hf_hub_download("org/tiny", "model.safetensors"); });
  EXPECT_NE(e.find("sha256 mismatch"), std::string::npos) << e;
  EXPECT_NE(e.find("model.safetensors"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_FALSE(fs::exists(blob.string() + ".incomplete"));
  hub_.corrupt_next = 0;
}

TEST_F(HubTest, HttpErrorsBecomeClearMessagesWithoutTheToken) {
  std::string e = error_of([] { resolve_model("org/private"); });
  EXPECT_NE(e.find("'org/private'"), std::string::npos) << e;
  EXPECT_NE(e.find("HF_TOKEN"), std::string::npos) << e;
  try {
    hf_hub_download("org/private", "config.json");
    FAIL();
  } catch (const HubError& err) {
    EXPECT_EQ(err.status(), 401);
  }

  // A wrong token: the fake Hub echoes it in its message; ours must not.
  const std::string wrong = "hf_WRONGsecretTOKEN_abcdefgh";
  e = error_of([&] { hf_hub_download("org/private", "config.json", {.token = wrong}); });
  EXPECT_NE(e.find("invalid or has no access"), std::string::npos) << e;
  EXPECT_EQ(e.find(wrong), std::string::npos) << e;
  e = error_of([&] { resolve_model("org/private", {.token = wrong}); });
  EXPECT_EQ(e.find(wrong), std::string::npos) << e;

  // The right token, from the option, HF_TOKEN and the token file.
  EXPECT_TRUE(fs::exists(hf_hub_download("org/private", "config.json", {.token = kToken})));
  fs::remove_all(home_ / "hub");
  ::setenv("HF_TOKEN", kToken, 1);
  EXPECT_TRUE(fs::exists(resolve_model("org/private", {.allow_patterns = {"*.json"}}) + "/config.json"));
  EXPECT_EQ(hub_token_source(), "HF_TOKEN");
  ::unsetenv("HF_TOKEN");
  fs::remove_all(home_ / "hub");
  write_file(home_ / "token", std::string(kToken) + "\n");
  EXPECT_TRUE(fs::exists(hf_hub_download("org/private", "config.json")));
  EXPECT_EQ(hub_token_source().rfind("token file ", 0), 0u);

  // 404s: a file, a repo (with a token the Hub answers 404 instead of 401).
  e = error_of([] { hf_hub_download("org/tiny", "missing.json", {.token = kToken}); });
  EXPECT_NE(e.find("file 'missing.json' not found at revision 'main'"), std::string::npos) << e;
  EXPECT_EQ(e.find(kToken), std::string::npos) << e;
  e = error_of([] { resolve_model("org/nothing-here", {.token = kToken}); });
  EXPECT_NE(e.find("repository 'org/nothing-here' not found"), std::string::npos) << e;
  EXPECT_EQ(e.find(kToken), std::string::npos) << e;

  // The Hub unreachable and nothing cached: says so.
  e = error_of([] { resolve_model("org/tiny", {.endpoint = "http://127.0.0.1:1"}); });
  EXPECT_NE(e.find("could not be reached"), std::string::npos) << e;
}

TEST_F(HubTest, UnsafeNamesAreRefused) {
  for (const char* bad : {"../../etc/passwd", "/etc/passwd", "a/../../b", "a\\..\\b", "a//b", "./config.json", ""}) {
    EXPECT_THROW(hf_hub_download("org/tiny", bad), ValueError) << bad;
    EXPECT_THROW(check_repo_filename(bad), ValueError) << bad;
  }
  EXPECT_NO_THROW(check_repo_filename("1_Pooling/config.json"));
  EXPECT_NO_THROW(check_repo_filename("a..b.json"));
  EXPECT_THROW(hf_hub_download("../org", "config.json"), ValueError);
  EXPECT_THROW(hf_hub_download("org/tiny", "config.json", {.revision = "../../x"}), ValueError);
  // A listing naming a path outside the snapshot: nothing is fetched.
  hub_.add("org/evil", "main", kCommitA, {{"config.json", {"{}"}}, {"../../../escape.json", {"{}"}}});
  EXPECT_THROW(resolve_model("org/evil"), ValueError);
  EXPECT_FALSE(fs::exists(storage("models--org--evil") / "snapshots"));
  // An ETag that is not a plain name is never used as a file name.
  hub_.add("org/evil-etag", "main", kCommitA, {{"config.json", {"{}"}}});
  hub_.repos["org/evil-etag"].etag_override["config.json"] = "\"../../../../escape\"";
  EXPECT_THROW(hf_hub_download("org/evil-etag", "config.json"), FormatError);
  EXPECT_FALSE(fs::exists(home_ / "escape"));
  // Globs as Python's fnmatch: '*' crosses '/', a trailing '/' means the folder.
  EXPECT_TRUE(hub_glob_match("*.json", "1_Pooling/config.json"));
  EXPECT_TRUE(hub_glob_match("1_Pooling/", "1_Pooling/config.json"));
  EXPECT_FALSE(hub_glob_match("*.json", "model.safetensors"));
  EXPECT_EQ(repo_folder_name("org/name"), "models--org--name");
  EXPECT_FALSE(is_valid_repo_id("a--b"));
  EXPECT_FALSE(is_valid_repo_id("a/b/c"));
}

TEST_F(HubTest, TwoProcessesDownloadingTheSameFileEndWithOneGoodBlob) {
  hub_.slow_ms = 5;  // ~20 chunks: both processes are in flight together
  pid_t kids[2];
  for (pid_t& kid : kids) {
    kid = ::fork();
    ASSERT_GE(kid, 0);
    if (kid == 0) {
      int rc = 1;
      try {
        rc = read_file(hf_hub_download("org/tiny", "model.safetensors")) == weights_ ? 0 : 2;
      } catch (...) {
        rc = 3;
      }
      ::_exit(rc);
    }
  }
  for (pid_t kid : kids) {
    int status = 0;
    pid_t got = 0;
    for (int i = 0; i < 600 && (got = ::waitpid(kid, &status, WNOHANG)) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (got == 0) {
      ::kill(kid, SIGKILL);
      ::waitpid(kid, &status, 0);
      ADD_FAILURE() << "a downloading process hung";
      continue;
    }
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  hub_.slow_ms = 0;
  EXPECT_EQ(hub_.count("cdn", "GET"), 1u) << "the lock should let only one process fetch the blob";
  EXPECT_EQ(sha256_file((storage() / "blobs" / weights_sha()).string()), weights_sha());
  for (auto& e : fs::directory_iterator(storage() / "blobs")) EXPECT_EQ(e.path().extension(), "") << e.path();
  EXPECT_TRUE(fs::exists(home_ / "hub" / ".locks" / "models--org--tiny" / (weights_sha() + ".lock")));
}

TEST_F(HubTest, AutoClassesLoadAHubId) {
  const fs::path fixture = fs::path(CPPFORMERS_SOURCE_DIR) / ".." / "shared" / "fixtures" / "hf" / "bert_seqcls";
  ASSERT_TRUE(fs::exists(fixture / "model.safetensors")) << fixture;
  hub_.add("org/bert-seqcls", "main", kCommitA,
           {{"config.json", {read_file(fixture / "config.json")}},
            {"model.safetensors", {read_file(fixture / "model.safetensors"), true}},
            {"tokenizer_config.json", {"{}"}}});
  auto cfg = AutoConfig::from_pretrained("org/bert-seqcls");
  EXPECT_EQ(cfg->model_type, "bert");
  auto model = load_model_from_architectures("org/bert-seqcls");
  EXPECT_GT(model->num_parameters(), 0);
  hub_.clear();
  load_model_from_architectures("org/bert-seqcls");
  EXPECT_EQ(hub_.count(), 0u);
}

// ---- the `cppformers download` command, end to end ------------------------------------------

TEST_F(HubTest, DownloadCommand) {
  CliRun r = run_cli("download --include '*.json' --include 'tokenizer*' org/tiny");
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path snap = storage() / "snapshots" / kCommitA;
  EXPECT_EQ(r.out, snap.string() + "\n");
  EXPECT_TRUE(fs::exists(snap / "config.json"));
  EXPECT_TRUE(fs::exists(snap / "1_Pooling" / "config.json"));
  EXPECT_TRUE(fs::exists(snap / "tokenizer.json"));
  EXPECT_FALSE(fs::exists(snap / "model.safetensors"));

  r = run_cli("download org/tiny model.safetensors --revision v1 --cache-dir " + (home_ / "elsewhere").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, (home_ / "elsewhere" / "models--org--tiny" / "snapshots" / kCommitB / "model.safetensors").string() + "\n");

  r = run_cli(std::string("download org/private --token ") + "hf_WRONGsecretTOKEN_abcdefgh");
  EXPECT_EQ(r.code, 3);  // not found / refused
  EXPECT_NE(r.err.find("org/private"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hf_WRONGsecretTOKEN_abcdefgh"), std::string::npos) << r.err;
  r = run_cli("download org/private");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  r = run_cli(std::string("download org/private --token ") + kToken);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find(kToken), std::string::npos);

  r = run_cli("download org/tiny ../../etc/passwd");
  EXPECT_EQ(r.code, 1);  // a bad argument
  EXPECT_NE(r.err.find("refusing"), std::string::npos) << r.err;
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  r = run_cli("download org/never-fetched");
  ::unsetenv("HF_HUB_OFFLINE");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("not in the cache"), std::string::npos) << r.err;
  r = run_cli("download");
  EXPECT_EQ(r.code, 2);
}

TEST_F(HubTest, EnvCommand) {
  ::setenv("HF_TOKEN", kToken, 1);
  CliRun r = run_cli("env --json");
  ::unsetenv("HF_TOKEN");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find(kToken), std::string::npos);
  json j = json::parse(r.out);
  EXPECT_EQ(j["cppformers version"], "0.1.0");
  EXPECT_EQ(j["hub cache"], (home_ / "hub").string());
  EXPECT_EQ(j["hub endpoint"], hub_.endpoint());
  EXPECT_EQ(j["hub token"], "set (HF_TOKEN)");
  EXPECT_FALSE(j["simd target (Highway)"].get<std::string>().empty());
  EXPECT_NE(j["blas"].get<std::string>().find("oneDNN"), std::string::npos);
  EXPECT_FALSE(j["oneDNN isa"].get<std::string>().empty());
  r = run_cli("env");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("- threads: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("- hub token: none"), std::string::npos) << r.out;
  EXPECT_EQ(hub_.count(), 0u);
}

// ---- Hub ids through the library's from_pretrained options and every command ----------------

// The text-classification fixture on the fake Hub as org/clf: main, and a v1 branch whose
// config names the labels differently; the text-generation fixture as org/gen.
class HubIdsTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    clf_ = fs::path(CPPFORMERS_SOURCE_DIR) / ".." / "shared" / "fixtures" / "pipelines" / "text_classification";
    gen_ = fs::path(CPPFORMERS_SOURCE_DIR) / ".." / "shared" / "fixtures" / "pipelines" / "text_generation";
    ASSERT_TRUE(fs::exists(clf_ / "model.safetensors")) << clf_;
    ASSERT_TRUE(fs::exists(gen_ / "model.safetensors")) << gen_;
    json v1 = json::parse(read_file(clf_ / "config.json"));
    v1["id2label"] = {{"0", "neg"}, {"1", "neu"}, {"2", "pos"}};
    v1["label2id"] = {{"neg", 0}, {"neu", 1}, {"pos", 2}};
    auto files = [&](const fs::path& dir, const std::string& config) {
      std::map<std::string, FakeFile> f;
      for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                               "generation_config.json"})
        if (fs::exists(dir / name)) f[name] = {read_file(dir / name)};
      f["config.json"] = {config};
      f["model.safetensors"] = {read_file(dir / "model.safetensors"), true};
      return f;
    };
    hub_.add("org/clf", "main", kCommitA, files(clf_, read_file(clf_ / "config.json")));
    hub_.add("org/clf", "v1", kCommitB, files(clf_, v1.dump()));
    hub_.add("org/gen", "main", kCommitA, files(gen_, read_file(gen_ / "config.json")));
    hub_.add("org/private-tok", "main", kCommitA, files(clf_, read_file(clf_ / "config.json")), true);
  }
  fs::path clf_, gen_;
};

TEST_F(HubIdsTest, FromPretrainedOptionsReachTheHub) {
  FromPretrainedOptions v1;
  v1.revision = "v1";
  auto model = AutoModelForSequenceClassification::from_pretrained("org/clf", v1);
  EXPECT_EQ(model->config().id2label.at(0), "neg");
  EXPECT_TRUE(fs::exists(storage("models--org--clf") / "snapshots" / kCommitB / "model.safetensors"));
  EXPECT_EQ(AutoConfig::from_pretrained("org/clf", v1)->id2label.at(2), "pos");
  EXPECT_EQ(AutoConfig::from_pretrained("org/clf")->id2label.at(2), "positive");

  // AutoTokenizer: only the tokenizer files, then from the cache without a request.
  hub_.clear();
  AutoTokenizer tok = AutoTokenizer::from_pretrained("org/clf");
  EXPECT_EQ(tok.encode("hello"), AutoTokenizer::from_pretrained(clf_.string()).encode("hello"));
  EXPECT_EQ(hub_.count("cdn", "GET"), 0u);  // no weights
  EXPECT_TRUE(fs::exists(storage("models--org--clf") / "snapshots" / kCommitA / "tokenizer_config.json"));
  EXPECT_FALSE(fs::exists(storage("models--org--clf") / "snapshots" / kCommitA / "model.safetensors"));
  hub_.clear();
  AutoTokenizer::from_pretrained("org/clf");
  EXPECT_EQ(hub_.count(), 0u);

  // A repository without tokenizer.json: the legacy files (vocab.txt + configs) are fetched,
  // and give what the same files give from a folder.
  hub_.add("org/legacy", "main", kCommitA,
           {{"config.json", {read_file(clf_ / "config.json")}},
            {"tokenizer_config.json", {read_file(clf_ / "tokenizer_config.json")}},
            {"vocab.txt", {read_file(clf_ / "vocab.txt")}},
            {"model.safetensors", {read_file(clf_ / "model.safetensors"), true}}});
  const fs::path legacy_dir = home_ / "legacy";
  for (const char* f : {"config.json", "tokenizer_config.json", "vocab.txt"}) write_file(legacy_dir / f, read_file(clf_ / f));
  hub_.clear();
  EXPECT_EQ(AutoTokenizer::from_pretrained("org/legacy").encode("refund requested twice"),
            AutoTokenizer::from_pretrained(legacy_dir.string()).encode("refund requested twice"));
  EXPECT_EQ(hub_.count("cdn", "GET"), 0u);
  hub_.clear();
  AutoTokenizer::from_pretrained("org/legacy");
  EXPECT_EQ(hub_.count(), 0u);

  HubOptions elsewhere;
  elsewhere.cache_dir = (home_ / "elsewhere").string();
  AutoTokenizer::from_pretrained("org/clf", elsewhere);
  EXPECT_TRUE(fs::exists(home_ / "elsewhere" / "models--org--clf" / "snapshots" / kCommitA / "tokenizer.json"));
  HubOptions offline;
  offline.local_files_only = true;
  EXPECT_THROW(AutoTokenizer::from_pretrained("org/gen", offline), IOError);
  HubOptions with_token;
  with_token.token = kToken;
  EXPECT_THROW(AutoTokenizer::from_pretrained("org/private-tok"), HubError);
  AutoTokenizer::from_pretrained("org/private-tok", with_token);

  // pipeline(): the revision reaches the model and the tokenizer.
  PipelineOptions po;
  po.model_options.revision = "v1";
  auto clf = pipeline("text-classification", "org/clf", po);
  const std::string label = clf->call("great service")[0]["label"].get<std::string>();
  EXPECT_TRUE(label == "neg" || label == "neu" || label == "pos") << label;
}

TEST_F(HubIdsTest, TokenizerChatTemplateFilesAreFetched) {
  hub_.add("org/chat", "main", kCommitA,
           {{"tokenizer.json", {read_file(gen_ / "tokenizer.json")}},
            {"tokenizer_config.json", {read_file(gen_ / "tokenizer_config.json")}},
            {"chat_template.jinja", {"J{{ messages | length }}"}},
            {"additional_chat_templates/tool_use.jinja", {"T{{ tools | length }}"}},
            {"model.safetensors", {read_file(gen_ / "model.safetensors"), true}}});
  AutoTokenizer tok = AutoTokenizer::from_pretrained("org/chat");
  EXPECT_EQ(hub_.count("cdn", "GET"), 0u);  // no weights
  tokenizers::ChatTemplateOptions o;
  o.tokenize = false;
  const json chat = json::parse(R"([{"role": "user", "content": "hi"}])");
  EXPECT_EQ(tok.apply_chat_template(chat, o).text, "J1");
  o.tools = nlohmann::ordered_json::parse(R"([{"type": "function"}, {"type": "function"}])");
  EXPECT_EQ(tok.apply_chat_template(chat, o).text, "T2");
}

TEST_F(HubIdsTest, EveryCommandResolvesHubIds) {
  const fs::path in = home_ / "in.jsonl";
  write_file(in, "{\"text\": \"Hello there, general Kenobi\"}\n{\"text\": \"refund\"}\n");
  CliRun local = run_cli("tokenize --tokenizer " + clf_.string() + " < " + in.string());
  ASSERT_EQ(local.code, 0) << local.err;
  CliRun r = run_cli("tokenize --tokenizer org/clf < " + in.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, local.out);
  r = run_cli("tokenize --tokenizer org/private-tok < " + in.string());
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  r = run_cli("tokenize --tokenizer org/private-tok --token " + std::string(kToken) + " < " + in.string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, local.out);
  EXPECT_EQ(r.err.find(kToken), std::string::npos);

  const fs::path ids = home_ / "ids.jsonl";
  write_file(ids, "[2, 5, 3]\n");
  local = run_cli("decode --tokenizer " + clf_.string() + " < " + ids.string());
  r = run_cli("decode --tokenizer org/clf --revision v1 < " + ids.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, local.out);

  local = run_cli("generate --model " + gen_.string() + " 'Once upon a time' --max-new-tokens 4 --json");
  ASSERT_EQ(local.code, 0) << local.err;
  r = run_cli("generate --model org/gen 'Once upon a time' --max-new-tokens 4 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, local.out);
  hub_.clear();
  r = run_cli("generate --model org/gen 'Once upon a time' --max-new-tokens 4 --json --local-files-only");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, local.out);
  EXPECT_EQ(hub_.count(), 0u);
  r = run_cli("generate --model org/nope 'x' --local-files-only");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("not in the cache"), std::string::npos) << r.err;

  r = run_cli("run text-classification --model org/clf --revision v1 --inputs-json '\"great service\"' --kwargs '{\"top_k\": null}'");
  ASSERT_EQ(r.code, 0) << r.err;
  json got = json::parse(r.out);
  ASSERT_EQ(got.size(), 3u);
  std::set<std::string> labels;
  for (const json& x : got) labels.insert(x["label"].get<std::string>());
  EXPECT_EQ(labels, (std::set<std::string>{"neg", "neu", "pos"}));
}

}  // namespace
}  // namespace cppformers::io
