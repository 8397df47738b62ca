#pragma once
// text2text-generation, summarization and translation (translation_xx_to_yy), as transformers'
// Text2TextGenerationPipeline family: the task prefix from config.task_specific_params, the
// encoder-decoder generate(), texts decoded with special tokens skipped.
#include "cppformers/generation/encoder_decoder.hpp"
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

class Text2TextGenerationPipeline : public Pipeline {
 public:
  // task: "text2text-generation", "summarization", "translation" or "translation_xx_to_yy"
  // ("translation" becomes the first translation_* key of config.task_specific_params, as Python).
  Text2TextGenerationPipeline(std::string task, std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer,
                              GenerationConfig generation_config, Seq2SeqGenerationExtras extras, int64_t batch_size);
  // The generated ids (decoder start included) for each text.
  std::vector<std::vector<int64_t>> generate_ids(const std::vector<std::string>& texts, const json& generate_kwargs,
                                                 bool truncation = false, int64_t batch_size = 0);
  // pipe(text_or_list, return_tensors=False, return_text=True, truncation=..., batch_size=...,
  // **generate_kwargs).
  json call(const json& inputs, const json& kwargs = json::object()) override;

  // Switches to `task`: its prefix and settings from config.task_specific_params (over the
  // pipeline's original generation settings); for translation_XX_to_YY also the default
  // src_lang / tgt_lang.
  void set_task(const std::string& task);

  GenerationConfig generation_config;
  Seq2SeqGenerationExtras extras;
  std::string prefix, output_key;  // "summary", "translation", "generated"
  // tokenizer_config.json's tokenizer_class: MBart, MBart50 and NLLB tokenizers take src_lang /
  // tgt_lang (language-code special tokens around the text, forced_bos_token_id = tgt_lang).
  std::string tokenizer_class;
  bool nllb_legacy_behaviour = false;
  // TranslationPipeline's src_lang / tgt_lang (else the task's XX and YY): with a tokenizer that
  // has language codes (_build_translation_inputs) the following encode_inputs put the source
  // code around each text, and the target code's id is returned as forced_bos_token_id.
  std::optional<int64_t> prepare_translation(std::optional<std::string> src_lang, std::optional<std::string> tgt_lang);
  // The encoder inputs of a batch: the tokenizer's own special tokens, or during a translation
  // call with language codes, those codes around each text.
  Batch encode_inputs(const std::vector<tokenizers::EncodeInput>& texts, bool truncation) const;

 private:
  GenerationConfig base_generation_config_;
  Seq2SeqGenerationExtras base_extras_;
  // the language-code tokens of the current call (_build_translation_inputs)
  std::vector<int64_t> lang_prefix_, lang_suffix_;
  bool lang_codes_ = false;
};

}  // namespace cppformers
