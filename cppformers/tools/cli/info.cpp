// cppformers info DIR_OR_ID [--json] [--revision R] [--token T] [--cache-dir D] [--local-files-only]
// What a model is, without loading its weights: architecture, model_type, parameter count and
// dtypes (from the safetensors headers; shards too), max length, labels, and the model card's
// license, pipeline_tag and base_model. For a Hub id only the small files are fetched; the
// headers of uncached weights are read with Range requests (see io/model_info.hpp).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cppformers/io/model_info.hpp"
#include "cppformers/tools/cli/command.hpp"

namespace cppformers::cli {
namespace {

struct InfoArgs {
  std::string id;
  io::HubOptions hub;
  bool json_out = false;
};

// 135971 -> "135,971 (136.0K)"
std::string count_text(uint64_t n) {
  std::string digits = std::to_string(n), grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  const char* units[] = {"", "K", "M", "B", "T"};
  double v = double(n);
  int u = 0;
  while (v >= 1000 && u < 4) v /= 1000, ++u;
  if (u == 0) return grouped;
  char buf[32];
  std::snprintf(buf, sizeof buf, " (%.1f%s)", v, units[u]);
  return grouped + buf;
}

std::string text_of(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + text_of(x);
    return s.empty() ? "-" : s;
  }
  return v.dump();
}

int run_info(const InfoArgs& a) {
  const io::ModelInfo info = io::model_info(a.id, a.hub);
  if (a.json_out) {
    std::printf("%s\n", info.to_json().dump().c_str());
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("model", info.repo_id.empty() ? info.folder : info.repo_id + " @ " + info.commit);
  if (!info.repo_id.empty()) rows.emplace_back("folder", info.folder);
  std::string arch;
  for (const auto& x : info.architectures) arch += (arch.empty() ? "" : ", ") + x;
  rows.emplace_back("architecture", arch.empty() ? "-" : arch);
  rows.emplace_back("model_type", info.model_type.empty() ? "-" : info.model_type);
  rows.emplace_back("parameters", info.parameters ? count_text(*info.parameters) : "- (no safetensors weights read)");
  std::string dtypes;
  for (auto& [d, n] : info.parameters_by_dtype) dtypes += (dtypes.empty() ? "" : ", ") + d + " " + count_text(n);
  if (!info.torch_dtype.empty()) dtypes += (dtypes.empty() ? "" : "; ") + std::string("torch_dtype ") + info.torch_dtype;
  rows.emplace_back("dtypes", dtypes.empty() ? "-" : dtypes);
  std::string weights;
  for (const auto& f : info.weight_files) weights += (weights.empty() ? "" : ", ") + f;
  rows.emplace_back("weights", weights.empty() ? "-" : weights);
  std::string len = info.max_length ? std::to_string(*info.max_length) : "-";
  std::vector<std::string> from;
  if (info.model_max_length) from.push_back("model_max_length " + std::to_string(*info.model_max_length));
  if (info.max_position_embeddings) from.push_back(info.max_position_key + " " + std::to_string(*info.max_position_embeddings));
  for (size_t i = 0; i < from.size(); ++i) len += (i ? "; " : " (") + from[i] + (i + 1 == from.size() ? ")" : "");
  rows.emplace_back("max length", len);
  std::string labels;
  if (info.labels.is_object()) {
    std::vector<std::pair<long long, std::string>> sorted;
    for (auto& [k, v] : info.labels.items()) {
      long long id = 0;
      try {
        id = std::stoll(k);
      } catch (const std::exception&) {
      }
      sorted.emplace_back(id, k + ": " + text_of(v));
    }
    std::stable_sort(sorted.begin(), sorted.end(), [](auto& x, auto& y) { return x.first < y.first; });
    for (auto& [id, s] : sorted) labels += (labels.empty() ? "" : ", ") + s;
  }
  rows.emplace_back("labels", labels.empty() ? "-" : labels);
  rows.emplace_back("license", text_of(info.license));
  rows.emplace_back("pipeline_tag", text_of(info.pipeline_tag));
  rows.emplace_back("base_model", text_of(info.base_model));
  for (auto& [k, v] : rows) std::printf("%-13s %s\n", (k + ":").c_str(), v.c_str());
  return 0;
}

CommandRegistration reg{{"info", "Describe a model folder or Hub id without loading it (architecture, parameters, "
                                 "dtypes, max length, labels, model card)",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<InfoArgs>();
                           app.add_option("model", a->id, "model folder or Hub id (org/name)")->required();
                           app.add_flag("--json", a->json_out, "one JSON object (for scripts) instead of lines");
                           add_hub_options(app, a->hub);
                           add_progress_options(app);
                           return [a] { return run_info(*a); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
