#pragma once
// The constructors of every task's pipeline, listed in registry.cpp (one line per task).
#include <memory>
#include <string>

#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers::pipelines {

using Factory = std::unique_ptr<Pipeline> (*)(const std::string& model_dir, const PipelineOptions& options);

std::unique_ptr<Pipeline> make_text_classification(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_token_classification(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_question_answering(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_fill_mask(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_feature_extraction(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_zero_shot_classification(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_image_classification(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_zero_shot_image_classification(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_automatic_speech_recognition(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_text_generation(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_text2text_generation(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_summarization(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_translation(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_translation_en_to_de(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_translation_en_to_fr(const std::string& dir, const PipelineOptions& o);
std::unique_ptr<Pipeline> make_translation_en_to_ro(const std::string& dir, const PipelineOptions& o);
// translation_XX_to_YY for any languages (Python's check_task: four '_'-separated parts, the
// third "to"): pipeline() makes "translation" and gives it the name (its prefix, src/tgt_lang).
bool is_translation_xx_to_yy(const std::string& task);
void apply_task_name(Pipeline& p, const std::string& task);

// numpy's float32 sum of a contiguous run (its pairwise summation: 8 partial sums up to 128
// elements), for post-processing that must round as Python's pipelines do.
float np_sum(const float* a, int64_t n);

// Loads the tokenizer of a pipeline (options.tokenizer, else the model folder).
AutoTokenizer load_tokenizer(const std::string& dir, const PipelineOptions& o);

}  // namespace cppformers::pipelines
