// cppformers init --config CONFIG.json --out DIR [--seed N]
// A randomly initialised model from a config (Python's AutoModel*.from_config + save_pretrained):
// the class is config.json's architectures[0] (or the bare model), weights as HF's _init_weights.
#include <cstdio>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/ops/random.hpp"
#include "cppformers/tools/cli/command.hpp"

namespace cppformers::cli {
namespace {

struct InitArgs {
  std::string config, out;
  uint64_t seed = 0;
};

CommandRegistration reg{{"init", "Create a randomly initialised model folder from a config.json",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<InitArgs>();
                           app.add_option("--config", a->config, "config.json to build from")->required();
                           app.add_option("--out", a->out, "folder to write (config.json + model.safetensors)")->required();
                           app.add_option("--seed", a->seed, "random seed (default 0)");
                           return [a] {
                             ops::manual_seed(a->seed);
                             auto model = model_from_config(a->config, Task::kBase, true);
                             model->save_pretrained(a->out);
                             std::printf("%s: %s with %lld parameters\n", a->out.c_str(), model->class_name().c_str(),
                                         (long long)model->num_parameters());
                             return 0;
                           };
                         }}};

}  // namespace
}  // namespace cppformers::cli
