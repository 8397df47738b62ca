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
      ids.push_back(tokenizer_->encode(prompts[at + i], true));
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
  for (const char* k : {"return_full_text", "return_tensors", "return_text", "prefix", "batch_size",
                        "clean_up_tokenization_spaces"})
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
  std::vector<std::string> prompts;
  auto add = [&](const json& x) {
    if (x.is_string()) return prompts.push_back(x.get<std::string>());
    if (x.is_array() && !x.empty() && x[0].is_object())
      throw NotSupportedError("text-generation: chat messages need the tokenizer's chat template, which is not "
                              "supported yet; pass the prompt text");
    throw ValueError("text-generation: inputs must be strings, got " + x.dump().substr(0, 80));
  };
  if (inputs.is_array() && !inputs.empty() && inputs[0].is_object()) {
    add(json::array({inputs[0]}));  // one chat (a list of messages)
  } else if (inputs.is_array()) {
    for (const json& x : inputs) add(x);
  } else {
    add(inputs);
  }
  std::vector<std::string> texts;
  for (const std::string& p : prompts) texts.push_back(prefix + p);
  const auto ids = generate_ids(texts, kwargs, batch_size);
  json out = json::array();
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::vector<int64_t> prompt_ids = tokenizer_->encode(texts[i], true);
    const size_t prompt_chars = tokenizer_->decode(prompt_ids, true, clean_up).size();
    json rows = json::array();
    for (const auto& seq : ids[i]) {
      json r = json::object();
      if (return_tensors) r["generated_token_ids"] = seq;
      if (return_text) {
        const std::string text = tokenizer_->decode(seq, true, clean_up);
        // Python cuts by the decoded prompt's length in characters of its own string; the
        // prompt's decode is a prefix of the sequence's decode here, so bytes give the same cut.
        std::string all = text.size() >= prompt_chars ? text.substr(prompt_chars) : std::string();
        r["generated_text"] = return_full_text ? prompts[i] + all : all;
      }
      rows.push_back(r);
    }
    out.push_back(rows);
  }
  return inputs.is_array() ? out : out[0];
}

namespace pipelines {
std::unique_ptr<Pipeline> make_text_generation(const std::string& dir, const PipelineOptions& o) {
  auto model = AutoModelForCausalLM::from_pretrained(dir, o.model_options);
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  return std::make_unique<TextGenerationPipeline>(model, load_tokenizer(dir, o), cfg, o.batch_size);
}
}  // namespace pipelines

}  // namespace cppformers
