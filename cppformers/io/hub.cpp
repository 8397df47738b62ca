#include "cppformers/io/hub.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cppformers/core/progress.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers::io {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kDefaultEndpoint = "https://huggingface.co";
constexpr size_t kMaxApiBody = size_t(64) << 20;  // a revision listing is far below this
constexpr int kMaxRelativeRedirects = 10;
constexpr int kDownloadAttempts = 4;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool env_true(const char* name) {
  std::string v = env(name);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "1" || v == "on" || v == "yes" || v == "true";
}

std::string expand_user(const std::string& p) {
  if (p.empty() || p[0] != '~') return p;
  std::string home = env("HOME");
  if (home.empty() || (p.size() > 1 && p[1] != '/')) return p;
  return home + p.substr(1);
}

std::string hf_home() {
  std::string h = env("HF_HOME");
  if (!h.empty()) return expand_user(h);
  std::string xdg = env("XDG_CACHE_HOME");
  if (!xdg.empty()) return expand_user(xdg) + "/huggingface";
  return expand_user("~/.cache/huggingface");
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool all_hex(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}
bool is_commit_hash(const std::string& s) { return all_hex(s, 40); }

std::string token_file_path() {
  std::string p = env("HF_TOKEN_PATH");
  return p.empty() ? hf_home() + "/token" : expand_user(p);
}

// The token to send, or "" (never logged).
std::string resolve_token(const HubOptions& o) {
  if (!o.token.empty()) return o.token;
  std::string t = trim(env("HF_TOKEN"));
  if (!t.empty()) return t;
  t = trim(env("HUGGING_FACE_HUB_TOKEN"));
  if (!t.empty()) return t;
  std::ifstream in(token_file_path());
  if (!in) return {};
  std::string line;
  std::getline(in, line);
  return trim(line);
}

// Removes every occurrence of the token from a text that came from elsewhere (a server message).
std::string scrub(std::string text, const std::string& token) {
  if (token.size() >= 4)
    for (size_t at; (at = text.find(token)) != std::string::npos;) text.replace(at, token.size(), "***");
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return text;
}

bool offline(const HubOptions& o) { return o.local_files_only || hub_offline(); }

// Percent-encoding as Python's urllib.parse.quote with the given safe characters.
std::string quote(const std::string& s, const std::string& safe) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || safe.find(char(c)) != std::string::npos) {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void check_revision(const std::string& rev) {
  if (rev.empty()) throw ValueError("Hub revision is empty");
  if (rev[0] == '/' || rev.find('\\') != std::string::npos || rev.find("..") != std::string::npos)
    throw ValueError("Hub revision '" + rev + "' is not a branch, tag or commit name");
  for (unsigned char c : rev)
    if (c < 0x20 || c == 0x7f) throw ValueError("Hub revision contains a control character");
}

void check_repo_id(const std::string& repo_id) {
  if (!is_valid_repo_id(repo_id))
    throw ValueError("'" + repo_id + "' is not a valid Hub model id (expected 'org/name' or 'name': letters, digits, '-', '_', '.')");
}

// Server-supplied names that become file names: an etag must be a plain token.
std::string checked_etag(const std::string& raw, const std::string& where) {
  std::string e = raw;
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  bool ok = !e.empty() && e.size() <= 128 && e != "." && e != ".." &&
            std::all_of(e.begin(), e.end(), [](char c) { return std::isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.'; });
  if (!ok) throw FormatError(where + ": the Hub sent an ETag that is not a plain name; refusing to use it as a file name");
  return e;
}

// ---- libcurl -----------------------------------------------------------------------------

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw IOError("libcurl could not be initialised");
  });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// scheme://host:port of an absolute URL ("" if it cannot be parsed).
std::string origin(const std::string& url) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
  std::string out;
  for (CURLUPart part : {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT}) {
    char* p = nullptr;
    if (curl_url_get(u.get(), part, &p, CURLU_DEFAULT_PORT) == CURLUE_OK && p) {
      out += lower(p);
      curl_free(p);
    }
    out += '|';
  }
  return out;
}

// `location` (absolute or relative) resolved against `base`.
std::string join_url(const std::string& base, const std::string& location) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  char* p = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(u.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_URL, &p, 0) != CURLUE_OK)
    throw FormatError("the Hub sent a redirect to an unusable location");
  std::string out(p);
  curl_free(p);
  return out;
}

bool is_absolute_url(const std::string& s) {
  size_t colon = s.find("://");
  return s.rfind("//", 0) == 0 ||
         (colon != std::string::npos && colon > 0 &&
          std::all_of(s.begin(), s.begin() + colon, [](char c) { return std::isalpha((unsigned char)c); }));
}

