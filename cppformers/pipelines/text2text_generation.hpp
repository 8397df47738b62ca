#pragma once
// text2text-generation, summarization and translation (translation_xx_to_yy), as transformers'
// Text2TextGenerationPipeline family: the task prefix from config.task_specific_params, the
// encoder-decoder generate(), texts decoded with special tokens skipped.
#include "cppformers/generation/encoder_decoder.hpp"
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

class Text2TextGenerationPipeline : public Pipeline {
 public:
  // task: "text2text-generation", "summarization", "translation" or "translation_xx_to_yy".
  Text2TextGenerationPipeline(std::string task, std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer,
                              GenerationConfig generation_config, Seq2SeqGenerationExtras extras, int64_t batch_size);
  // The generated ids (decoder start included) for each text.
  std::vector<std::vector<int64_t>> generate_ids(const std::vector<std::string>& texts, const json& generate_kwargs,
                                                 bool truncation = false, int64_t batch_size = 0);
  // pipe(text_or_list, return_tensors=False, return_text=True, truncation=..., batch_size=...,
  // **generate_kwargs).
  json call(const json& inputs, const json& kwargs = json::object()) override;

  GenerationConfig generation_config;
  Seq2SeqGenerationExtras extras;
  std::string prefix, output_key;  // "summary", "translation", "generated"
};

}  // namespace cppformers
