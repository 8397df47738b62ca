#pragma once
// text-generation, as transformers' TextGenerationPipeline for decoder-only models: prompts
// (a string or a list) in, {"generated_text"} (or {"generated_token_ids"}) out, one per
// returned sequence; batches are left-padded with the pad (or eos) token. Chats (a list of
// {"role", "content"} messages, or a list of chats) go through the tokenizer's chat template
// (with the generation prompt, or continuing a final assistant message) and come back as the
// messages plus the assistant's reply, as Python returns them.
#include "cppformers/generation/generation_config.hpp"
#include "cppformers/pipelines/pipeline.hpp"

namespace cppformers {

class TextGenerationPipeline : public Pipeline {
 public:
  TextGenerationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer, GenerationConfig config,
                         int64_t batch_size);
  // The full sequences (prompt, with any left padding of its batch, then the new tokens).
  std::vector<std::vector<std::vector<int64_t>>> generate_ids(const std::vector<std::string>& prompts,
                                                              const json& generate_kwargs, int64_t batch_size = 0);
  // The same from tokenized prompts (e.g. rendered chat templates).
  std::vector<std::vector<std::vector<int64_t>>> generate_from_token_ids(const std::vector<std::vector<int64_t>>& prompts,
                                                                         const json& generate_kwargs,
                                                                         int64_t batch_size = 0);
  // Typed chat call: the assistant's reply to `messages` ([{"role", "content"}, ...]).
  std::string chat(const json& messages, const json& generate_kwargs = json::object());
  // Typed call: the generated text of one prompt (the prompt included unless return_full_text is false).
  std::string operator()(const std::string& prompt, const json& generate_kwargs = json::object(),
                         bool return_full_text = true);
  // pipe(prompt_or_chat_or_list, return_full_text=True, return_tensors=False, return_text=True,
  //      clean_up_tokenization_spaces=..., prefix="", batch_size=..., continue_final_message=None,
  //      **generate_kwargs)
  json call(const json& inputs, const json& kwargs = json::object()) override;

  GenerationConfig generation_config;
};

}  // namespace cppformers
