#include "cppformers/pipelines/zero_shot_classification.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/core/logging.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

ZeroShotClassificationPipeline::ZeroShotClassificationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tok,
                                                               int64_t batch_size)
    : Pipeline("zero-shot-classification", std::move(model), std::move(tok), batch_size) {
  if (entailment_id() < 0)
    log_warning("zero-shot-classification: could not find an 'entailment' label in the model's label2id; "
                "using -1 (the last label)");
}

int64_t ZeroShotClassificationPipeline::entailment_id() const {
  for (const auto& [label, id] : model_->config().label2id) {
    std::string l = label;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    if (l.rfind("entail", 0) == 0) return id;
  }
  return -1;
}

static std::string format_template(const std::string& tmpl, const std::string& label) {
  const size_t at = tmpl.find("{}");
  if (at == std::string::npos)
    throw ValueError("zero-shot-classification: the hypothesis_template '" + tmpl +
                     "' has no '{}' for the label (Python's str.format)");
  return tmpl.substr(0, at) + label + tmpl.substr(at + 2);
}

ZeroShotResult ZeroShotClassificationPipeline::classify(const std::string& sequence,
                                                        const std::vector<std::string>& labels,
                                                        const std::string& hypothesis_template, bool multi_label) {
  if (labels.empty()) throw ValueError("zero-shot-classification: you must include at least one label");
  const int64_t n_labels = model_->config().num_labels();
  int64_t entail = entailment_id();
  if (entail < 0) entail = n_labels - 1;
  const int64_t contra = entail == 0 ? n_labels - 1 : 0;
  std::vector<float> entail_logit, contra_logit;
  autograd::NoGradGuard no_grad;
  for (const std::string& label : labels) {  // one pair at a time, as Python's ChunkPipeline
    Batch b = encode({{sequence, format_template(hypothesis_template, label)}}, "only_first");
    const Tensor logits = model_->forward(b.inputs).logits.contiguous();
    const float* p = logits.data<float>();
    entail_logit.push_back(p[entail]);
    contra_logit.push_back(p[contra]);
  }
  // numpy float32 exp without max-subtraction, as Python's postprocess
  std::vector<float> scores(labels.size());
  if (!multi_label && labels.size() != 1) {
    float sum = 0;
    for (size_t i = 0; i < labels.size(); ++i) sum += (scores[i] = std::exp(entail_logit[i]));
    for (float& s : scores) s /= sum;
  } else {
    for (size_t i = 0; i < labels.size(); ++i) {
      const float e = std::exp(entail_logit[i]), c = std::exp(contra_logit[i]);
      scores[i] = e / (c + e);
    }
  }
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  ZeroShotResult r{sequence, {}, {}};
  for (size_t i : order) {
    r.labels.push_back(labels[i]);
    r.scores.push_back(double(scores[i]));
  }
  return r;
}

json ZeroShotClassificationPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"candidate_labels", "hypothesis_template", "multi_label", "batch_size", "truncation"});
  std::vector<std::string> labels;
  if (!kwargs.contains("candidate_labels")) throw ValueError("zero-shot-classification: 'candidate_labels' is required");
  const json& cl = kwargs["candidate_labels"];
  if (cl.is_string()) {  // "a, b,c": split on commas and stripped
    const std::string s = cl.get<std::string>();
    size_t at = 0;
    while (at <= s.size()) {
      size_t end = s.find(',', at);
      if (end == std::string::npos) end = s.size();
      std::string part = s.substr(at, end - at);
      const size_t b = part.find_first_not_of(" \t\n\r"), e = part.find_last_not_of(" \t\n\r");
      if (b != std::string::npos) labels.push_back(part.substr(b, e - b + 1));
      at = end + 1;
    }
  } else {
    labels = kwarg<std::vector<std::string>>(kwargs, "candidate_labels", {});
  }
  const std::string tmpl = kwarg<std::string>(kwargs, "hypothesis_template", "This example is {}.");
  const bool multi = kwarg<bool>(kwargs, "multi_label", false);
  auto one = [&](const json& x) -> json {
    if (!x.is_string()) throw ValueError("zero-shot-classification: inputs must be strings");
    return classify(x.get<std::string>(), labels, tmpl, multi).to_json();
  };
  if (!inputs.is_array()) return one(inputs);
  json out = json::array();
  ProgressBar bar = progress_bar(inputs.size(), kwarg<int64_t>(kwargs, "batch_size", 0));
  for (const json& x : inputs) out.push_back(one(x)), bar.update();
  return out;
}

namespace pipelines {
std::unique_ptr<Pipeline> make_zero_shot_classification(const std::string& dir, const PipelineOptions& o) {
  return std::make_unique<ZeroShotClassificationPipeline>(
      AutoModelForSequenceClassification::from_pretrained(dir, o.model_options), load_tokenizer(dir, o), o.batch_size);
}
}  // namespace pipelines

}  // namespace cppformers
