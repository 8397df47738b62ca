// cppformers run TASK --model DIR_OR_ID [INPUT...] [--inputs-json JSON] [--kwargs JSON] [--top-k N]
// Runs a pipeline. Inputs come from --inputs-json (exactly what Python's pipe() receives: a
// string, a list, {"text":..,"text_pair":..}, {"question":..,"context":..}, a file path), or from
// the arguments (one result line per input), or as JSON lines on stdin. Keyword arguments go
// in --kwargs by their Python names; --top-k etc. are shortcuts. Output: Python's object as JSON.
// A Hub id is fetched with --revision/--token/--cache-dir/--local-files-only/--force-download.
// Progress bars (many inputs, downloads) go to stderr only: --progress / --no-progress.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cppformers/pipelines/pipeline.hpp"
#include "cppformers/tools/cli/command.hpp"

namespace cppformers::cli {
namespace {

struct RunArgs {
  std::string task, model, tokenizer, inputs_json, kwargs = "{}";
  std::vector<std::string> inputs;
  int64_t top_k = -2, batch_size = 0;
  std::string function_to_apply, aggregation_strategy;
  bool truncation = false;
  io::HubOptions hub;
};

json parse(const std::string& text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw ValueError(std::string(what) + ": not valid JSON (" + e.what() + ")");
  }
}

int run(const RunArgs& a) {
  json kwargs = parse(a.kwargs, "--kwargs");
  if (!kwargs.is_object()) throw ValueError("--kwargs: expected a JSON object of keyword arguments");
  if (a.top_k != -2) kwargs["top_k"] = a.top_k;
  if (!a.function_to_apply.empty()) kwargs["function_to_apply"] = a.function_to_apply;
  if (!a.aggregation_strategy.empty()) kwargs["aggregation_strategy"] = a.aggregation_strategy;
  if (a.truncation) kwargs["truncation"] = true;
  if (a.batch_size > 0) kwargs["batch_size"] = a.batch_size;
  PipelineOptions opts;
  opts.tokenizer = a.tokenizer;
  opts.model_options.revision = a.hub.revision;
  opts.model_options.token = a.hub.token;
  opts.model_options.cache_dir = a.hub.cache_dir;
  opts.model_options.local_files_only = a.hub.local_files_only;
  opts.model_options.force_download = a.hub.force_download;
  auto pipe = pipeline(a.task, a.model, opts);
  if (!a.inputs_json.empty()) {
    std::cout << pipe->call(parse(a.inputs_json, "--inputs-json"), kwargs).dump() << "\n";
    return 0;
  }
  if (!a.inputs.empty()) {  // one call per input; a bar over them when there are many
    const int64_t many = 4 * std::max<int64_t>(1, a.batch_size);
    ProgressBar bar = int64_t(a.inputs.size()) > many ? ProgressBar(pipe->task(), a.inputs.size()) : ProgressBar();
    for (const std::string& in : a.inputs) {
      std::cout << pipe->call(json(in), kwargs).dump() << "\n";
      bar.update();
    }
    return 0;
  }
  std::string line;  // JSON lines (or plain text lines) on stdin
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    json in;
    try {
      in = json::parse(line);
    } catch (const json::exception&) {
      in = line;
    }
    std::cout << pipe->call(in, kwargs).dump() << std::endl;
  }
  return 0;
}

CommandRegistration reg{{"run", "Run a pipeline (text-classification, token-classification, question-answering, ...)",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<RunArgs>();
                           app.add_option("task", a->task, "the task (as Python's pipeline(): text-classification, "
                                                           "sentiment-analysis, ner, fill-mask, ...)")->required();
                           app.add_option("inputs", a->inputs, "input texts (else --inputs-json, else stdin lines)");
                           app.add_option("--model", a->model, "model folder or Hub id (default: the task's default)");
                           app.add_option("--tokenizer", a->tokenizer, "tokenizer folder (default: the model's)");
                           app.add_option("--inputs-json", a->inputs_json, "the inputs as Python's pipe() receives them");
                           app.add_option("--kwargs", a->kwargs, "keyword arguments by their Python names (JSON object)");
                           app.add_option("--top-k", a->top_k, "top_k");
                           app.add_option("--function-to-apply", a->function_to_apply, "softmax, sigmoid or none");
                           app.add_option("--aggregation-strategy", a->aggregation_strategy, "none, simple, first, average, max");
                           app.add_flag("--truncation", a->truncation, "truncate inputs to the model's max length");
                           app.add_option("--batch-size", a->batch_size, "batch size");
                           add_hub_options(app, a->hub, /*force_download=*/true);
                           add_progress_options(app);
                           return [a] { return run(*a); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