struct Response {
  long status = 0;
  CURLcode error = CURLE_OK;
  std::string error_text;                    // curl's description when error != CURLE_OK
  std::map<std::string, std::string> headers;  // of the last response, names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::string token;      // sent as a bearer token only to `auth_origin`
  std::string auth_origin;
  bool follow = false;    // follow redirects (the body's, never the HEAD's)
  long connect_timeout_s = 10;
  long total_timeout_s = 0;      // 0: none
  long low_speed_time_s = 0;     // abort when under 1 byte/s for this long (0: off)
  std::vector<std::string> extra_headers;
  // Body sink; returns false to abort. Without it the body is kept in Response::body (capped).
  std::function<bool(const char*, size_t, long status)> sink;
};

struct Transfer {
  Response* r;
  const Request* q;
  bool aborted = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect): keep the last one's
    t->r->headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos) t->r->headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (t->q->sink) {
    if (!t->q->sink(data, bytes, t->r->status)) {
      t->aborted = true;
      return 0;
    }
    return bytes;
  }
  if (t->r->body.size() + bytes > kMaxApiBody) {
    t->aborted = true;
    return 0;
  }
  t->r->body.append(data, bytes);
  return bytes;
}

long status_of(CURL* c) {
  long s = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s);
  return s;
}

struct BodyTransfer : Transfer {
  CURL* curl = nullptr;
};

size_t on_body_with_status(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<BodyTransfer*>(user);
  t->r->status = status_of(t->curl);
  return on_body(data, size, n, user);
}

Response perform(const Request& q) {
  curl_init_once();
  std::unique_ptr<CURL, CurlDeleter> c(curl_easy_init());
  if (!c) throw IOError("libcurl: cannot create a handle");
  Response r;
  BodyTransfer t;
  t.r = &r;
  t.q = &q;
  t.curl = c.get();
  curl_slist* raw = nullptr;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add = [&](const std::string& h) {
    curl_slist* n = curl_slist_append(raw, h.c_str());
    if (!n) throw IOError("libcurl: out of memory");
    raw = n;
    headers.release();
    headers.reset(raw);
  };
  for (const auto& h : q.extra_headers) add(h);
  if (!q.token.empty() && origin(q.url) == q.auth_origin) add("Authorization: Bearer " + q.token);
  CURL* h = c.get();
  curl_easy_setopt(h, CURLOPT_URL, q.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "cppformers/0.1.0; hf_hub-compatible");
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, q.follow ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);  // credentials stay with their host
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, q.connect_timeout_s);
  if (q.total_timeout_s > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT, q.total_timeout_s);
  if (q.low_speed_time_s > 0) {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, q.low_speed_time_s);
  }
  if (q.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, raw);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, static_cast<Transfer*>(&t));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_with_status);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  r.error = curl_easy_perform(h);
  r.status = status_of(h);
  if (r.error != CURLE_OK && !(t.aborted && r.error == CURLE_WRITE_ERROR)) {
    r.error_text = errbuf[0] ? errbuf : curl_easy_strerror(r.error);
  } else if (t.aborted) {
    r.error = CURLE_WRITE_ERROR;
    r.error_text = "transfer aborted";
  }
  return r;
}

// ---- errors --------------------------------------------------------------------------------

[[noreturn]] void throw_http_error(const Response& r, const std::string& repo, const std::string& filename,
                                   const std::string& revision, const std::string& token) {
  const std::string code = r.header("x-error-code");
  const std::string said = scrub(r.header("x-error-message"), token);
  const std::string what = filename.empty() ? "'" + repo + "'" : "'" + filename + "' of '" + repo + "'";
  std::string m;
  if (code == "GatedRepo") {
    m = "'" + repo + "' is a gated repository: request access on its Hub page, then use a token that has it (HF_TOKEN)";
  } else if (code == "RepoNotFound" || r.status == 401) {
    m = "repository '" + repo + "' not found on the Hub, or private or gated: " +
        (token.empty() ? std::string("no token was given: set HF_TOKEN (or pass --token)")
                       : std::string("the token given is invalid or has no access to it"));
  } else if (code == "RevisionNotFound") {
    m = "'" + repo + "': revision '" + revision + "' not found on the Hub";
  } else if (code == "EntryNotFound" || (r.status == 404 && !filename.empty())) {
    m = "'" + repo + "': file '" + filename + "' not found at revision '" + revision + "'";
  } else if (r.status == 403) {
    m = "access to " + what + " denied (HTTP 403): the token has no permission for it";
  } else if (r.status == 404) {
    m = "repository '" + repo + "' not found on the Hub (HTTP 404)";
  } else {
    m = "the Hub answered HTTP " + std::to_string(r.status) + " for " + what + " at revision '" + revision + "'";
  }
  if (!said.empty()) m += " (Hub: " + said + ")";
  throw HubError(m, r.status);
}

