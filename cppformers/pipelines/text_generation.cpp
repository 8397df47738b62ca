#include "cppformers/pipelines/text_generation.hpp"

#include <algorithm>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/generation/utils.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

TextGenerationPipeline::TextGenerationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tok,
                                               GenerationConfig config, int64_t batch_size)
    : Pipeline("text-generation", std::move(model), std::move(tok), batch_size), generation_config(std::move(config)) {}

std::vector<std::vector<std::vector<int64_t>>> TextGenerationPipeline::generate_ids(const std::vector<std::string>& prompts,
                                                                                    const json& generate_kwargs,
                                                                                    int64_t batch_size) {
  std::vector<std::vector<int64_t>> ids;
  for (const std::string& p : prompts) ids.push_back(tokenizer_->encode(p, true));
  return generate_from_token_ids(ids, generate_kwargs, batch_size);
}

std::vector<std::vector<std::vector<int64_t>>> TextGenerationPipeline::generate_from_token_ids(
    const std::vector<std::vector<int64_t>>& prompts, const json& generate_kwargs, int64_t batch_size) {
  GenerationConfig cfg = generation_config;
  cfg.update(generate_kwargs, "text-generation kwargs");
  int64_t pad = 0;
  if (auto p = tokenizer_->pad_token_id()) pad = *p;
  else if (cfg.pad_token_id) pad = *cfg.pad_token_id;
  else if (!cfg.eos_token_id.empty()) pad = cfg.eos_token_id[0];
  const size_t bs = size_t(std::max<int64_t>(1, batch_size > 0 ? batch_size : batch_size_));
  std::vector<std::vector<std::vector<int64_t>>> out;
  autograd::NoGradGuard no_grad;
  ProgressBar bar = progress_bar(prompts.size(), int64_t(bs));
  for (size_t at = 0; at < prompts.size(); at += bs) {
    const size_t n = std::min(bs, prompts.size() - at);
    std::vector<std::vector<int64_t>> ids;
    size_t L = 0;
    for (size_t i = 0; i < n; ++i) {
      ids.push_back(prompts[at + i]);
      if (ids.back().empty()) throw ValueError("text-generation: the prompt encodes to no tokens");
      L = std::max(L, ids.back().size());
    }
    std::vector<int64_t> flat, mask;
    for (const auto& row : ids) {  // left padding, as generate() expects
      for (size_t k = row.size(); k < L; ++k) flat.push_back(pad), mask.push_back(0);
      flat.insert(flat.end(), row.begin(), row.end());
      mask.insert(mask.end(), row.size(), 1);
    }
    const int64_t B = int64_t(n);
    GenerateOptions opts;
    opts.tokenizer = &*tokenizer_;
    const GenerateOutput g = generate(*model_, Tensor::from_vector(flat, {B, int64_t(L)}),
                                      Tensor::from_vector(mask, {B, int64_t(L)}), cfg, opts);
    const size_t per = g.sequences.size() / n;  // num_return_sequences rows per prompt
    for (size_t i = 0; i < n; ++i)
      out.emplace_back(g.sequences.begin() + i * per, g.sequences.begin() + (i + 1) * per);
    bar.update(n);
  }
  return out;
}

std::string TextGenerationPipeline::operator()(const std::string& prompt, const json& generate_kwargs,
                                               bool return_full_text) {
  json kw = generate_kwargs;
  kw["return_full_text"] = return_full_text;
  return call(prompt, kw)[0]["generated_text"].get<std::string>();
}

std::string TextGenerationPipeline::chat(const json& messages, const json& generate_kwargs) {
  json kw = generate_kwargs.is_null() ? json::object() : generate_kwargs;
  kw["return_full_text"] = false;
  kw["continue_final_message"] = false;
  return call(messages, kw)[0]["generated_text"].get<std::string>();
}

