#pragma once
// The Auto classes: model_type / architectures in config.json -> the cppformers class.
// Architectures are listed in auto_model.cpp, one line each.
#include <memory>
#include <string>
#include <vector>

#include "cppformers/models/pretrained.hpp"

namespace cppformers {

enum class Task { kBase, kSequenceClassification, kTokenClassification, kQuestionAnswering, kMaskedLM, kCausalLM,
                  kImageClassification, kZeroShotImageClassification, kCTC, kSeq2SeqLM, kSpeechSeq2Seq };
const char* task_name(Task t);

struct AutoConfig {
  // Parses DIR/config.json into the config of its model_type (a Hub id: only config.json is
  // fetched; opts' Hub fields apply, the others are ignored).
  static std::shared_ptr<PretrainedConfig> from_pretrained(const std::string& dir, const FromPretrainedOptions& opts = {});
};

// Builds the model for `task` (or, with from_architectures, for config.json's architectures[0])
// and loads its weights from the folder, or from a Hub id's snapshot (fetched into the cache
// with opts.revision, token, cache_dir, local_files_only, force_download).
std::shared_ptr<PreTrainedModel> load_auto_model(const std::string& dir, Task task,
                                                 const FromPretrainedOptions& opts = {});
std::shared_ptr<PreTrainedModel> load_model_from_architectures(const std::string& dir,
                                                               const FromPretrainedOptions& opts = {});
// A randomly initialised model (HF's _init_weights) from a config.json file, as Python's
// AutoModelFor*.from_config; `task` kBase with from_architectures picks architectures[0].
std::shared_ptr<PreTrainedModel> model_from_config(const std::string& config_file, Task task,
                                                   bool from_architectures = false);
// The model_types cppformers implements.
std::vector<std::string> known_model_types();

template <Task T>
struct AutoModelFor {
  static std::shared_ptr<PreTrainedModel> from_pretrained(const std::string& dir, const FromPretrainedOptions& opts = {}) {
    return load_auto_model(dir, T, opts);
  }
};
using AutoModel = AutoModelFor<Task::kBase>;
using AutoModelForSequenceClassification = AutoModelFor<Task::kSequenceClassification>;
using AutoModelForTokenClassification = AutoModelFor<Task::kTokenClassification>;
using AutoModelForQuestionAnswering = AutoModelFor<Task::kQuestionAnswering>;
using AutoModelForMaskedLM = AutoModelFor<Task::kMaskedLM>;
using AutoModelForCausalLM = AutoModelFor<Task::kCausalLM>;
using AutoModelForImageClassification = AutoModelFor<Task::kImageClassification>;
using AutoModelForZeroShotImageClassification = AutoModelFor<Task::kZeroShotImageClassification>;
using AutoModelForCTC = AutoModelFor<Task::kCTC>;
using AutoModelForSeq2SeqLM = AutoModelFor<Task::kSeq2SeqLM>;
using AutoModelForSpeechSeq2Seq = AutoModelFor<Task::kSpeechSeq2Seq>;

}  // namespace cppformers
