#pragma once
// Subcommands of the `cppformers` program register themselves here: one file per subcommand
// (forward.cpp, tokenize.cpp, ...), each defining a static CommandRegistration.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "cppformers/core/progress.hpp"
#include "cppformers/io/hub.hpp"

namespace cppformers::cli {

// Exit codes (main.cpp maps the exception types to them; README "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitBadInput = 1,  // an argument's value or the input data is wrong
  kExitUsage = 2,     // command-line usage
  kExitNotFound = 3,  // a file, folder, Hub id or revision not found or unreadable; Hub unreachable / refused
  kExitModel = 4,     // a malformed or unsupported model or file
  kExitInternal = 5,  // a bug
};

// setup(app) adds the subcommand's options to its own CLI::App and returns the function to
// run when that subcommand is chosen; the function returns the process exit code.
struct Command {
  std::string name, help;
  std::function<std::function<int()>(CLI::App&)> setup;
};

std::vector<Command>& commands();

// The Hub options of every command that takes a model folder or Hub id: --revision, --token,
// --cache-dir, --local-files-only (and --force-download where asked).
inline void add_hub_options(CLI::App& app, io::HubOptions& hub, bool force_download = false) {
  app.add_option("--revision", hub.revision, "Hub ids: branch, tag or commit (default main)");
  app.add_option("--token", hub.token, "Hub ids: token (default $HF_TOKEN or the token file); never printed");
  app.add_option("--cache-dir", hub.cache_dir, "Hub ids: cache folder (default $HF_HUB_CACHE or $HF_HOME/hub)");
  app.add_flag("--local-files-only", hub.local_files_only, "Hub ids: the cache only, no network (as HF_HUB_OFFLINE=1)");
  if (force_download) app.add_flag("--force-download", hub.force_download, "Hub ids: fetch again even if cached");
}

// --progress / --no-progress: progress bars on stderr (default: when stderr is a terminal, or
// as CPPFORMERS_PROGRESS says; see core/progress.hpp). Never on stdout.
inline void add_progress_options(CLI::App& app) {
  app.add_flag_callback("--progress", [] { set_progress_bars(true); }, "show progress bars on stderr even when it is not a terminal");
  app.add_flag_callback("--no-progress", [] { set_progress_bars(false); }, "never show progress bars");
}

struct CommandRegistration {
  explicit CommandRegistration(Command c) { commands().push_back(std::move(c)); }
};

}  // namespace cppformers::cli
