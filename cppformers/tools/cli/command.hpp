#pragma once
// Subcommands of the `cppformers` program register themselves here: one file per subcommand
// (forward.cpp, tokenize.cpp, ...), each defining a static CommandRegistration.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace cppformers::cli {

// setup(app) adds the subcommand's options to its own CLI::App and returns the function to
// run when that subcommand is chosen; the function returns the process exit code.
struct Command {
  std::string name, help;
  std::function<std::function<int()>(CLI::App&)> setup;
};

std::vector<Command>& commands();

struct CommandRegistration {
  explicit CommandRegistration(Command c) { commands().push_back(std::move(c)); }
};

}  // namespace cppformers::cli