bool is_http_error(long status) { return status >= 400; }

// ---- files ---------------------------------------------------------------------------------

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

// Writes `text` to `path` through a temporary file and a rename.
void write_atomic(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw IOError(tmp + ": cannot write");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw IOError(path + ": cannot write (" + ec.message() + ")");
  }
}

// snapshots/<commit>/<file> -> relative symlink to blobs/<etag>, replacing what is there.
void link_pointer(const fs::path& blob, const fs::path& pointer) {
  fs::create_directories(pointer.parent_path());
  fs::path target = blob.lexically_relative(pointer.parent_path());
  fs::path tmp = pointer;
  tmp += ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (!ec) fs::rename(tmp, pointer, ec);
  if (ec) {
    fs::remove(tmp);
    throw IOError(pointer.string() + ": cannot link to " + blob.string() + " (" + ec.message() + ")");
  }
}

std::uintmax_t file_size_or(const fs::path& p, std::uintmax_t dflt) {
  std::error_code ec;
  auto s = fs::file_size(p, ec);
  return ec ? dflt : s;
}

struct Sha256 {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Sha256() {
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) throw IOError("OpenSSL: cannot start sha256");
  }
  ~Sha256() { EVP_MD_CTX_free(ctx); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void reset() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  void update(const void* p, size_t n) { EVP_DigestUpdate(ctx, p, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, md, &n);
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
      out += d[md[i] >> 4];
      out += d[md[i] & 15];
    }
    return out;
  }
};

void hash_file_into(Sha256& h, const std::string& path, std::uintmax_t limit) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw IOError(path + ": cannot read (" + std::strerror(errno) + ")");
  std::vector<char> buf(1 << 20);
  std::uintmax_t left = limit;
  while (left > 0) {
    size_t n = std::fread(buf.data(), 1, std::min<std::uintmax_t>(buf.size(), left), f);
    if (n == 0) break;
    h.update(buf.data(), n);
    left -= n;
  }
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw IOError(path + ": read error");
}

// An flock'ed lock file, Python's filelock path so both sides exclude each other.
class FileLock {
 public:
  FileLock(const fs::path& path, const std::string& what) {
    fs::create_directories(path.parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0664);
    if (fd_ < 0) throw IOError(path.string() + ": cannot open the lock file (" + std::strerror(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "waiting for another process downloading %s\n", what.c_str());
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd_);
        throw IOError(path.string() + ": cannot lock (" + std::strerror(errno) + ")");
      }
    }
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

long timeout_env(const char* name, long dflt) {
  std::string v = env(name);
  if (v.empty()) return dflt;
  try {
    double d = std::stod(v);
    return d > 0 ? long(d + 0.999) : dflt;
  } catch (const std::exception&) {
    return dflt;
  }
}

bool transient(CURLcode e) {
  return e == CURLE_COULDNT_CONNECT || e == CURLE_COULDNT_RESOLVE_HOST || e == CURLE_COULDNT_RESOLVE_PROXY ||
         e == CURLE_OPERATION_TIMEDOUT || e == CURLE_PARTIAL_FILE || e == CURLE_RECV_ERROR || e == CURLE_SEND_ERROR ||
         e == CURLE_GOT_NOTHING || e == CURLE_SSL_CONNECT_ERROR || e == CURLE_HTTP2 || e == CURLE_HTTP2_STREAM;
}

// ---- the client ----------------------------------------------------------------------------

struct Repo {
  std::string id, endpoint, token, auth_origin;
  fs::path storage;  // cache/models--org--name
  fs::path locks;    // cache/.locks/models--org--name
};

Repo open_repo(const std::string& repo_id, const HubOptions& o) {
  check_repo_id(repo_id);
  check_revision(o.revision);
  Repo r;
  r.id = repo_id;
  r.endpoint = hub_endpoint(o);
  r.auth_origin = origin(r.endpoint);
  fs::path cache = fs::absolute(fs::path(hub_cache_dir(o)));
  r.storage = cache / repo_folder_name(repo_id);
  r.locks = cache / ".locks" / repo_folder_name(repo_id);
  return r;
}

// The commit a revision names in the cache: itself if a commit hash, else refs/<revision>.
std::string cached_commit(const Repo& r, const std::string& rev) {
  if (is_commit_hash(rev)) return rev;
  std::string c = trim(read_text((r.storage / "refs" / rev).string()));
  return is_commit_hash(c) ? c : std::string();
}

void write_ref(const Repo& r, const std::string& rev, const std::string& commit) {
  if (rev == commit) return;
  fs::path ref = r.storage / "refs" / rev;
  if (trim(read_text(ref.string())) != commit) write_atomic(ref.string(), commit);
}

