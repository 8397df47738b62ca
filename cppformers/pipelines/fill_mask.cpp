#include "cppformers/pipelines/fill_mask.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/softmax.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

FillMaskPipeline::FillMaskPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tok, int64_t batch_size)
    : Pipeline("fill-mask", std::move(model), std::move(tok), batch_size) {}

std::vector<int64_t> FillMaskPipeline::target_ids(const std::vector<std::string>& targets) const {
  std::set<int64_t> ids;  // Python dedups (list(set(...)))
  for (const std::string& t : targets) {
    if (auto id = tokenizer_->token_to_id(t)) {
      ids.insert(*id);
      continue;
    }
    // not a vocabulary entry: its first token, as Python does (with a warning)
    const std::vector<int64_t> pieces = tokenizer_->encode(t, false);
    if (pieces.empty()) continue;
    ids.insert(pieces[0]);
  }
  if (ids.empty()) throw ValueError("fill-mask: at least one target must be provided when passed");
  return {ids.begin(), ids.end()};
}

std::vector<std::vector<MaskFill>> FillMaskPipeline::fill(const std::string& text, int64_t top_k,
                                                          const std::vector<std::string>& targets, bool truncation) {
  if (!tokenizer_->mask_token) throw ValueError("fill-mask: the tokenizer has no mask token");
  const auto mask_id = tokenizer_->token_to_id(*tokenizer_->mask_token);
  if (!mask_id) throw ValueError("fill-mask: mask token '" + *tokenizer_->mask_token + "' is not in the vocabulary");
  Batch b = encode({{text, std::nullopt}}, truncation ? "longest_first" : "");
  const std::vector<int64_t> ids = b.inputs.input_ids.to_vector<int64_t>();
  std::vector<size_t> masks;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == *mask_id) masks.push_back(i);
  if (masks.empty()) throw ValueError("No mask_token (" + *tokenizer_->mask_token + ") found on the input");
  std::vector<int64_t> candidates;
  if (!targets.empty()) {
    candidates = target_ids(targets);
    top_k = std::min<int64_t>(top_k, int64_t(candidates.size()));
  }
  Tensor probs;
  {
    autograd::NoGradGuard no_grad;
    probs = ops::softmax(model_->forward(b.inputs).logits.select(0, 0), -1).contiguous();  // [seq, vocab]
  }
  const int64_t V = probs.size(-1);
  const float* p = probs.data<float>();
  const bool single = masks.size() == 1;
  const auto pad = tokenizer_->pad_token_id();
  std::vector<std::vector<MaskFill>> result;
  for (size_t pos : masks) {
    const float* row = p + pos * V;
    std::vector<int64_t> order = candidates;
    if (order.empty()) {
      order.resize(size_t(V));
      std::iota(order.begin(), order.end(), 0);
    }
    const int64_t k = std::min<int64_t>(top_k, int64_t(order.size()));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b2) { return row[a] > row[b2] || (row[a] == row[b2] && a < b2); });
    std::vector<MaskFill> fills;
    for (int64_t j = 0; j < k; ++j) {
      std::vector<int64_t> tokens;
      for (size_t i = 0; i < ids.size(); ++i) {
        const int64_t t = i == pos ? order[j] : ids[i];
        if (!pad || t != *pad) tokens.push_back(t);
      }
      fills.push_back({double(row[order[j]]), order[j], tokenizer_->decode({order[j]}),
                       tokenizer_->decode(tokens, /*skip_special_tokens=*/single)});
    }
    result.push_back(std::move(fills));
  }
  return result;
}

json FillMaskPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"top_k", "targets", "tokenizer_kwargs", "batch_size"});
  const int64_t top_k = kwarg<int64_t>(kwargs, "top_k", 5);
  std::vector<std::string> targets;
  if (kwargs.contains("targets") && !kwargs["targets"].is_null()) {
    if (kwargs["targets"].is_string()) targets = {kwargs["targets"].get<std::string>()};
    else targets = kwarg<std::vector<std::string>>(kwargs, "targets", {});
  }
  bool truncation = false;
  if (kwargs.contains("tokenizer_kwargs") && kwargs["tokenizer_kwargs"].is_object())
    truncation = kwargs["tokenizer_kwargs"].value("truncation", false);
  auto one = [&](const json& x) -> json {
    if (!x.is_string()) throw ValueError("fill-mask: inputs must be strings, got " + x.dump().substr(0, 80));
    const auto res = fill(x.get<std::string>(), top_k, targets, truncation);
    json out = json::array();
    for (const auto& fills : res) {
      json row = json::array();
      for (const auto& f : fills) row.push_back(f.to_json());
      out.push_back(row);
    }
    return res.size() == 1 ? out[0] : out;
  };
  if (!inputs.is_array()) return one(inputs);
  json out = json::array();
  ProgressBar bar = progress_bar(inputs.size(), kwarg<int64_t>(kwargs, "batch_size", 0));
  for (const json& x : inputs) out.push_back(one(x)), bar.update();
  return inputs.size() == 1 ? out[0] : out;
}

namespace pipelines {
std::unique_ptr<Pipeline> make_fill_mask(const std::string& dir, const PipelineOptions& o) {
  return std::make_unique<FillMaskPipeline>(AutoModelForMaskedLM::from_pretrained(dir, o.model_options),
                                            load_tokenizer(dir, o), o.batch_size);
}
}  // namespace pipelines

}  // namespace cppformers
