#include "cppformers/pipelines/feature_extraction.hpp"

#include <cmath>
#include <filesystem>
#include <functional>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/ops/shape.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {

namespace fs = std::filesystem;

FeatureExtractionPipeline::FeatureExtractionPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tok,
                                                     int64_t batch_size)
    : Pipeline("feature-extraction", std::move(model), std::move(tok), batch_size) {}

Tensor FeatureExtractionPipeline::features(const std::string& text, bool truncation) {
  Batch b = encode({{text, std::nullopt}}, truncation ? "longest_first" : "");
  autograd::NoGradGuard no_grad;
  return model_->forward(b.inputs).last_hidden_state;
}

static json nested(const Tensor& t) {  // a tensor as nested lists of numbers
  const Tensor c = t.contiguous();
  const std::vector<float> v = c.to_vector<float>();
  std::function<json(size_t, size_t)> rec = [&](size_t d, size_t base) -> json {
    json out = json::array();
    const int64_t n = c.shape()[d];
    const int64_t stride = c.strides()[d];
    for (int64_t i = 0; i < n; ++i)
      out.push_back(d + 1 == c.shape().size() ? json(double(v[base + i * stride])) : rec(d + 1, base + i * stride));
    return out;
  };
  return rec(0, 0);
}

json FeatureExtractionPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"tokenize_kwargs", "truncation", "batch_size", "return_tensors"});
  bool truncation = kwargs.contains("truncation") && kwargs["truncation"] != false;
  if (kwargs.contains("tokenize_kwargs") && kwargs["tokenize_kwargs"].is_object())
    truncation = truncation || kwargs["tokenize_kwargs"].value("truncation", false);
  auto one = [&](const json& x) -> json {
    if (!x.is_string()) throw ValueError("feature-extraction: inputs must be strings, got " + x.dump().substr(0, 80));
    return nested(features(x.get<std::string>(), truncation));
  };
  if (!inputs.is_array()) return one(inputs);
  json out = json::array();
  ProgressBar bar = progress_bar(inputs.size(), kwarg<int64_t>(kwargs, "batch_size", 0));
  for (const json& x : inputs) out.push_back(one(x)), bar.update();
  return out;
}

SentenceTransformer::SentenceTransformer(std::shared_ptr<PreTrainedModel> m, AutoTokenizer t)
    : model_(std::move(m)), tokenizer_(std::move(t)) {}

SentenceTransformer SentenceTransformer::from_pretrained(const std::string& dir) {
  SentenceTransformer st(AutoModel::from_pretrained(dir), AutoTokenizer::from_pretrained(dir));
  const fs::path root(dir);
  if (fs::exists(root / "sentence_bert_config.json")) {
    const std::string f = (root / "sentence_bert_config.json").string();
    st.max_seq_length = io::json_get<int64_t>(io::read_json_file(f), "max_seq_length", 512, f);
  }
  if (fs::exists(root / "modules.json")) {
    const std::string f = (root / "modules.json").string();
    const json modules = io::read_json_file(f);
    if (!modules.is_array()) throw FormatError(f + ": expected a list of modules");
    for (const json& m : modules) {
      const std::string type = io::json_get<std::string>(m, "type", "", f);
      const std::string path = io::json_get<std::string>(m, "path", "", f);
      if (type.find("Normalize") != std::string::npos) {
        st.normalize = true;
      } else if (type.find("Pooling") != std::string::npos) {
        const std::string pf = (root / path / "config.json").string();
        const json p = io::read_json_file(pf);
        if (io::json_get<bool>(p, "pooling_mode_cls_token", false, pf)) st.pooling = "cls";
        else if (io::json_get<bool>(p, "pooling_mode_max_tokens", false, pf)) st.pooling = "max";
        else if (io::json_get<bool>(p, "pooling_mode_mean_tokens", false, pf)) st.pooling = "mean";
        else throw NotSupportedError(pf + ": only cls, mean and max pooling are supported");
      } else if (type.find("Transformer") == std::string::npos) {
        throw NotSupportedError(f + ": module type '" + type + "' is not supported");
      }
    }
  }
  return st;
}

Tensor SentenceTransformer::encode(const std::vector<std::string>& texts, int64_t batch_size) {
  std::vector<Tensor> rows;
  autograd::NoGradGuard no_grad;
  for (size_t at = 0; at < texts.size(); at += size_t(std::max<int64_t>(1, batch_size))) {
    std::vector<tokenizers::EncodeInput> chunk;
    for (size_t i = at; i < std::min(texts.size(), at + size_t(batch_size)); ++i) chunk.push_back({texts[i], std::nullopt});
    tokenizers::CallOptions o;
    o.padding = true;
    o.truncation = true;
    o.max_length = size_t(max_seq_length);
    const tokenizers::BatchEncoding be = tokenizer_(chunk, o);
    const int64_t B = int64_t(be.size()), S = int64_t(be.input_ids[0].size());
    std::vector<int64_t> ids, mask, types;
    for (int64_t i = 0; i < B; ++i) {
      ids.insert(ids.end(), be.input_ids[i].begin(), be.input_ids[i].end());
      mask.insert(mask.end(), be.attention_mask[i].begin(), be.attention_mask[i].end());
      if (!be.token_type_ids.empty()) types.insert(types.end(), be.token_type_ids[i].begin(), be.token_type_ids[i].end());
    }
    ModelInputs in;
    in.input_ids = Tensor::from_vector(ids, {B, S});
    in.attention_mask = Tensor::from_vector(mask, {B, S});
    if (int64_t(types.size()) == B * S) in.token_type_ids = Tensor::from_vector(types, {B, S});
    const Tensor h = model_->forward(in).last_hidden_state.contiguous();
    const int64_t H = h.size(-1);
    const float* ph = h.data<float>();
    for (int64_t i = 0; i < B; ++i) {
      std::vector<float> e(size_t(H), pooling == "max" ? -INFINITY : 0.0f);
      float count = 0;
      for (int64_t t = 0; t < S; ++t) {
        if (!mask[i * S + t] || (pooling == "cls" && t > 0)) continue;
        const float* v = ph + (i * S + t) * H;
        for (int64_t d = 0; d < H; ++d) e[d] = pooling == "max" ? std::max(e[d], v[d]) : e[d] + v[d];
        count += 1;
      }
      if (pooling == "mean")
        for (float& x : e) x /= std::max(count, 1e-9f);
      if (normalize) {
        double n2 = 0;
        for (float x : e) n2 += double(x) * x;
        const float n = float(std::max(std::sqrt(n2), 1e-12));
        for (float& x : e) x /= n;
      }
      rows.push_back(Tensor::from_vector(e, {1, H}));
    }
  }
  if (rows.empty()) return Tensor::empty({0, 0});
  return ops::cat(rows, 0);
}

namespace pipelines {
std::unique_ptr<Pipeline> make_feature_extraction(const std::string& dir, const PipelineOptions& o) {
  return std::make_unique<FeatureExtractionPipeline>(AutoModel::from_pretrained(dir, o.model_options),
                                                     load_tokenizer(dir, o), o.batch_size);
}
}  // namespace pipelines

}  // namespace cppformers