struct FileMeta {
  std::string commit, etag, location;
  std::uintmax_t size = 0;
  bool size_known = false, lfs = false;
};

// HEAD resolve/{revision}/{file}; follows only relative redirects (a renamed repo), so the
// 302 of an LFS file is read for its headers and its Location.
Response head_file(const Repo& r, const std::string& filename, const std::string& rev) {
  std::string url = r.endpoint + "/" + r.id + "/resolve/" + quote(rev, "") + "/" + quote(filename, "/");
  Request q;
  q.method = "HEAD";
  q.token = r.token;
  q.auth_origin = r.auth_origin;
  q.total_timeout_s = timeout_env("HF_HUB_ETAG_TIMEOUT", 10);
  q.connect_timeout_s = q.total_timeout_s;
  q.extra_headers = {"Accept-Encoding: identity"};
  for (int hop = 0;; ++hop) {
    q.url = url;
    Response resp = perform(q);
    if (resp.error != CURLE_OK || resp.status < 300 || resp.status > 399) return resp;
    std::string loc = resp.header("location");
    if (loc.empty() || is_absolute_url(loc) || hop >= kMaxRelativeRedirects) {
      resp.headers["location"] = loc.empty() ? loc : join_url(url, loc);
      return resp;
    }
    url = join_url(url, loc);
  }
}

FileMeta parse_meta(const Response& resp, const std::string& where) {
  FileMeta m;
  m.commit = resp.header("x-repo-commit");
  if (!is_commit_hash(m.commit))
    throw HubError(where + ": the server's answer has no commit (X-Repo-Commit): is HF_ENDPOINT a Hugging Face Hub?", resp.status);
  std::string linked = resp.header("x-linked-etag");
  m.lfs = !linked.empty();
  m.etag = checked_etag(m.lfs ? linked : resp.header("etag"), where);
  std::string size = resp.header(m.lfs ? "x-linked-size" : "content-length");
  if (m.lfs && size.empty()) size = resp.header("content-length");
  if (!size.empty()) {
    try {
      size_t used = 0;
      unsigned long long v = std::stoull(size, &used);
      if (used == size.size()) m.size = v, m.size_known = true;
    } catch (const std::exception&) {
    }
  }
  m.location = resp.header("location");
  return m;
}

