// The `cppformers` program. Exit codes (README, "Exit codes"), each with one line on stderr,
// "cppformers: error: MESSAGE", naming the file, key, argument or Hub id at fault:
//   0 success
//   1 bad input: an argument's value or the input data (ValueError, KeyError)
//   2 command-line usage: unknown option, missing argument (CLI11's message and --help hint)
//   3 not found or unreadable: a file, folder, Hub id or revision, a file not cached when
//     offline, the Hub unreachable or refusing access (IOError, HubError)
//   4 unusable model or file: malformed (FormatError) or unsupported (NotSupportedError:
//     model type, task, option) content
//   5 internal error (a bug: please report it with `cppformers env`)
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
    return app.exit(e) == 0 ? cli::kExitOk : cli::kExitUsage;
  }
  auto fail = [](const char* kind, const std::exception& e, int code) {
    std::fflush(stdout);
    std::fprintf(stderr, "cppformers: %s: %s\n", kind, e.what());
    return code;
  };
  try {
    for (auto& [sub, run] : runs)
      if (sub->parsed()) return run();
  } catch (const IOError& e) {
    return fail("error", e, cli::kExitNotFound);
  } catch (const FormatError& e) {
    return fail("error", e, cli::kExitModel);
  } catch (const NotSupportedError& e) {
    return fail("error", e, cli::kExitModel);
  } catch (const Error& e) {  // ValueError, KeyError
    return fail("error", e, cli::kExitBadInput);
  } catch (const std::exception& e) {
    return fail("internal error", e, cli::kExitInternal);
  }
  return cli::kExitUsage;
}
