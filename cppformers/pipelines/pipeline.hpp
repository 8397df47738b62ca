#pragma once
// pipeline(task, model): one call from a task name and a model folder (or Hub id) to answers,
// as transformers.pipeline. Each task is a Pipeline subclass registered by name in
// registry.cpp. The JSON entry point call(inputs, kwargs) takes inputs and keyword arguments
// exactly as Python's pipe(inputs, **kwargs) receives them and returns Python's object
// (JSON-serialised), so any recorded Python call can be replayed; tasks also offer typed C++
// calls.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/core/progress.hpp"
#include "cppformers/models/pretrained.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"

namespace cppformers {

using json = nlohmann::json;

struct PipelineOptions {
  std::string tokenizer;               // a folder or Hub id; default: the model's folder
  // dtype, labels, and for Hub ids revision, token, cache_dir, local_files_only, force_download
  // (they apply to the tokenizer too).
  FromPretrainedOptions model_options;
  int64_t batch_size = 1;              // default batch_size of calls (a call's kwarg overrides)
  // A progress bar on stderr for a call with more than progress_min_inputs inputs (-1: more than
  // 4 x the batch size). progress: std::nullopt follows core/progress.hpp (--progress /
  // --no-progress, CPPFORMERS_PROGRESS, else only when stderr is a terminal).
  std::optional<bool> progress;
  int64_t progress_min_inputs = -1;
};

class Pipeline {
 public:
  virtual ~Pipeline() = default;
  // Python's pipe(inputs, **kwargs); unknown kwargs are a ValueError naming them.
  virtual json call(const json& inputs, const json& kwargs = json::object()) = 0;
  json operator()(const json& inputs, const json& kwargs = json::object()) { return call(inputs, kwargs); }

  const std::string& task() const { return task_; }
  PreTrainedModel& model() { return *model_; }
  const AutoTokenizer& tokenizer() const { return *tokenizer_; }
  // See PipelineOptions::progress / progress_min_inputs (pipeline() applies the options).
  void set_progress(std::optional<bool> on, int64_t min_inputs = -1) {
    progress_ = on;
    progress_min_inputs_ = min_inputs;
  }

  // Shared pieces for subclasses; public for tests and composition.
  struct Batch {
    ModelInputs inputs;
    std::vector<tokenizers::Encoding> encodings;
  };
  // Tokenizes texts (or pairs) and pads them into model inputs (attention_mask, token_type_ids
  // when the model takes them). truncation: "", "longest_first", "only_first", "only_second".
  Batch encode(const std::vector<tokenizers::EncodeInput>& inputs, const std::string& truncation = "",
               std::optional<size_t> max_length = std::nullopt) const;

 protected:
  Pipeline(std::string task, std::shared_ptr<PreTrainedModel> model, std::optional<AutoTokenizer> tokenizer,
           int64_t batch_size)
      : task_(std::move(task)), model_(std::move(model)), tokenizer_(std::move(tokenizer)), batch_size_(batch_size) {}
  // Throws ValueError naming any key of `kwargs` not in `known`.
  void check_kwargs(const json& kwargs, const std::vector<std::string>& known) const;
  // The bar a call over n inputs shows (batch_size: the call's, <= 0 the pipeline's); one that
  // draws nothing when n is at most the threshold or bars are off. update() it per input.
  ProgressBar progress_bar(size_t n, int64_t batch_size = 0) const;

  std::string task_;
  std::shared_ptr<PreTrainedModel> model_;
  std::optional<AutoTokenizer> tokenizer_;
  int64_t batch_size_;
  std::optional<bool> progress_;
  int64_t progress_min_inputs_ = -1;
};

// Builds the pipeline for `task` (or an alias: "sentiment-analysis", "ner") on `model`.
std::unique_ptr<Pipeline> pipeline(const std::string& task, const std::string& model,
                                   const PipelineOptions& options = {});
// Every task name and alias pipeline() accepts, and Python's default model id per task.
std::vector<std::string> supported_tasks();
std::string default_model_for(const std::string& task);

// Helpers for reading Python-style kwargs: value of `key`, or `fallback` if absent (null counts
// as present for keys where Python distinguishes None; use has_null()).
template <class T>
T kwarg(const json& kwargs, const std::string& key, const T& fallback) {
  if (!kwargs.contains(key) || kwargs[key].is_null()) return fallback;
  try {
    return kwargs[key].get<T>();
  } catch (const json::exception&) {
    throw ValueError("keyword argument '" + key + "' has the wrong type: " + kwargs[key].dump());
  }
}

}  // namespace cppformers