// Fetches `url` into blob (through blob.incomplete, resuming a partial one) and checks size
// and, for LFS, sha256 (= the etag). Called with the blob's lock held.
void download_blob(const Repo& r, const std::string& url, const fs::path& blob, const FileMeta& m,
                   const std::string& display) {
  const fs::path part = fs::path(blob.string() + ".incomplete");
  const bool verify = m.lfs && all_hex(m.etag, 64);
  const long read_timeout = timeout_env("HF_HUB_DOWNLOAD_TIMEOUT", 10);
  std::string last_problem;
  int sha_failures = 0;
  for (int attempt = 0; attempt < kDownloadAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    std::uintmax_t have = file_size_or(part, 0);
    if (m.size_known && have > m.size) have = 0;  // cannot be ours: start over
    Sha256 sha;
    if (have > 0 && verify) hash_file_into(sha, part.string(), have);
    FILE* f = nullptr;
    bool fresh = have == 0;
    f = std::fopen(part.c_str(), fresh ? "wb" : "r+b");
    if (!f) throw IOError(part.string() + ": cannot write (" + std::strerror(errno) + ")");
    if (!fresh && (::ftruncate(fileno(f), off_t(have)) != 0 || std::fseek(f, 0, SEEK_END) != 0)) {
      std::fclose(f);
      throw IOError(part.string() + ": cannot resume");
    }
    std::uintmax_t written = have;
    bool restarted = false, write_failed = false;
    // A bar for files of 1 MB and more (tqdm's, as huggingface_hub shows), unless
    // HF_HUB_DISABLE_PROGRESS_BARS or the rules of core/progress.hpp say no.
    const bool bar_on = m.size_known && m.size >= (std::uintmax_t(1) << 20) &&
                        !env_true("HF_HUB_DISABLE_PROGRESS_BARS") && progress_bars_enabled();
    ProgressBar progress(display, m.size_known ? m.size : 0, ProgressUnit::kBytes, bar_on);
    progress.reset(have);
    Request q;
    q.url = url;
    q.token = r.token;
    q.auth_origin = r.auth_origin;
    q.follow = true;
    q.low_speed_time_s = read_timeout;
    if (have > 0 && !(m.size_known && have == m.size)) q.extra_headers.push_back("Range: bytes=" + std::to_string(have) + "-");
    Response resp;
    if (m.size_known && have == m.size) {
      resp.status = 206;  // all there already: only the check is left
    } else {
      q.sink = [&](const char* data, size_t n, long status) {
        if (status != 200 && status != 206) return true;  // an error body: discarded
        if (status == 200 && have > 0 && !restarted) {  // the server ignored Range: start over
          restarted = true;
          if (::ftruncate(fileno(f), 0) != 0 || std::fseek(f, 0, SEEK_SET) != 0) return write_failed = true, false;
          written = 0;
          sha.reset();
          progress.reset(0);
        }
        if (m.size_known && written + n > m.size) return false;  // more than announced
        if (std::fwrite(data, 1, n, f) != n) return write_failed = true, false;
        if (verify) sha.update(data, n);
        written += n;
        progress.update(n);
        return true;
      };
      resp = perform(q);
    }
    bool closed_ok = std::fclose(f) == 0;
    if (write_failed || !closed_ok) throw IOError(part.string() + ": write failed (disk full?)");
    if (resp.status == 416) {  // the partial file does not fit the remote one: start over
      fs::remove(part);
      last_problem = "the server refused the resume range";
      continue;
    }
    if (resp.error == CURLE_OK && is_http_error(resp.status)) throw_http_error(resp, r.id, display, m.commit, r.token);
    if (resp.error != CURLE_OK && resp.status != 200 && resp.status != 206 && !transient(resp.error) &&
        resp.error != CURLE_WRITE_ERROR)
      throw HubError("'" + r.id + "': downloading '" + display + "' failed: " + resp.error_text, 0);
    if (resp.error != CURLE_OK || resp.status >= 500) {
      last_problem = resp.error != CURLE_OK ? resp.error_text : "HTTP " + std::to_string(resp.status);
      if (resp.error == CURLE_WRITE_ERROR && m.size_known && written >= m.size) {
        fs::remove(part);  // the server sent more than it announced
        last_problem = "the server sent more bytes than announced";
      }
      continue;  // resume on the next attempt
    }
    std::uintmax_t got = file_size_or(part, 0);
    if (m.size_known && got != m.size) {
      last_problem = "got " + std::to_string(got) + " bytes, expected " + std::to_string(m.size);
      if (got > m.size) fs::remove(part);
      continue;
    }
    if (verify) {
      std::string digest = sha.hex();
      if (digest != m.etag) {
        fs::remove(part);
        last_problem = "sha256 mismatch (got " + digest + ", expected " + m.etag + ")";
        if (++sha_failures >= 2) break;
        continue;
      }
    }
    std::error_code ec;
    fs::rename(part, blob, ec);
    if (ec) throw IOError(blob.string() + ": cannot move the download into place (" + ec.message() + ")");
    return;
  }
  throw HubError("'" + r.id + "': downloading '" + display + "' failed: " + last_problem, 0);
}

// The blob is known good enough to link: right size and, for an LFS blob not yet linked from
// this snapshot, the right sha256.
bool blob_ok(const fs::path& blob, const FileMeta& m) {
  std::error_code ec;
  if (!fs::is_regular_file(blob, ec)) return false;
  if (m.size_known && file_size_or(blob, ~std::uintmax_t(0)) != m.size) return false;
  if (m.lfs && all_hex(m.etag, 64)) return sha256_file(blob.string()) == m.etag;
  return true;
}

std::string offline_file(const Repo& r, const std::string& filename, const std::string& rev, const std::string& why) {
  std::string commit = cached_commit(r, rev);
  if (!commit.empty()) {
    fs::path pointer = r.storage / "snapshots" / commit / filename;
    if (fs::exists(pointer)) return pointer.string();
  }
  throw IOError("'" + filename + "' of '" + r.id + "' at revision '" + rev + "' is not in the cache (" +
                r.storage.string() + ") and " + why);
}

std::string offline_reason(const HubOptions& o) {
  return o.local_files_only ? "local_files_only is set" : "HF_HUB_OFFLINE is set";
}

