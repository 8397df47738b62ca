#include "cppformers/pipelines/image_classification.hpp"

#include <algorithm>
#include <cmath>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

namespace {

std::vector<std::string> image_paths(const json& inputs, bool* single, const std::string& task) {
  *single = inputs.is_string();
  std::vector<std::string> out;
  if (inputs.is_string()) out.push_back(inputs.get<std::string>());
  else if (inputs.is_array())
    for (const json& x : inputs) {
      if (!x.is_string()) throw ValueError(task + ": each input must be an image file path, got " + x.dump().substr(0, 80));
      out.push_back(x.get<std::string>());
    }
  else throw ValueError(task + ": the input must be an image file path or a list of them");
  return out;
}

json scores_json(const std::vector<std::pair<std::string, double>>& rows, int64_t top_k) {
  json out = json::array();
  for (size_t i = 0; i < rows.size() && (top_k < 0 || int64_t(i) < top_k); ++i)
    out.push_back(json{{"label", rows[i].first}, {"score", rows[i].second}});
  return out;
}

}  // namespace

ImageClassificationPipeline::ImageClassificationPipeline(std::shared_ptr<PreTrainedModel> model,
                                                         processors::ImageProcessor p)
    : Pipeline("image-classification", std::move(model), std::nullopt, 1), processor(std::move(p)) {}

std::vector<std::pair<std::string, double>> ImageClassificationPipeline::classify(const processors::Image& image,
                                                                                  const std::string& fn0) {
  const PretrainedConfig& cfg = model_->config();
  std::string fn = fn0;
  if (fn.empty()) fn = (cfg.problem_type == "multi_label_classification" || cfg.num_labels() == 1) ? "sigmoid" : "softmax";
  autograd::NoGradGuard no_grad;
  ModelInputs in;
  in.pixel_values = processor(image);
  Tensor logits = model_->forward(in).logits.contiguous();
  const int64_t n = logits.size(-1);
  std::vector<float> s(logits.data<float>(), logits.data<float>() + n);
  if (fn == "softmax") {  // numpy float32
    const float m = *std::max_element(s.begin(), s.end());
    float sum = 0;
    for (float& v : s) sum += (v = std::exp(v - m));
    for (float& v : s) v /= sum;
  } else if (fn == "sigmoid") {
    for (float& v : s) v = 1.0f / (1.0f + std::exp(-v));
  } else if (fn != "none") {
    throw ValueError("image-classification: function_to_apply must be 'softmax', 'sigmoid' or 'none', got '" + fn + "'");
  }
  std::vector<std::pair<std::string, double>> rows;
  for (int64_t k = 0; k < n; ++k) {
    auto it = cfg.id2label.find(k);
    rows.emplace_back(it != cfg.id2label.end() ? it->second : "LABEL_" + std::to_string(k), double(s[size_t(k)]));
  }
  std::stable_sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second > b.second; });
  return rows;
}

json ImageClassificationPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"top_k", "function_to_apply", "timeout", "batch_size"});
  bool single = false;
  auto paths = image_paths(inputs, &single, task_);
  const int64_t top_k = std::min<int64_t>(kwarg<int64_t>(kwargs, "top_k", 5), model_->config().num_labels());
  const std::string fn = kwarg<std::string>(kwargs, "function_to_apply", "");
  json out = json::array();
  ProgressBar bar = progress_bar(paths.size(), kwarg<int64_t>(kwargs, "batch_size", 0));
  for (const auto& p : paths) out.push_back(scores_json(classify(processors::load_image(p), fn), top_k)), bar.update();
  return single ? out[0] : out;
}

ZeroShotImageClassificationPipeline::ZeroShotImageClassificationPipeline(std::shared_ptr<PreTrainedModel> model,
                                                                         AutoTokenizer tok, processors::ImageProcessor p)
    : Pipeline("zero-shot-image-classification", std::move(model), std::move(tok), 1), processor(std::move(p)) {}

std::vector<std::pair<std::string, double>> ZeroShotImageClassificationPipeline::classify(
    const processors::Image& image, const std::vector<std::string>& labels, const std::string& tmpl) {
  if (labels.empty()) throw ValueError("zero-shot-image-classification: give at least one candidate label");
  std::vector<tokenizers::EncodeInput> texts;
  for (const auto& l : labels) {
    std::string t = tmpl;
    const size_t at = t.find("{}");
    if (at != std::string::npos) t.replace(at, 2, l);
    texts.push_back({t, std::nullopt});
  }
  autograd::NoGradGuard no_grad;
  Batch b = encode(texts);
  ModelInputs in;
  in.input_ids = b.inputs.input_ids;
  in.attention_mask = b.inputs.attention_mask;
  in.pixel_values = processor(image);
  Tensor logits = model_->forward(in).logits_per_image;  // [1, n]
  if (!logits.defined()) throw ValueError("zero-shot-image-classification: the model gives no logits_per_image");
  Tensor probs = ops::softmax(logits, -1).contiguous();
  std::vector<std::pair<std::string, double>> rows;
  for (size_t i = 0; i < labels.size(); ++i) rows.emplace_back(labels[i], double(probs.data<float>()[i]));
  std::stable_sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second > b.second; });
  return rows;
}

json ZeroShotImageClassificationPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"candidate_labels", "hypothesis_template", "timeout", "batch_size"});
  bool single = false;
  auto paths = image_paths(inputs, &single, task_);
  std::vector<std::string> labels;
  if (kwargs.contains("candidate_labels")) {
    const json& c = kwargs["candidate_labels"];
    if (c.is_string()) labels.push_back(c.get<std::string>());
    else if (c.is_array())
      for (const json& x : c) labels.push_back(x.get<std::string>());
  }
  const std::string tmpl = kwarg<std::string>(kwargs, "hypothesis_template", "This is a photo of {}.");
  json out = json::array();
  ProgressBar bar = progress_bar(paths.size(), kwarg<int64_t>(kwargs, "batch_size", 0));
  for (const auto& p : paths) {
    json r = json::array();
    for (auto& [label, score] : classify(processors::load_image(p), labels, tmpl))
      r.push_back(json{{"score", score}, {"label", label}});
    out.push_back(r);
    bar.update();
  }
  return single ? out[0] : out;
}

namespace pipelines {
std::unique_ptr<Pipeline> make_image_classification(const std::string& dir, const PipelineOptions& o) {
  return std::make_unique<ImageClassificationPipeline>(AutoModelForImageClassification::from_pretrained(dir, o.model_options),
                                                       processors::ImageProcessor::from_pretrained(dir));
}
std::unique_ptr<Pipeline> make_zero_shot_image_classification(const std::string& dir, const PipelineOptions& o) {
  return std::make_unique<ZeroShotImageClassificationPipeline>(
      AutoModelForZeroShotImageClassification::from_pretrained(dir, o.model_options), load_tokenizer(dir, o),
      processors::ImageProcessor::from_pretrained(dir));
}
}  // namespace pipelines

}  // namespace cppformers
