#pragma once
// The Hugging Face Hub client: model ids ("org/name", "name") to local folders, through the
// cache that Python's huggingface_hub uses, so that either side reuses what the other fetched.
//
//   HF_HUB_CACHE (default $HF_HOME/hub; HF_HOME defaults to ~/.cache/huggingface)
//     models--org--name/
//       blobs/<etag>                      the file's bytes (etag = sha256 for LFS files)
//       refs/<revision>                   the commit a branch or tag pointed to when last asked
//       snapshots/<commit>/<file>         relative symlink -> ../../blobs/<etag>
//     .locks/models--org--name/<etag>.lock   flock'ed while a blob is downloaded
//
// Protocol (as huggingface_hub): HEAD {endpoint}/{repo}/resolve/{revision}/{file}, not following
// redirects to another host, gives X-Repo-Commit, ETag / X-Linked-Etag, Content-Length /
// X-Linked-Size and, for LFS files, Location (the CDN URL, fetched without the token when it is
// on another host); GET {endpoint}/api/models/{repo}/revision/{revision} lists the files
// (siblings[].rfilename) and the commit (sha). Downloads go to blobs/<etag>.incomplete (resumed
// with Range when a partial one is there), are checked against the size and, for LFS files,
// the sha256 (OpenSSL's EVP), and are renamed into place.
//
// Environment: HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN, HF_TOKEN_PATH, HF_HUB_OFFLINE
// (or TRANSFORMERS_OFFLINE), HF_HUB_DISABLE_PROGRESS_BARS, HF_HUB_ETAG_TIMEOUT,
// HF_HUB_DOWNLOAD_TIMEOUT, as Python reads them. The token is never printed nor put in an error.
#include <cstdint>
#include <string>
#include <vector>

#include "cppformers/core/error.hpp"

namespace cppformers::io {

struct HubOptions {
  std::string revision = "main";  // branch, tag or 40-hex commit
  std::string token;              // empty: HF_TOKEN, else the token file ($HF_HOME/token)
  std::string cache_dir;          // empty: HF_HUB_CACHE, else $HF_HOME/hub
  bool local_files_only = false;  // never touch the network (as HF_HUB_OFFLINE=1)
  bool force_download = false;    // fetch again even when cached
  // fnmatch globs on repository paths ('*' also matches '/', as Python's fnmatch); a trailing
  // '/' means the whole folder. Empty: default_model_patterns().
  std::vector<std::string> allow_patterns;
  // resolve_model: a cached snapshot that looks complete (see resolve_model) is used without
  // any request. false: always list the revision on the Hub (the `download` command).
  bool prefer_cache = true;
  std::string endpoint;  // empty: HF_ENDPOINT, else https://huggingface.co
};

// A Hub request that failed: the message names the repo (and file) and what to do about it.
// status() is the HTTP status, or 0 when the Hub could not be reached.
class HubError : public IOError {
 public:
  HubError(const std::string& message, long status) : IOError(message), status_(status) {}
  long status() const { return status_; }

 private:
  long status_;
};

// A local directory is returned as is. Otherwise `id_or_path` must be a Hub model id and the
// snapshot folder (HF_HUB_CACHE/models--org--name/snapshots/<commit>) is returned, with the
// files matching allow_patterns in it. No request is made when the cache already has the
// revision (refs/<revision> -> commit, or a commit given) and the snapshot looks complete:
// with allow_patterns, every pattern matches a file; without, config.json, the weights
// (model.safetensors, or the index and every shard it names, or some *.safetensors) and a
// tokenizer file are there. Offline (HF_HUB_OFFLINE or local_files_only), the cached
// snapshot is returned or an IOError says it is not cached.
std::string resolve_model(const std::string& id_or_path, const HubOptions& opts = {});

// Lists the revision on the Hub and fetches every file matching allow_patterns that the
// snapshot lacks; returns the snapshot folder. Offline: the cached snapshot, or IOError.
std::string snapshot_download(const std::string& repo_id, const HubOptions& opts = {});

// One file of a repository; returns its path in the snapshot folder.
std::string hf_hub_download(const std::string& repo_id, const std::string& filename,
                            const HubOptions& opts = {});

// Up to `length` bytes of a repository file from byte `offset` (fewer at its end), read from the
// Hub with one Range request and not cached: what huggingface_hub's get_safetensors_metadata
// does to read safetensors headers without the weights. Offline: IOError.
std::string hf_hub_read_range(const std::string& repo_id, const std::string& filename, uint64_t offset,
                              uint64_t length, const HubOptions& opts = {});

// What snapshot downloads fetch when no allow_patterns are given: configs, safetensors weights,
// tokenizer files, templates and the model card (no pickled or TF/Flax weights).
const std::vector<std::string>& default_model_patterns();

// The cache folder in use (opts.cache_dir, HF_HUB_CACHE, $HF_HOME/hub), the endpoint, whether
// the network is off (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE), and where a token would come from
// ("option", "HF_TOKEN", "token file <path>" or "" for none); never the token itself.
std::string hub_cache_dir(const HubOptions& opts = {});
std::string hub_endpoint(const HubOptions& opts = {});
bool hub_offline();
std::string hub_token_source(const HubOptions& opts = {});

// "org/name" -> "models--org--name".
std::string repo_folder_name(const std::string& repo_id);
// As huggingface_hub's validate_repo_id: [org/]name of [A-Za-z0-9_.-], no "--" or "..", at most 96.
bool is_valid_repo_id(const std::string& repo_id);
// Throws ValueError for a file name that could leave the snapshot folder: empty, absolute,
// with a ".." or "." component, an empty component, a backslash or a control character.
void check_repo_filename(const std::string& filename);
// fnmatch without FNM_PATHNAME (Python's fnmatch.fnmatch on POSIX); "dir/" matches "dir/*".
bool hub_glob_match(const std::string& pattern, const std::string& path);
// Lower-case hex sha256 of a file's bytes (IOError if unreadable).
std::string sha256_file(const std::string& path);
std::string sha256_hex(const std::string& data);

}  // namespace cppformers::io