std::string download_file(const Repo& r, const std::string& filename, const HubOptions& o) {
  const std::string& rev = o.revision;
  if (offline(o)) return offline_file(r, filename, rev, offline_reason(o));
  if (!o.force_download) {  // a commit's file never changes; a branch's is trusted with prefer_cache
    std::string commit = is_commit_hash(rev) || o.prefer_cache ? cached_commit(r, rev) : std::string();
    if (!commit.empty()) {
      fs::path pointer = r.storage / "snapshots" / commit / filename;
      if (fs::exists(pointer)) return pointer.string();
    }
  }
  Response head = head_file(r, filename, rev);
  if (head.error != CURLE_OK || head.status >= 500 || head.status == 0) {
    std::string problem = head.error != CURLE_OK ? head.error_text : "HTTP " + std::to_string(head.status);
    return offline_file(r, filename, rev, "the Hub at " + r.endpoint + " could not be reached (" + problem + ")");
  }
  if (is_http_error(head.status)) throw_http_error(head, r.id, filename, rev, r.token);
  FileMeta m = parse_meta(head, "'" + filename + "' of '" + r.id + "'");
  write_ref(r, rev, m.commit);
  const fs::path pointer = r.storage / "snapshots" / m.commit / filename;
  const fs::path blob = r.storage / "blobs" / m.etag;
  if (!o.force_download && fs::exists(pointer) && (!m.size_known || file_size_or(pointer, 0) == m.size))
    return pointer.string();
  fs::create_directories(blob.parent_path());
  FileLock lock(r.locks / (m.etag + ".lock"), filename);
  if (!o.force_download && blob_ok(blob, m)) {  // already here (another revision, or another process)
    link_pointer(blob, pointer);
    return pointer.string();
  }
  std::string url = m.location.empty() ? r.endpoint + "/" + r.id + "/resolve/" + m.commit + "/" + quote(filename, "/")
                                       : m.location;
  download_blob(r, url, blob, m, filename);
  link_pointer(blob, pointer);
  return pointer.string();
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& path) {
  for (const auto& p : patterns)
    if (hub_glob_match(p, path)) return true;
  return false;
}

// Every regular file (following symlinks) under a snapshot, as repository paths.
std::vector<std::string> snapshot_files(const fs::path& snap) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(snap, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    if (fs::is_regular_file(it->path(), ec2)) out.push_back(it->path().lexically_relative(snap).generic_string());
  }
  return out;
}

bool looks_complete(const fs::path& snap, const HubOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(snap, ec)) return false;
  const std::vector<std::string> files = snapshot_files(snap);
  auto has = [&](const std::string& name) { return std::find(files.begin(), files.end(), name) != files.end(); };
  if (!o.allow_patterns.empty()) {
    for (const auto& p : o.allow_patterns)
      if (std::none_of(files.begin(), files.end(), [&](const std::string& f) { return hub_glob_match(p, f); })) return false;
    return true;
  }
  if (!has("config.json")) return false;
  bool weights = false;
  if (has("model.safetensors.index.json")) {
    try {
      json idx = read_json_file((snap / "model.safetensors.index.json").string());
      if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object()) return false;
      for (const auto& [k, v] : idx["weight_map"].items())
        if (!v.is_string() || !has(v.get<std::string>())) return false;
      weights = true;
    } catch (const Error&) {
      return false;
    }
  } else {
    weights = std::any_of(files.begin(), files.end(), [](const std::string& f) {
      return f.find('/') == std::string::npos && f.size() > 12 && f.compare(f.size() - 12, 12, ".safetensors") == 0;
    });
  }
  bool tokenizer = has("tokenizer.json") || has("tokenizer_config.json") || has("vocab.txt") || has("vocab.json") ||
                   std::any_of(files.begin(), files.end(), [](const std::string& f) {
                     return f.find('/') == std::string::npos && f.size() > 6 && f.compare(f.size() - 6, 6, ".model") == 0;
                   });
  return weights && tokenizer;
}

std::string offline_snapshot(const Repo& r, const std::string& rev, const std::string& why) {
  std::string commit = cached_commit(r, rev);
  if (!commit.empty()) {
    fs::path snap = r.storage / "snapshots" / commit;
    std::error_code ec;
    if (fs::is_directory(snap, ec)) return snap.string();
  }
  throw IOError("model '" + r.id + "' at revision '" + rev + "' is not in the cache (" + r.storage.string() + ") and " +
                why);
}

}  // namespace

// ---- public --------------------------------------------------------------------------------

const std::vector<std::string>& default_model_patterns() {
  static const std::vector<std::string> p = {"*.json", "*.safetensors", "*.txt", "*.model",
                                             "*.tiktoken", "*.jinja", "README.md"};
  return p;
}

std::string hub_cache_dir(const HubOptions& o) {
  if (!o.cache_dir.empty()) return expand_user(o.cache_dir);
  std::string c = env("HF_HUB_CACHE");
  if (c.empty()) c = env("HUGGINGFACE_HUB_CACHE");
  if (!c.empty()) return expand_user(c);
  return hf_home() + "/hub";
}

