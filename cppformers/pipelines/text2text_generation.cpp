#include "cppformers/pipelines/text2text_generation.hpp"

#include <algorithm>
#include <filesystem>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

Text2TextGenerationPipeline::Text2TextGenerationPipeline(std::string task, std::shared_ptr<PreTrainedModel> model,
                                                         AutoTokenizer tok, GenerationConfig gc,
                                                         Seq2SeqGenerationExtras ex, int64_t batch_size)
    : Pipeline(task, std::move(model), std::move(tok), batch_size), generation_config(std::move(gc)), extras(std::move(ex)) {
  if (!dynamic_cast<Seq2SeqLM*>(model_.get()))
    throw NotSupportedError(task + ": " + model_->class_name() + " is not an encoder-decoder model");
  base_generation_config_ = generation_config;
  base_extras_ = extras;
  // "translation" with task_specific_params: the first translation_* key (Python warns and does so)
  std::string t = task_;
  const json& extra = model_->config().extra;
  if (t == "translation" && extra.contains("task_specific_params") && extra["task_specific_params"].is_object())
    for (auto& [key, params] : extra["task_specific_params"].items())
      if (key.rfind("translation", 0) == 0) {
        t = key;
        break;
      }
  set_task(t);
}

void Text2TextGenerationPipeline::set_task(const std::string& task) {
  task_ = task;
  output_key = task == "summarization" ? "summary" : task.rfind("translation", 0) == 0 ? "translation" : "generated";
  generation_config = base_generation_config_;
  extras = base_extras_;
  // config.prefix, then config.task_specific_params[task]: the prefix, and generation settings
  const json& extra = model_->config().extra;
  prefix = extra.contains("prefix") && extra["prefix"].is_string() ? extra["prefix"].get<std::string>() : "";
  if (extra.contains("task_specific_params") && extra["task_specific_params"].is_object() &&
      extra["task_specific_params"].contains(task)) {
    json params = extra["task_specific_params"][task];
    if (params.contains("prefix") && params["prefix"].is_string()) prefix = params["prefix"].get<std::string>();
    params.erase("prefix");
    generation_config.update(params, "task_specific_params");
    extras.update(params);
  }
}

