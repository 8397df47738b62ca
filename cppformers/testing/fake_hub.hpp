#pragma once
// A fake Hugging Face Hub for tests, served on 127.0.0.1 by the test itself and following the
// real protocol: resolve/{revision}/{file} answering X-Repo-Commit and ETag, LFS files
// redirected (302) to a CDN-like server on another port with X-Linked-Etag / X-Linked-Size,
// the api/models/{repo}/revision/{revision} listing, Range requests, 401 for a private repo
// without its token, 404 with X-Error-Code. FakeHubTest gives every test its own HF_HOME with
// HF_ENDPOINT pointing at the fake Hub. Used by io/hub_test.cpp, io/model_info_test.cpp, ...
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cppformers/io/hub.hpp"

namespace cppformers::testing {

namespace fs = std::filesystem;

inline constexpr const char* kToken = "hf_FAKEsecretTOKEN1234567890";

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
inline void write_file(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

// Deterministic bytes standing in for weights.
inline std::string weights_bytes(size_t n, unsigned seed) {
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
      if (f.lfs) by_sha_[io::sha256_hex(f.content)] = f.content;
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
      nlohmann::json j = {{"id", rest.substr(0, at)}, {"sha", commit}, {"siblings", nlohmann::json::array()}};
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
      const std::string sha = io::sha256_hex(f->second.content);
      r.status = 302;
      r.set_header("ETag", "\"" + io::sha256_hex("pointer " + sha).substr(0, 40) + "\"");
      r.set_header("X-Linked-Etag", ov != repo->etag_override.end() ? ov->second : "\"" + sha + "\"");
      r.set_header("X-Linked-Size", std::to_string(f->second.content.size()));
      r.set_header("Location", "http://127.0.0.1:" + std::to_string(cdn_port_) + "/cdn/" + sha + "?sig=abc");
      r.set_content("", "text/plain");
      return;
    }
    // A regular (git) file: its ETag is the git blob sha1 on the real Hub; any opaque name here.
    r.set_header("ETag", ov != repo->etag_override.end() ? ov->second : "\"" + io::sha256_hex(f->second.content).substr(0, 40) + "\"");
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

struct CliRun {
  int code;
  std::string out, err;
};

// Runs the built `cppformers` with `args` (a shell command line), capturing stdout and stderr apart.
inline CliRun run_cli(const std::string& args) {
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


// Every test gets its own HF_HOME (a temporary folder, removed after) and HF_ENDPOINT at the
// fake Hub; the Hub environment variables are cleared and restored after the test.
class FakeHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN",
                          "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                          "XDG_CACHE_HOME", "no_proxy", "NO_PROXY", "HF_HUB_DISABLE_PROGRESS_BARS",
                          "CPPFORMERS_PROGRESS"}) {
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
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(home_, ec);
    for (auto& [k, v] : saved_) {
      if (v) ::setenv(k.c_str(), v->c_str(), 1);
      else ::unsetenv(k.c_str());
    }
  }
  // HF_HOME/hub/models--org--name
  fs::path storage(const std::string& folder = "models--org--tiny") const { return home_ / "hub" / folder; }

  FakeHub hub_;
  fs::path home_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace cppformers::testing