std::string hub_endpoint(const HubOptions& o) {
  std::string e = !o.endpoint.empty() ? o.endpoint : env("HF_ENDPOINT");
  if (e.empty()) e = kDefaultEndpoint;
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

bool hub_offline() { return env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE"); }

std::string hub_token_source(const HubOptions& o) {
  if (!o.token.empty()) return "option";
  if (!trim(env("HF_TOKEN")).empty()) return "HF_TOKEN";
  if (!trim(env("HUGGING_FACE_HUB_TOKEN")).empty()) return "HUGGING_FACE_HUB_TOKEN";
  std::string path = token_file_path();
  std::ifstream in(path);
  std::string line;
  if (in && std::getline(in, line) && !trim(line).empty()) return "token file " + path;
  return "";
}

std::string repo_folder_name(const std::string& repo_id) {
  std::string out = "models";
  size_t at = 0;
  while (true) {
    size_t slash = repo_id.find('/', at);
    out += "--" + repo_id.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return out;
}

bool is_valid_repo_id(const std::string& id) {
  if (id.empty() || id.size() > 96) return false;
  if (id.find("--") != std::string::npos || id.find("..") != std::string::npos) return false;
  size_t slash = id.find('/');
  if (slash != std::string::npos && id.find('/', slash + 1) != std::string::npos) return false;
  auto part_ok = [](const std::string& p) {
    if (p.empty()) return false;
    for (char c : p)
      if (!(std::isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.')) return false;
    // Python's \b...\b: each part starts and ends with a word character.
    auto word = [](char c) { return std::isalnum((unsigned char)c) || c == '_'; };
    return word(p.front()) && word(p.back());
  };
  if (slash == std::string::npos) return part_ok(id);
  return part_ok(id.substr(0, slash)) && part_ok(id.substr(slash + 1));
}

void check_repo_filename(const std::string& name) {
  auto bad = [&](const std::string& why) {
    throw ValueError("refusing the repository file name '" + scrub(name, "") + "': " + why);
  };
  if (name.empty()) bad("it is empty");
  if (name[0] == '/') bad("it is an absolute path");
  if (name.find('\\') != std::string::npos) bad("it contains a backslash");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) bad("it contains a control character");
  size_t at = 0;
  while (true) {
    size_t slash = name.find('/', at);
    std::string part = name.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
    if (part == "..") bad("it leaves the snapshot folder (..)");
    if (part == "." || part.empty()) bad("it has an empty or '.' path component");
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
}

bool hub_glob_match(const std::string& pattern, const std::string& path) {
  std::string p = pattern;
  if (!p.empty() && p.back() == '/') p += '*';
  return ::fnmatch(p.c_str(), path.c_str(), 0) == 0;
}

std::string sha256_file(const std::string& path) {
  Sha256 h;
  hash_file_into(h, path, ~std::uintmax_t(0));
  return h.hex();
}

std::string sha256_hex(const std::string& data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.hex();
}

std::string hf_hub_download(const std::string& repo_id, const std::string& filename, const HubOptions& opts) {
  check_repo_filename(filename);
  Repo r = open_repo(repo_id, opts);
  r.token = resolve_token(opts);
  return download_file(r, filename, opts);
}

std::string hf_hub_read_range(const std::string& repo_id, const std::string& filename, uint64_t offset,
                              uint64_t length, const HubOptions& opts) {
  check_repo_filename(filename);
  Repo r = open_repo(repo_id, opts);
  const std::string what = "'" + filename + "' of '" + r.id + "'";
  if (offline(opts)) throw IOError(what + ": cannot read it from the Hub: " + offline_reason(opts));
  if (length == 0) return {};
  r.token = resolve_token(opts);
  Response head = head_file(r, filename, opts.revision);
  if (head.error != CURLE_OK || head.status >= 500 || head.status == 0)
    throw HubError(what + ": the Hub at " + r.endpoint + " could not be reached (" +
                       (head.error != CURLE_OK ? head.error_text : "HTTP " + std::to_string(head.status)) + ")",
                   head.status);
  if (is_http_error(head.status)) throw_http_error(head, r.id, filename, opts.revision, r.token);
  FileMeta m = parse_meta(head, what);
  if (m.size_known && offset >= m.size) return {};
  if (m.size_known) length = std::min<uint64_t>(length, m.size - offset);
  if (length > kMaxApiBody) throw ValueError(what + ": a range read is limited to " + std::to_string(kMaxApiBody) + " bytes");
  Request q;
  q.url = m.location.empty() ? r.endpoint + "/" + r.id + "/resolve/" + m.commit + "/" + quote(filename, "/") : m.location;
  q.token = r.token;
  q.auth_origin = r.auth_origin;
  q.follow = true;
  q.total_timeout_s = std::max<long>(30, timeout_env("HF_HUB_DOWNLOAD_TIMEOUT", 10));
  q.extra_headers = {"Range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)};
  std::string out;
  uint64_t skip = offset;  // a server that ignores Range sends the file from its start
  bool range_ignored = false;
  q.sink = [&](const char* data, size_t n, long status) {
    if (status != 200 && status != 206) return true;  // an error body: discarded
    if (status == 200 && !range_ignored) range_ignored = true;
    if (range_ignored && skip > 0) {
      const uint64_t drop = std::min<uint64_t>(skip, n);
      data += drop, n -= size_t(drop), skip -= drop;
    }
    out.append(data, size_t(std::min<uint64_t>(n, length - out.size())));
    return out.size() < length;  // enough: stop the transfer
  };
  Response resp = perform(q);
  if (resp.error != CURLE_OK && !(resp.error == CURLE_WRITE_ERROR && out.size() == length))
    throw HubError(what + ": reading bytes from the Hub failed (" + resp.error_text + ")", resp.status);
  if (is_http_error(resp.status)) throw_http_error(resp, r.id, filename, m.commit, r.token);
  return out;
}

std::string snapshot_download(const std::string& repo_id, const HubOptions& opts) {
  Repo r = open_repo(repo_id, opts);
  const std::string& rev = opts.revision;
  if (offline(opts)) return offline_snapshot(r, rev, offline_reason(opts));
  r.token = resolve_token(opts);
  Request q;
  q.url = r.endpoint + "/api/models/" + r.id + "/revision/" + quote(rev, "");
  q.token = r.token;
  q.auth_origin = r.auth_origin;
  q.follow = true;
  q.total_timeout_s = std::max<long>(30, timeout_env("HF_HUB_ETAG_TIMEOUT", 10));
  Response resp = perform(q);
  if (resp.error != CURLE_OK || resp.status >= 500 || resp.status == 0) {
    std::string problem = resp.error != CURLE_OK ? resp.error_text : "HTTP " + std::to_string(resp.status);
    return offline_snapshot(r, rev, "the Hub at " + r.endpoint + " could not be reached (" + problem + ")");
  }
  if (is_http_error(resp.status)) throw_http_error(resp, r.id, "", rev, r.token);
  const std::string where = "Hub listing of '" + r.id + "' at revision '" + rev + "'";
  json info = parse_json(resp.body, where);
  if (!info.is_object() || !info.contains("sha") || !info["sha"].is_string() || !is_commit_hash(info["sha"].get<std::string>()))
    throw FormatError(where + ": no commit ('sha')");
  const std::string commit = info["sha"].get<std::string>();
  std::vector<std::string> files;
  if (info.contains("siblings")) {
    if (!info["siblings"].is_array()) throw FormatError(where + ": 'siblings' should be a list");
    for (const auto& s : info["siblings"]) {
      if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string())
        throw FormatError(where + ": a sibling has no 'rfilename'");
      files.push_back(s["rfilename"].get<std::string>());
    }
  }
  const std::vector<std::string>& patterns = opts.allow_patterns.empty() ? default_model_patterns() : opts.allow_patterns;
  for (const auto& f : files) check_repo_filename(f);  // one unsafe name and nothing is trusted
  write_ref(r, rev, commit);
  HubOptions per_file = opts;
  per_file.revision = commit;
  for (const auto& f : files)
    if (matches_any(patterns, f)) download_file(r, f, per_file);
  fs::path snap = r.storage / "snapshots" / commit;
  fs::create_directories(snap);
  return snap.string();
}

std::string resolve_model(const std::string& id_or_path, const HubOptions& opts) {
  std::error_code ec;
  if (fs::is_directory(id_or_path, ec)) return id_or_path;
  const bool pathlike = id_or_path.empty() || id_or_path[0] == '/' || id_or_path[0] == '.' || id_or_path[0] == '~' ||
                        id_or_path.find('\\') != std::string::npos;
  if (pathlike) throw IOError(id_or_path + ": no such model folder");
  if (fs::exists(id_or_path, ec)) throw IOError(id_or_path + ": not a model folder (it is a file)");
  if (!is_valid_repo_id(id_or_path))
    throw IOError(id_or_path + ": neither a model folder nor a Hub model id ('org/name')");
  Repo r = open_repo(id_or_path, opts);
  if (!opts.force_download && (opts.prefer_cache || offline(opts))) {
    std::string commit = cached_commit(r, opts.revision);
    if (!commit.empty() && looks_complete(r.storage / "snapshots" / commit, opts))
      return (r.storage / "snapshots" / commit).string();
  }
  try {
    return snapshot_download(id_or_path, opts);
  } catch (const HubError& e) {  // as Python says: neither a folder nor (reachable) on the Hub
    if (e.status() == 401 || e.status() == 404)
      throw HubError("'" + id_or_path + "' is not a local folder, and on the Hub: " + e.what(), e.status());
    throw;
  }
}

}  // namespace cppformers::io