Pipeline::Batch Text2TextGenerationPipeline::encode_inputs(const std::vector<tokenizers::EncodeInput>& texts,
                                                           bool truncation) const {
  if (!lang_codes_) return encode(texts, truncation ? "longest_first" : "");
  // the tokenizer with src_lang set: its language-code prefix/suffix around each text, padded
  const int64_t pad = tokenizer_->pad_token_id().value_or(0);
  const size_t specials = lang_prefix_.size() + lang_suffix_.size();
  std::vector<std::vector<int64_t>> rows;
  size_t longest = 0;
  for (const auto& t : texts) {
    std::vector<int64_t> ids = tokenizer_->encode(t.text, false);
    if (truncation && tokenizer_->model_max_length > specials && ids.size() > tokenizer_->model_max_length - specials)
      ids.resize(tokenizer_->model_max_length - specials);
    std::vector<int64_t> row = lang_prefix_;
    row.insert(row.end(), ids.begin(), ids.end());
    row.insert(row.end(), lang_suffix_.begin(), lang_suffix_.end());
    longest = std::max(longest, row.size());
    rows.push_back(std::move(row));
  }
  const bool left = tokenizer_->padding_side == "left";
  std::vector<int64_t> flat, mask;
  for (auto& r : rows) {
    const size_t n = longest - r.size();
    std::vector<int64_t> m(r.size(), 1);
    if (left) r.insert(r.begin(), n, pad), m.insert(m.begin(), n, 0);
    else r.insert(r.end(), n, pad), m.insert(m.end(), n, 0);
    flat.insert(flat.end(), r.begin(), r.end());
    mask.insert(mask.end(), m.begin(), m.end());
  }
  Batch b;
  b.inputs.input_ids = Tensor::from_vector(flat, {int64_t(rows.size()), int64_t(longest)});
  b.inputs.attention_mask = Tensor::from_vector(mask, {int64_t(rows.size()), int64_t(longest)});
  return b;
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
    for (size_t i = at; i < std::min(texts.size(), at + bs); ++i)
      chunk.push_back({(lang_codes_ ? "" : prefix) + texts[i], std::nullopt});
    Batch b = encode_inputs(chunk, truncation);
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

std::optional<int64_t> Text2TextGenerationPipeline::prepare_translation(std::optional<std::string> src_lang,
                                                                       std::optional<std::string> tgt_lang) {
  // TranslationPipeline: src_lang / tgt_lang, else the task's XX and YY; tokenizers with language
  // codes (_build_translation_inputs) put the source code around the text and force the target
  // code as the first generated token
  lang_codes_ = false;
  lang_prefix_.clear();
  lang_suffix_.clear();
  if (output_key == "translation") {
    if (!src_lang && !tgt_lang && pipelines::is_translation_xx_to_yy(task_)) {
      const size_t a = task_.find('_'), b = task_.find('_', a + 1), c = task_.find('_', b + 1);
      src_lang = task_.substr(a + 1, b - a - 1);
      tgt_lang = task_.substr(c + 1);
    }
    const std::string& tc = tokenizer_class;
    const bool mbart = tc == "MBartTokenizer" || tc == "MBartTokenizerFast";
    const bool mbart50 = tc == "MBart50Tokenizer" || tc == "MBart50TokenizerFast";
    const bool nllb = tc == "NllbTokenizer" || tc == "NllbTokenizerFast";
    if (mbart || mbart50 || nllb) {
      if (!src_lang || !tgt_lang) throw ValueError("Translation requires a `src_lang` and a `tgt_lang` for this model");
      auto id_of = [&](const std::string& token) {  // convert_tokens_to_ids: unknown -> unk
        if (auto id = tokenizer_->token_to_id(token)) return *id;
        if (tokenizer_->unk_token)
          if (auto unk = tokenizer_->token_to_id(*tokenizer_->unk_token)) return *unk;
        throw ValueError(task_ + ": '" + token + "' is not a token of the tokenizer");
      };
      const int64_t src = id_of(*src_lang), tgt = id_of(*tgt_lang);
      if (!tokenizer_->eos_token) throw ValueError(task_ + ": the tokenizer has no eos_token");
      const int64_t eos = id_of(*tokenizer_->eos_token);
      if (mbart || (nllb && nllb_legacy_behaviour)) {
        lang_suffix_ = {eos, src};
      } else {
        lang_prefix_ = {src};
        lang_suffix_ = {eos};
      }
      lang_codes_ = true;
      return tgt;
    }
  }
  return std::nullopt;
}

json Text2TextGenerationPipeline::call(const json& inputs, const json& kwargs) {
  json gen = kwargs.is_object() ? kwargs : json::object();
  bool return_tensors = false, return_text = true, truncation = false;
  int64_t batch_size = 0;
  std::optional<std::string> src_lang, tgt_lang;
  for (const char* k : {"return_tensors", "return_text", "truncation", "batch_size", "clean_up_tokenization_spaces",
                        "src_lang", "tgt_lang", "return_type"}) {
    if (!gen.contains(k)) continue;
    const json v = gen[k];
    gen.erase(k);
    if (std::string(k) == "return_tensors") return_tensors = v.is_boolean() && v.get<bool>();
    else if (std::string(k) == "return_text") return_text = !v.is_boolean() || v.get<bool>();
    else if (std::string(k) == "truncation") truncation = !v.is_null() && v != false;
    else if (std::string(k) == "batch_size" && v.is_number_integer()) batch_size = v.get<int64_t>();
    else if (std::string(k) == "src_lang" && v.is_string()) src_lang = v.get<std::string>();
    else if (std::string(k) == "tgt_lang" && v.is_string()) tgt_lang = v.get<std::string>();
  }
  if (auto bos = prepare_translation(src_lang, tgt_lang)) gen["forced_bos_token_id"] = *bos;
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
  auto p = std::make_unique<Text2TextGenerationPipeline>(task, model, load_tokenizer(dir, o), gc, ex, o.batch_size);
  const auto tc = std::filesystem::path(o.tokenizer.empty() ? dir : o.tokenizer) / "tokenizer_config.json";
  if (std::filesystem::exists(tc)) {
    const json j = io::read_json_file(tc.string());
    if (j.is_object()) {
      if (j.contains("tokenizer_class") && j["tokenizer_class"].is_string()) p->tokenizer_class = j["tokenizer_class"].get<std::string>();
      if (j.contains("legacy_behaviour") && j["legacy_behaviour"].is_boolean()) p->nllb_legacy_behaviour = j["legacy_behaviour"].get<bool>();
    }
  }
  return p;
}
}  // namespace

bool is_translation_xx_to_yy(const std::string& task) {
  // Python's check_task: task.split("_") has 4 parts, "translation", XX, "to", YY
  std::vector<std::string> parts(1);
  for (char c : task) {
    if (c == '_') parts.emplace_back();
    else parts.back() += c;
  }
  return parts.size() == 4 && parts[0] == "translation" && parts[2] == "to";
}

void apply_task_name(Pipeline& p, const std::string& task) {
  if (p.task() == task || !is_translation_xx_to_yy(task)) return;
  if (auto* t = dynamic_cast<Text2TextGenerationPipeline*>(&p)) t->set_task(task);
}

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
