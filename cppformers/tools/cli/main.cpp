// The `cppformers` program. Exit codes: 0 success, 1 a cppformers::Error (bad input, missing
// file, unsupported model; the message says which), 2 wrong command-line usage, 3 anything else.
#include <cstdio>
#include <map>

#include "cppformers/core/error.hpp"
#include "cppformers/tools/cli/command.hpp"

namespace cppformers::cli {
std::vector<Command>& commands() {
  static std::vector<Command> all;
  return all;
}
}  // namespace cppformers::cli

int main(int argc, char** argv) {
  using namespace cppformers;
  CLI::App app{"cppformers: Hugging Face Transformers models in C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cppformers 0.1.0");
  std::map<CLI::App*, std::function<int()>> runs;
  for (auto& c : cli::commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    runs[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    for (auto& [sub, run] : runs)
      if (sub->parsed()) return run();
  } catch (const Error& e) {
    std::fprintf(stderr, "cppformers: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cppformers: internal error: %s\n", e.what());
    return 3;
  }
  return 2;
}
