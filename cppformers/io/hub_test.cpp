// The Hub client against a fake Hub served by the test on 127.0.0.1, following the real
// protocol: resolve/{revision}/{file} answering X-Repo-Commit and ETag, LFS files redirected
// (302) to a CDN-like server on another port with X-Linked-Etag / X-Linked-Size, the
// api/models/{repo}/revision/{revision} listing, Range requests, 401 for a private repo
// without its token, 404 with X-Error-Code. Every test has its own HF_HOME.
#include "cppformers/io/hub.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cppformers/auto/auto_model.hpp"

// HubOptions{.revision = ...} leaves the other fields at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace cppformers::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kToken = "hf_FAKEsecretTOKEN1234567890";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_file(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

// Deterministic bytes standing in for weights.
std::string weights_bytes(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u ^ seed;
  for (auto& c : s) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = char(x & 0xff);
  }
  return s;
}

struct FakeFile {
  std::string content;
  bool lfs = false;
};

struct FakeRepo {
  bool is_private = false;
  std::map<std::string, std::string> branches;                       // name -> commit
  std::map<std::string, std::map<std::string, FakeFile>> commits;  // commit -> path -> file
  std::map<std::string, std::string> etag_override;                  // path -> raw ETag to send
};

struct Seen {
  std::string server, method, path, range, authorization;
};

class FakeHub {
 public:
  std::map<std::string, FakeRepo> repos;  // fill before the first request
  std::atomic<int> corrupt_next{0};       // the CDN flips a byte in this many responses
  std::atomic<int> slow_ms{0};            // the CDN sleeps this long per 16 KiB chunk

  FakeHub() {
    hub_.Get(".*", [this](const httplib::Request& q, httplib::Response& r) { on_hub(q, r); });
    cdn_.Get(".*", [this](const httplib::Request& q, httplib::Response& r) { on_cdn(q, r); });
    hub_port_ = hub_.bind_to_any_port("127.0.0.1");
    cdn_port_ = cdn_.bind_to_any_port("127.0.0.1");
    hub_thread_ = std::thread([this] { hub_.listen_after_bind(); });
    cdn_thread_ = std::thread([this] { cdn_.listen_after_bind(); });
    // Bounded wait for both accept loops (stop() before one has started would be lost).
    for (int i = 0; i < 500 && !(hub_.is_running() && cdn_.is_running()); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~FakeHub() {
    hub_.stop();
    cdn_.stop();
    hub_thread_.join();
    cdn_thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_port_); }

  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> g(mu_);
    return seen_;
  }
  size_t count() { return seen().size(); }
  size_t count(const std::string& server, const std::string& method) {
    size_t n = 0;
    for (const Seen& s : seen())
      if (s.server == server && s.method == method) ++n;
    return n;
  }
  void clear() {
    std::lock_guard<std::mutex> g(mu_);
    seen_.clear();
  }

  // Adds a repo with one commit per branch; returns nothing, commits are chosen by the test.
  void add(const std::string& id, const std::string& branch, const std::string& commit,
           std::map<std::string, FakeFile> files, bool is_private = false) {
    FakeRepo& r = repos[id];
    r.is_private = is_private;
    r.branches[branch] = commit;
    r.commits[commit] = std::move(files);
    for (auto& [path, f] : r.commits[commit])
      if (f.lfs) by_sha_[sha256_hex(f.content)] = f.content;
  }

 private:
  void record(const std::string& server, const httplib::Request& q) {
    std::lock_guard<std::mutex> g(mu_);
    seen_.push_back({server, q.method, q.path, q.get_header_value("Range"), q.get_header_value("Authorization")});
  }

  static void error(httplib::Response& r, int status, const std::string& code, const std::string& message) {
    r.status = status;
    if (!code.empty()) r.set_header("X-Error-Code", code);
    r.set_header("X-Error-Message", message);
    r.set_content("{\"error\":\"" + message + "\"}", "application/json");
  }

  // 401/404 as the Hub answers them; returns the repo or null when an error was set.
  const FakeRepo* find_repo(const httplib::Request& q, httplib::Response& r, const std::string& id) {
    const std::string auth = q.get_header_value("Authorization");
    auto it = repos.find(id);
    const bool authed = auth == std::string("Bearer ") + kToken;
    if (!auth.empty() && !authed) {  // a wrong token: the message echoes it, the client must not
      error(r, 401, "", "Invalid credentials in Authorization header " + auth.substr(std::min<size_t>(7, auth.size())));
      return nullptr;
    }
    if (it == repos.end() || (it->second.is_private && !authed)) {
      error(r, authed ? 404 : 401, "RepoNotFound", "Repository not found");
      return nullptr;
    }
    return &it->second;
  }

  const std::map<std::string, FakeFile>* find_commit(httplib::Response& r, const FakeRepo& repo,
                                                     const std::string& rev, std::string* commit) {
    *commit = repo.branches.count(rev) ? repo.branches.at(rev) : rev;
    auto it = repo.commits.find(*commit);
    if (it == repo.commits.end()) {
      error(r, 404, "RevisionNotFound", "Invalid rev id: " + rev);
      return nullptr;
    }
    return &it->second;
  }