namespace {
// Python's text[n:] on str: drops the first n code points of UTF-8 text.
std::string drop_chars(const std::string& text, size_t n) {
  size_t i = 0;
  for (size_t k = 0; k < n && i < text.size(); ++k) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  }
  return text.substr(i);
}
size_t count_chars(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace

json TextGenerationPipeline::call(const json& inputs, const json& kwargs0) {
  if (!kwargs0.is_null() && !kwargs0.is_object()) throw ValueError("text-generation: keyword arguments must be an object");
  json kwargs = kwargs0.is_null() ? json::object() : kwargs0;
  // The pipeline's own arguments; everything else goes to generate().
  const bool return_full_text = kwarg<bool>(kwargs, "return_full_text", true);
  const bool return_tensors = kwarg<bool>(kwargs, "return_tensors", false);
  const bool return_text = kwarg<bool>(kwargs, "return_text", !return_tensors);
  const std::string prefix = kwarg<std::string>(kwargs, "prefix", "");
  const int64_t batch_size = kwarg<int64_t>(kwargs, "batch_size", 0);
  std::optional<bool> clean_up;
  if (kwargs.contains("clean_up_tokenization_spaces") && !kwargs["clean_up_tokenization_spaces"].is_null())
    clean_up = kwargs["clean_up_tokenization_spaces"].get<bool>();
  // Chats: None (default) continues a final assistant message, else adds the generation prompt.
  std::optional<bool> continue_final_message;
  if (kwargs.contains("continue_final_message") && !kwargs["continue_final_message"].is_null())
    continue_final_message = kwarg<bool>(kwargs, "continue_final_message", false);
  for (const char* k : {"return_full_text", "return_tensors", "return_text", "prefix", "batch_size",
                        "clean_up_tokenization_spaces", "continue_final_message"})
    kwargs.erase(k);
  static const std::vector<std::string> generate_keys = {
      "max_length", "max_new_tokens", "min_length", "min_new_tokens", "early_stopping", "do_sample", "num_beams",
      "use_cache", "temperature", "top_k", "top_p", "min_p", "typical_p", "repetition_penalty", "length_penalty",
      "no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "pad_token_id", "bos_token_id",
      "eos_token_id", "seed", "stop_strings", "suppress_tokens", "begin_suppress_tokens", "renormalize_logits",
      "forced_bos_token_id", "forced_eos_token_id", "output_scores", "return_dict_in_generate", "max_time",
      "handle_long_generation", "stop_sequence"};
  for (auto& [k, v] : kwargs.items())
    if (std::find(generate_keys.begin(), generate_keys.end(), k) == generate_keys.end())
      throw ValueError("text-generation: the following generate kwargs are not used: ['" + k + "']");
  // Each input is a prompt string or a chat (a list of {"role", "content"} messages); a list of
  // dicts is one chat, a list of lists several (Python's Chat inputs).
  struct Item {
    std::string prompt;             // a prompt
    std::optional<json> messages;   // or a chat
    bool continue_final = false;
    std::vector<int64_t> ids;
  };
  std::vector<Item> items;
  auto add = [&](const json& x) {
    Item it;
    if (x.is_string()) {
      it.prompt = x.get<std::string>();
      it.ids = tokenizer_->encode(prefix + it.prompt, true);
    } else if (x.is_array() && !x.empty() && x[0].is_object()) {
      for (const json& m : x)
        if (!m.is_object() || !m.contains("role") || !m.contains("content"))
          throw ValueError("When passing chat dicts as input, each dict must have a 'role' and 'content' key.");
      it.messages = x;
      it.continue_final = continue_final_message.value_or(x.back()["role"] == "assistant");
      tokenizers::ChatTemplateOptions o;
      o.add_generation_prompt = !it.continue_final;
      o.continue_final_message = it.continue_final;
      it.ids = tokenizer_->apply_chat_template(x, o).input_ids;
    } else {
      throw ValueError("text-generation: inputs must be strings or chats (lists of {\"role\", \"content\"}), got " +
                       x.dump().substr(0, 80));
    }
    items.push_back(std::move(it));
  };
  const bool one_chat = inputs.is_array() && !inputs.empty() && inputs[0].is_object();
  if (one_chat) {
    add(inputs);
  } else if (inputs.is_array()) {
    for (const json& x : inputs) add(x);
  } else {
    add(inputs);
  }
  std::vector<std::vector<int64_t>> prompt_ids;
  for (const Item& it : items) prompt_ids.push_back(it.ids);
  const auto ids = generate_from_token_ids(prompt_ids, kwargs, batch_size);
  json out = json::array();
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    // Python cuts the decoded sequence after as many characters as the decoded prompt has.
    const size_t prompt_chars = count_chars(tokenizer_->decode(it.ids, true, clean_up));
    json rows = json::array();
    for (const auto& seq : ids[i]) {
      json r = json::object();
      if (return_tensors) r["generated_token_ids"] = seq;
      if (return_text) {
        const std::string all = drop_chars(tokenizer_->decode(seq, true, clean_up), prompt_chars);
        if (!return_full_text) {
          r["generated_text"] = all;
        } else if (!it.messages) {
          r["generated_text"] = it.prompt + all;
        } else if (it.continue_final) {  // the reply continues the final message
          json msgs = *it.messages;
          if (!msgs.back()["content"].is_string())
            throw ValueError("text-generation: continue_final_message needs the final message's content as a string");
          json last = {{"role", msgs.back()["role"]}, {"content", msgs.back()["content"].get<std::string>() + all}};
          msgs.back() = last;
          r["generated_text"] = msgs;
        } else {  // a new assistant message
          json msgs = *it.messages;
          msgs.push_back({{"role", "assistant"}, {"content", all}});
          r["generated_text"] = msgs;
        }
      }
      rows.push_back(r);
    }
    out.push_back(rows);
  }
  return inputs.is_array() && !one_chat ? out : out[0];
}

namespace pipelines {
std::unique_ptr<Pipeline> make_text_generation(const std::string& dir, const PipelineOptions& o) {
  auto model = AutoModelForCausalLM::from_pretrained(dir, o.model_options);
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  return std::make_unique<TextGenerationPipeline>(model, load_tokenizer(dir, o), cfg, o.batch_size);
}
}  // namespace pipelines

}  // namespace cppformers
