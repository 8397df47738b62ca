// cppformers download ID [FILE...] [--revision R] [--include GLOB]... [--cache-dir D] [--token T]
//                        [--force-download] [--local-files-only] [--no-progress]
// Fetches a model from the Hub into the cache Python's huggingface_hub uses and prints the
// snapshot folder (or, with FILEs, each file's path, one a line). The revision is always listed
// on the Hub (unless offline); files already cached are not fetched again.
#include <cstdio>

#include "cppformers/io/hub.hpp"
#include "cppformers/tools/cli/command.hpp"

namespace cppformers::cli {
namespace {

struct DownloadArgs {
  std::string id;
  std::vector<std::string> files;
  io::HubOptions hub;
};

int run_download(DownloadArgs& a) {
  a.hub.prefer_cache = false;
  if (a.files.empty()) {
    std::printf("%s\n", io::snapshot_download(a.id, a.hub).c_str());
    return 0;
  }
  for (const std::string& f : a.files) std::printf("%s\n", io::hf_hub_download(a.id, f, a.hub).c_str());
  return 0;
}

CommandRegistration reg{{"download", "Download a model from the Hugging Face Hub into the cache; print its folder",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<DownloadArgs>();
                           app.add_option("id", a->id, "Hub model id, e.g. org/name")->required();
                           app.add_option("files", a->files, "only these files (their paths are printed)");
                           app.add_option("--include", a->hub.allow_patterns,
                                          "glob of files to fetch, repeatable (default: configs, *.safetensors, "
                                          "tokenizer files)")
                               ->allow_extra_args(false);  // one glob per --include
                           add_hub_options(app, a->hub, /*force_download=*/true);
                           add_progress_options(app);
                           return [a] { return run_download(*a); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
