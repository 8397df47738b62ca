// cppformers env [--json]
// What this build runs with: version, CPU and the SIMD/oneDNN ISA in use, threads, BLAS,
// and the Hub settings (cache folder, endpoint, offline, where a token would come from; never
// the token). Paste it into bug reports.
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cppformers/core/threads.hpp"
#include "cppformers/io/hub.hpp"
#include "cppformers/ops/cpu/vec.hpp"
#include "cppformers/tools/cli/command.hpp"

namespace cppformers::cli {
namespace {

const char* dnnl_isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::all: return "all";
  }
  return "unknown";
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

int run_env(bool as_json) {
  const dnnl::version_t* v = dnnl::version();
  std::string dnnl_version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  if (v->hash && *v->hash) dnnl_version += std::string(" (") + v->hash + ")";
  const std::string token = io::hub_token_source();
  std::vector<std::pair<std::string, std::string>> rows = {
      {"cppformers version", "0.1.0"},
      {"cpu", cpu_model()},
      {"simd target (Highway)", cpu::simd_target()},
      {"oneDNN isa", dnnl_isa_name(dnnl::get_effective_cpu_isa())},
      {"threads", std::to_string(get_num_threads()) + " (hardware: " + std::to_string(std::thread::hardware_concurrency()) + ")"},
      {"blas", "oneDNN " + dnnl_version},
      {"hub cache", io::hub_cache_dir()},
      {"hub endpoint", io::hub_endpoint()},
      {"hub offline", io::hub_offline() ? "yes" : "no"},
      {"hub token", token.empty() ? "none" : "set (" + token + ")"},
  };
  if (as_json) {
    nlohmann::json j = nlohmann::json::object();
    for (auto& [k, val] : rows) j[k] = val;
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (auto& [k, val] : rows) std::printf("- %s: %s\n", k.c_str(), val.c_str());
  }
  return 0;
}

CommandRegistration reg{{"env", "Print the version, CPU features, threads, BLAS and Hub cache in use",
                         [](CLI::App& app) -> std::function<int()> {
                           auto as_json = std::make_shared<bool>(false);
                           app.add_flag("--json", *as_json, "one JSON object instead of lines");
                           return [as_json] { return run_env(*as_json); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
