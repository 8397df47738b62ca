#include "cppformers/pipelines/text2text_generation.hpp"

#include <algorithm>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

Text2TextGenerationPipeline::Text2TextGenerationPipeline(std::string task, std::shared_ptr<PreTrainedModel> model,
                                                         AutoTokenizer tok, GenerationConfig gc,
                                                         Seq2SeqGenerationExtras ex, int64_t batch_size)
    : Pipeline(task, std::move(model), std::move(tok), batch_size), generation_config(std::move(gc)), extras(std::move(ex)) {
  output_key = task == "summarization" ? "summary" : task.rfind("translation", 0) == 0 ? "translation" : "generated";
  if (!dynamic_cast<Seq2SeqLM*>(model_.get()))
    throw NotSupportedError(task + ": " + model_->class_name() + " is not an encoder-decoder model");
  // config.task_specific_params[task]: the prefix, and generation settings
  const json& extra = model_->config().extra;
  if (extra.contains("task_specific_params") && extra["task_specific_params"].is_object() &&
      extra["task_specific_params"].contains(task)) {
    json params = extra["task_specific_params"][task];
    if (params.contains("prefix") && params["prefix"].is_string()) prefix = params["prefix"].get<std::string>();
    params.erase("prefix");
    generation_config.update(params, "task_specific_params");
    extras.update(params);
  }
}

std::vector<std::vector<int64_t>> Text2TextGenerationPipeline::generate_ids(const std::vector<std::string>& texts,
                                                                            const json& gen_kwargs, bool truncation,
                                                                            int64_t batch_size) {
  GenerationConfig cfg = generation_config;
  cfg.update(gen_kwargs, task_ + " kwargs");
  Seq2SeqGenerationExtras ex = extras;
  ex.update(gen_kwargs);
  auto& model = dynamic_cast<Seq2SeqLM&>(*model_);
  const size_t bs = size_t(std::max<int64_t>(1, batch_size > 0 ? batch_size : batch_size_));
  std::vector<std::vector<int64_t>> out;
  ProgressBar bar = progress_bar(texts.size(), int64_t(bs));
  for (size_t at = 0; at < texts.size(); at += bs) {
    std::vector<tokenizers::EncodeInput> chunk;
    for (size_t i = at; i < std::min(texts.size(), at + bs); ++i) chunk.push_back({prefix + texts[i], std::nullopt});
    Batch b = encode(chunk, truncation ? "longest_first" : "");
    ModelInputs in;
    in.input_ids = b.inputs.input_ids;
    in.attention_mask = b.inputs.attention_mask;
    GenerateOutput g = generate_seq2seq(model, in, cfg, ex);
    const size_t per = g.sequences.size() / chunk.size();
    for (size_t i = 0; i < g.sequences.size(); i += std::max<size_t>(1, per)) out.push_back(g.sequences[i]);
    bar.update(chunk.size());
  }
  return out;
}

json Text2TextGenerationPipeline::call(const json& inputs, const json& kwargs) {
  json gen = kwargs.is_object() ? kwargs : json::object();
  bool return_tensors = false, return_text = true, truncation = false;
  int64_t batch_size = 0;
  for (const char* k : {"return_tensors", "return_text", "truncation", "batch_size", "clean_up_tokenization_spaces",
                        "src_lang", "tgt_lang", "return_type"}) {
    if (!gen.contains(k)) continue;
    const json v = gen[k];
    gen.erase(k);
    if (std::string(k) == "return_tensors") return_tensors = v.is_boolean() && v.get<bool>();
    else if (std::string(k) == "return_text") return_text = !v.is_boolean() || v.get<bool>();
    else if (std::string(k) == "truncation") truncation = !v.is_null() && v != false;
    else if (std::string(k) == "batch_size" && v.is_number_integer()) batch_size = v.get<int64_t>();
  }
  if (return_tensors) return_text = false;
  std::vector<std::string> texts;
  const bool single = inputs.is_string();
  if (single) texts.push_back(inputs.get<std::string>());
  else if (inputs.is_array())
    for (const json& x : inputs) {
      if (!x.is_string()) throw ValueError(task_ + ": inputs must be strings");
      texts.push_back(x.get<std::string>());
    }
  else throw ValueError(task_ + ": the input must be a string or a list of strings");
  autograd::NoGradGuard no_grad;
  auto ids = generate_ids(texts, gen, truncation, batch_size);
  json out = json::array();
  for (auto& s : ids) {
    json r = json::object();
    if (return_tensors) r[output_key + "_token_ids"] = s;
    if (return_text) r[output_key + "_text"] = tokenizer_->decode(s, true);
    out.push_back(r);
  }
  return out;
}

namespace pipelines {
namespace {
std::unique_ptr<Pipeline> make_t2t(const std::string& task, const std::string& dir, const PipelineOptions& o) {
  auto model = AutoModelForSeq2SeqLM::from_pretrained(dir, o.model_options);
  auto* s2s = dynamic_cast<Seq2SeqLM*>(model.get());
  if (!s2s) throw NotSupportedError(task + ": " + model->class_name() + " is not an encoder-decoder model");
  GenerationConfig gc = GenerationConfig::from_pretrained(dir, &model->config());
  Seq2SeqGenerationExtras ex = Seq2SeqGenerationExtras::from_pretrained(dir, *s2s);
  return std::make_unique<Text2TextGenerationPipeline>(task, model, load_tokenizer(dir, o), gc, ex, o.batch_size);
}
}  // namespace
std::unique_ptr<Pipeline> make_text2text_generation(const std::string& dir, const PipelineOptions& o) {
  return make_t2t("text2text-generation", dir, o);
}
std::unique_ptr<Pipeline> make_summarization(const std::string& dir, const PipelineOptions& o) {
  return make_t2t("summarization", dir, o);
}
std::unique_ptr<Pipeline> make_translation(const std::string& dir, const PipelineOptions& o) {
  return make_t2t("translation", dir, o);
}
std::unique_ptr<Pipeline> make_translation_en_to_de(const std::string& dir, const PipelineOptions& o) {
  return make_t2t("translation_en_to_de", dir, o);
}
std::unique_ptr<Pipeline> make_translation_en_to_fr(const std::string& dir, const PipelineOptions& o) {
  return make_t2t("translation_en_to_fr", dir, o);
}
std::unique_ptr<Pipeline> make_translation_en_to_ro(const std::string& dir, const PipelineOptions& o) {
  return make_t2t("translation_en_to_ro", dir, o);
}
}  // namespace pipelines

}  // namespace cppformers