  void on_hub(const httplib::Request& q, httplib::Response& r) {
    record("hub", q);
    const std::string& path = q.path;
    const std::string api = "/api/models/";
    if (path.rfind(api, 0) == 0) {
      std::string rest = path.substr(api.size());
      size_t at = rest.find("/revision/");
      if (at == std::string::npos) return error(r, 404, "", "not found");
      const FakeRepo* repo = find_repo(q, r, rest.substr(0, at));
      if (!repo) return;
      std::string commit;
      auto* files = find_commit(r, *repo, rest.substr(at + 10), &commit);
      if (!files) return;
      json j = {{"id", rest.substr(0, at)}, {"sha", commit}, {"siblings", json::array()}};
      for (auto& [p, f] : *files) j["siblings"].push_back({{"rfilename", p}});
      r.set_content(j.dump(), "application/json");
      return;
    }
    size_t at = path.find("/resolve/");
    if (at == std::string::npos) return error(r, 404, "", "not found");
    const FakeRepo* repo = find_repo(q, r, path.substr(1, at - 1));
    if (!repo) return;
    std::string rest = path.substr(at + 9);
    size_t slash = rest.find('/');
    std::string commit;
    auto* files = find_commit(r, *repo, rest.substr(0, slash), &commit);
    if (!files) return;
    std::string name = slash == std::string::npos ? "" : rest.substr(slash + 1);
    auto f = files->find(name);
    if (f == files->end()) return error(r, 404, "EntryNotFound", name + " does not exist on \"" + rest.substr(0, slash) + "\"");
    r.set_header("X-Repo-Commit", commit);
    auto ov = repo->etag_override.find(name);
    if (f->second.lfs) {
      const std::string sha = sha256_hex(f->second.content);
      r.status = 302;
      r.set_header("ETag", "\"" + sha256_hex("pointer " + sha).substr(0, 40) + "\"");
      r.set_header("X-Linked-Etag", ov != repo->etag_override.end() ? ov->second : "\"" + sha + "\"");
      r.set_header("X-Linked-Size", std::to_string(f->second.content.size()));
      r.set_header("Location", "http://127.0.0.1:" + std::to_string(cdn_port_) + "/cdn/" + sha + "?sig=abc");
      r.set_content("", "text/plain");
      return;
    }
    // A regular (git) file: its ETag is the git blob sha1 on the real Hub; any opaque name here.
    r.set_header("ETag", ov != repo->etag_override.end() ? ov->second : "\"" + sha256_hex(f->second.content).substr(0, 40) + "\"");
    r.set_content(f->second.content, "application/octet-stream");
  }

  void on_cdn(const httplib::Request& q, httplib::Response& r) {
    record("cdn", q);
    const std::string sha = q.path.substr(q.path.rfind('/') + 1);
    auto it = by_sha_.find(sha);
    if (it == by_sha_.end()) return error(r, 404, "", "no such object");
    std::string body = it->second;
    if (corrupt_next > 0) {
      --corrupt_next;
      body[body.size() / 2] ^= 0x5a;
    }
    const int slow = slow_ms;
    if (slow == 0) {
      r.set_content(body, "application/octet-stream");  // httplib answers Range with 206 itself
      return;
    }
    auto shared = std::make_shared<std::string>(body);
    r.set_content_provider(shared->size(), "application/octet-stream",
                           [shared, slow](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::this_thread::sleep_for(std::chrono::milliseconds(slow));
                             size_t n = std::min<size_t>(length, 16384);
                             sink.write(shared->data() + offset, n);
                             return true;
                           });
  }

  httplib::Server hub_, cdn_;
  int hub_port_ = 0, cdn_port_ = 0;
  std::thread hub_thread_, cdn_thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::map<std::string, std::string> by_sha_;
};

const std::string kCommitA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const std::string kCommitB = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN",
                          "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                          "XDG_CACHE_HOME", "no_proxy", "NO_PROXY"}) {
      const char* old = std::getenv(v);
      saved_.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
      ::unsetenv(v);
    }
    std::string tmpl = (fs::temp_directory_path() / "cf_hub_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
    ::setenv("HF_HOME", home_.c_str(), 1);
    ::setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    ::setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1", 1);
    // The fake Hub is on loopback: never through a proxy the environment may name.
    ::setenv("no_proxy", "127.0.0.1,localhost", 1);
    ::setenv("NO_PROXY", "127.0.0.1,localhost", 1);

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
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(home_, ec);
    for (auto& [k, v] : saved_) {
      if (v) ::setenv(k.c_str(), v->c_str(), 1);
      else ::unsetenv(k.c_str());
    }
    ::unsetenv("HF_HUB_DISABLE_PROGRESS_BARS");
  }
  fs::path storage(const std::string& folder = "models--org--tiny") const { return home_ / "hub" / folder; }
  std::string weights_sha() const { return sha256_hex(weights_); }

  FakeHub hub_;
  fs::path home_;
  std::string weights_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

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

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run_cli(const std::string& args) {
  const fs::path err_file = fs::temp_directory_path() / ("cf_hub_cli_err_" + std::to_string(::getpid()));
  const std::string cmd = std::string(CPPFORMERS_CLI_PATH) + " " + args + " 2>" + err_file.string();
  CliRun r{-1, "", ""};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err_file);
  fs::remove(err_file);
  return r;
}

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
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("org/private"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hf_WRONGsecretTOKEN_abcdefgh"), std::string::npos) << r.err;
  r = run_cli("download org/private");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  r = run_cli(std::string("download org/private --token ") + kToken);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find(kToken), std::string::npos);

  r = run_cli("download org/tiny ../../etc/passwd");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("refusing"), std::string::npos) << r.err;
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  r = run_cli("download org/never-fetched");
  ::unsetenv("HF_HUB_OFFLINE");
  EXPECT_EQ(r.code, 1);
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

}  // namespace
}  // namespace cppformers::io
