#include "cppformers/pipelines/pipeline.hpp"

#include <algorithm>
#include <map>

#include "cppformers/io/hub.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

namespace {

struct TaskEntry {
  std::string name;
  std::vector<std::string> aliases;
  std::string default_model;  // Python's default for the task
  pipelines::Factory make;
};

const std::vector<TaskEntry>& tasks() {
  static const std::vector<TaskEntry> all = {
      {"text-classification", {"sentiment-analysis"}, "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
       pipelines::make_text_classification},
      {"token-classification", {"ner"}, "dbmdz/bert-large-cased-finetuned-conll03-english",
       pipelines::make_token_classification},
      {"question-answering", {}, "distilbert/distilbert-base-cased-distilled-squad", pipelines::make_question_answering},
      {"fill-mask", {}, "distilbert/distilroberta-base", pipelines::make_fill_mask},
      {"feature-extraction", {}, "distilbert/distilbert-base-cased", pipelines::make_feature_extraction},
      {"zero-shot-classification", {}, "facebook/bart-large-mnli", pipelines::make_zero_shot_classification},
      {"image-classification", {}, "google/vit-base-patch16-224", pipelines::make_image_classification},
      {"zero-shot-image-classification", {}, "openai/clip-vit-base-patch32", pipelines::make_zero_shot_image_classification},
      {"automatic-speech-recognition", {}, "facebook/wav2vec2-base-960h", pipelines::make_automatic_speech_recognition},
      {"text-generation", {}, "openai-community/gpt2", pipelines::make_text_generation},
      {"text2text-generation", {}, "google-t5/t5-base", pipelines::make_text2text_generation},
      {"summarization", {}, "sshleifer/distilbart-cnn-12-6", pipelines::make_summarization},
      {"translation", {}, "google-t5/t5-base", pipelines::make_translation},
      {"translation_en_to_de", {}, "google-t5/t5-base", pipelines::make_translation_en_to_de},
      {"translation_en_to_fr", {}, "google-t5/t5-base", pipelines::make_translation_en_to_fr},
      {"translation_en_to_ro", {}, "google-t5/t5-base", pipelines::make_translation_en_to_ro},
  };
  return all;
}

const TaskEntry& find_task(const std::string& task) {
  for (const TaskEntry& t : tasks()) {
    if (t.name == task) return t;
    for (const std::string& a : t.aliases)
      if (a == task) return t;
  }
  // translation_XX_to_YY for any pair of languages: the translation pipeline, renamed by pipeline()
  if (pipelines::is_translation_xx_to_yy(task)) return find_task("translation");
  if (task.rfind("translation", 0) == 0)
    throw NotSupportedError("Invalid translation task " + task + ", use 'translation_XX_to_YY' format");
  std::string known;
  for (const std::string& n : supported_tasks()) known += (known.empty() ? "" : ", ") + n;
  throw NotSupportedError("unknown task '" + task + "' (known: " + known + ")");
}

}  // namespace

std::vector<std::string> supported_tasks() {
  std::vector<std::string> out;
  for (const TaskEntry& t : tasks()) {
    out.push_back(t.name);
    out.insert(out.end(), t.aliases.begin(), t.aliases.end());
  }
  return out;
}

std::string default_model_for(const std::string& task) { return find_task(task).default_model; }

std::unique_ptr<Pipeline> pipeline(const std::string& task, const std::string& model, const PipelineOptions& options) {
  const TaskEntry& t = find_task(task);
  // A Hub id is resolved once to its local snapshot, so the model, the tokenizer and the
  // processor files all load from the same folder.
  auto p = t.make(io::resolve_model(model.empty() ? t.default_model : model, options.model_options.hub_options()),
                  options);
  p->set_progress(options.progress, options.progress_min_inputs);
  pipelines::apply_task_name(*p, task);  // translation_XX_to_YY
  return p;
}

ProgressBar Pipeline::progress_bar(size_t n, int64_t batch_size) const {
  const int64_t bs = std::max<int64_t>(1, batch_size > 0 ? batch_size : batch_size_);
  const int64_t threshold = progress_min_inputs_ >= 0 ? progress_min_inputs_ : 4 * bs;
  if (int64_t(n) <= threshold) return ProgressBar();
  return ProgressBar(task_, n, ProgressUnit::kItems, progress_);
}

void Pipeline::check_kwargs(const json& kwargs, const std::vector<std::string>& known) const {
  if (kwargs.is_null()) return;
  if (!kwargs.is_object()) throw ValueError(task_ + ": keyword arguments must be a JSON object, got " + kwargs.dump());
  for (auto& [k, v] : kwargs.items())
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      throw ValueError(task_ + ": unknown keyword argument '" + k + "' (accepted: " + list + ")");
    }
}

Pipeline::Batch Pipeline::encode(const std::vector<tokenizers::EncodeInput>& inputs, const std::string& truncation,
                                 std::optional<size_t> max_length) const {
  tokenizers::CallOptions o;
  o.padding = true;
  if (!truncation.empty()) {
    o.truncation = tokenizers::TruncationOption(truncation == "true" ? "longest_first" : truncation.c_str());
    o.max_length = max_length ? max_length : std::optional<size_t>(tokenizer_->model_max_length);
  }
  tokenizers::BatchEncoding be = (*tokenizer_)(inputs, o);
  Batch b;
  const int64_t B = int64_t(be.size()), S = B ? int64_t(be.input_ids[0].size()) : 0;
  std::vector<int64_t> ids, mask, types;
  ids.reserve(B * S);
  for (int64_t i = 0; i < B; ++i) {
    ids.insert(ids.end(), be.input_ids[i].begin(), be.input_ids[i].end());
    mask.insert(mask.end(), be.attention_mask[i].begin(), be.attention_mask[i].end());
    if (!be.token_type_ids.empty()) types.insert(types.end(), be.token_type_ids[i].begin(), be.token_type_ids[i].end());
  }
  b.inputs.input_ids = Tensor::from_vector(ids, {B, S});
  b.inputs.attention_mask = Tensor::from_vector(mask, {B, S});
  if (int64_t(types.size()) == B * S) b.inputs.token_type_ids = Tensor::from_vector(types, {B, S});
  b.encodings = std::move(be.encodings);
  return b;
}

namespace pipelines {

float np_sum(const float* a, int64_t n) {
  if (n < 8) {
    float r = 0;
    for (int64_t i = 0; i < n; ++i) r += a[i];
    return r;
  }
  if (n <= 128) {
    float r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return np_sum(a, n2) + np_sum(a + n2, n - n2);
}

AutoTokenizer load_tokenizer(const std::string& dir, const PipelineOptions& o) {
  return AutoTokenizer::from_pretrained(o.tokenizer.empty() ? dir : o.tokenizer, o.model_options.hub_options());
}

}  // namespace pipelines
}  // namespace cppformers
