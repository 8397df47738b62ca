#include "cppformers/pipelines/text_classification.hpp"

#include <algorithm>
#include <cmath>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

TextClassificationPipeline::TextClassificationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tok,
                                                       int64_t batch_size)
    : Pipeline("text-classification", std::move(model), std::move(tok), batch_size) {}

namespace {

// Python's postprocess, in float32 as numpy computes it. A calibration temperature T (from
// temperature scaling, training/calibration.hpp) divides the logits before softmax / sigmoid.
std::vector<float> apply_function(const float* logits, int64_t n, const std::string& fn, double temperature = 1.0) {
  std::vector<float> out(logits, logits + n);
  if (temperature != 1.0 && (fn == "softmax" || fn == "sigmoid"))
    for (float& v : out) v = float(double(v) / temperature);
  if (fn == "softmax") {
    const float m = *std::max_element(out.begin(), out.end());
    float sum = 0;
    for (float& v : out) sum += (v = std::exp(v - m));
    for (float& v : out) v /= sum;
  } else if (fn == "sigmoid") {
    for (float& v : out) v = 1.0f / (1.0f + std::exp(-v));
  } else if (fn != "none") {
    throw ValueError("text-classification: function_to_apply must be 'softmax', 'sigmoid' or 'none', got '" + fn + "'");
  }
  return out;
}

std::vector<tokenizers::EncodeInput> as_inputs(const json& inputs, bool* single, bool* is_dict) {
  auto one = [](const json& x) -> tokenizers::EncodeInput {
    if (x.is_string()) return {x.get<std::string>(), std::nullopt};
    if (x.is_object() && x.contains("text") && x["text"].is_string()) {
      tokenizers::EncodeInput in{x["text"].get<std::string>(), std::nullopt};
      if (x.contains("text_pair") && !x["text_pair"].is_null()) {
        if (!x["text_pair"].is_string()) throw ValueError("text-classification: 'text_pair' must be a string");
        in.text_pair = x["text_pair"].get<std::string>();
      }
      return in;
    }
    throw ValueError("text-classification: an input must be a string or {\"text\": ..., \"text_pair\": ...}, got " +
                     x.dump().substr(0, 80));
  };
  *single = !inputs.is_array();
  *is_dict = inputs.is_object();
  std::vector<tokenizers::EncodeInput> out;
  if (inputs.is_array())
    for (const json& x : inputs) out.push_back(one(x));
  else
    out.push_back(one(inputs));
  return out;
}

}  // namespace

std::vector<std::vector<LabelScore>> TextClassificationPipeline::classify(const std::vector<tokenizers::EncodeInput>& inputs,
                                                                          const std::string& fn0, bool truncation,
                                                                          int64_t batch_size) {
  const PretrainedConfig& cfg = model_->config();
  std::string fn = fn0;
  if (fn.empty()) {
    if (cfg.problem_type == "multi_label_classification" || cfg.num_labels() == 1) fn = "sigmoid";
    else if (cfg.problem_type == "regression") fn = "none";
    else fn = "softmax";
  }
  // config.json's "calibration_temperature" (written by `cppformers train --calibrate`).
  double temperature = 1.0;
  if (cfg.extra.is_object() && cfg.extra.contains("calibration_temperature") &&
      !cfg.extra["calibration_temperature"].is_null()) {
    const json& t = cfg.extra["calibration_temperature"];
    if (!t.is_number() || !(t.get<double>() > 0))
      throw FormatError(cfg.source + ": key 'calibration_temperature' should be a positive number");
    temperature = t.get<double>();
  }
  const int64_t bs = std::max<int64_t>(1, batch_size > 0 ? batch_size : batch_size_);
  std::vector<std::vector<LabelScore>> results;
  autograd::NoGradGuard no_grad;
  ProgressBar bar = progress_bar(inputs.size(), bs);
  for (size_t at = 0; at < inputs.size(); at += size_t(bs)) {
    std::vector<tokenizers::EncodeInput> chunk(inputs.begin() + at, inputs.begin() + std::min(inputs.size(), at + bs));
    Batch b = encode(chunk, truncation ? "longest_first" : "");
    Tensor logits = model_->forward(b.inputs).logits.contiguous();
    const int64_t n = logits.size(-1);
    const float* p = logits.data<float>();
    for (size_t i = 0; i < chunk.size(); ++i) {
      std::vector<float> scores = apply_function(p + i * n, n, fn, temperature);
      std::vector<LabelScore> row;
      for (int64_t k = 0; k < n; ++k) {
        auto it = cfg.id2label.find(k);
        row.push_back({it != cfg.id2label.end() ? it->second : "LABEL_" + std::to_string(k), double(scores[k])});
      }
      std::stable_sort(row.begin(), row.end(), [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
      results.push_back(std::move(row));
    }
    bar.update(chunk.size());
  }
  return results;
}

std::vector<LabelScore> TextClassificationPipeline::operator()(const std::string& text, int64_t top_k) {
  auto row = classify({{text, std::nullopt}})[0];
  if (top_k >= 0 && size_t(top_k) < row.size()) row.resize(size_t(top_k));
  return row;
}

json TextClassificationPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"top_k", "function_to_apply", "truncation", "batch_size", "padding", "max_length",
                        "return_all_scores"});
  bool single = false, is_dict = false;
  const auto ins = as_inputs(inputs, &single, &is_dict);
  const bool legacy = !kwargs.contains("top_k") && !kwarg<bool>(kwargs, "return_all_scores", false);
  int64_t top_k = -1;  // all
  if (kwargs.contains("top_k") && !kwargs["top_k"].is_null()) top_k = kwarg<int64_t>(kwargs, "top_k", 1);
  const bool truncation = kwargs.contains("truncation") && kwargs["truncation"] != false;
  const auto rows = classify(ins, kwarg<std::string>(kwargs, "function_to_apply", ""), truncation,
                             kwarg<int64_t>(kwargs, "batch_size", 0));
  auto render = [&](const std::vector<LabelScore>& row) -> json {
    if (legacy) return row.front().to_json();
    json list = json::array();
    for (size_t k = 0; k < row.size() && (top_k < 0 || int64_t(k) < top_k); ++k) list.push_back(row[k].to_json());
    return list;
  };
  if (single) {
    json r = render(rows[0]);
    return (legacy && !is_dict) ? json::array({r}) : r;  // a str input is wrapped in a list
  }
  json out = json::array();
  for (const auto& row : rows) out.push_back(render(row));
  return out;
}

namespace pipelines {
std::unique_ptr<Pipeline> make_text_classification(const std::string& dir, const PipelineOptions& o) {
  return std::make_unique<TextClassificationPipeline>(AutoModelForSequenceClassification::from_pretrained(dir, o.model_options),
                                                      load_tokenizer(dir, o), o.batch_size);
}
}  // namespace pipelines

}  // namespace cppformers
