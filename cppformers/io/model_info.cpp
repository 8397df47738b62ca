#include "cppformers/io/model_info.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "cppformers/core/error.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/io/model_card.hpp"

namespace cppformers::io {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxHeaderBytes = 100000000;  // the safetensors format's own limit
constexpr uint64_t kFirstRead = 100000;          // one request covers most headers (as huggingface_hub)

uint64_t le64(const std::string& b) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(b[size_t(i)]);
  return n;
}

uint64_t checked_header_length(const std::string& first8, const std::string& where) {
  if (first8.size() < 8) throw FormatError(where + ": shorter than the 8-byte header length that starts a safetensors file");
  const uint64_t n = le64(first8);
  if (n < 2 || n > kMaxHeaderBytes)
    throw FormatError(where + ": header length " + std::to_string(n) + " is not a plausible safetensors header length");
  return n;
}

std::string local_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot read");
  std::string len(8, '\0');
  in.read(len.data(), 8);
  len.resize(size_t(in.gcount()));
  const uint64_t n = checked_header_length(len, path);
  std::string h(size_t(n), '\0');
  in.read(h.data(), std::streamsize(n));
  if (uint64_t(in.gcount()) != n)
    throw FormatError(path + ": header length " + std::to_string(n) + " runs past the end of the file");
  return h;
}

std::string remote_header(const std::string& repo, const std::string& file, const HubOptions& opts) {
  const std::string where = "'" + file + "' of '" + repo + "' on the Hub";
  std::string first = hf_hub_read_range(repo, file, 0, kFirstRead, opts);
  const uint64_t n = checked_header_length(first, where);
  if (8 + n <= first.size()) return first.substr(8, size_t(n));
  std::string h = first.substr(8);
  h += hf_hub_read_range(repo, file, first.size(), 8 + n - first.size(), opts);
  if (h.size() != n) throw FormatError(where + ": header length " + std::to_string(n) + " runs past the end of the file");
  return h;
}

std::optional<int64_t> int_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
  return j[key].get<int64_t>();
}

json read_if_there(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return json();
  return read_json_file(p.string());
}

// The weight files of a folder: the index's shards, else model.safetensors, else every
// top-level *.safetensors (sorted).
std::vector<std::string> local_weight_files(const fs::path& dir) {
  std::error_code ec;
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::is_regular_file(index, ec)) {
    json idx = read_json_file(index.string());
    if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
      throw FormatError(index.string() + ": key 'weight_map' should be an object {tensor: shard file}");
    std::vector<std::string> shards;
    std::set<std::string> seen;
    for (auto& [k, v] : idx["weight_map"].items()) {
      if (!v.is_string()) throw FormatError(index.string() + ": key 'weight_map." + k + "' should be a string");
      if (seen.insert(v.get<std::string>()).second) shards.push_back(v.get<std::string>());
    }
    std::sort(shards.begin(), shards.end());
    return shards;
  }
  if (fs::exists(dir / "model.safetensors", ec)) return {"model.safetensors"};
  std::vector<std::string> out;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->path().extension() == ".safetensors") out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::map<std::string, uint64_t> safetensors_header_counts(const std::string& header_json, const std::string& where) {
  json h;
  try {
    h = json::parse(header_json, [&](int depth, json::parse_event_t, json&) {
      if (depth > 4) throw FormatError(where + ": header JSON nests deeper than a safetensors header does");
      return true;
    });
  } catch (const json::exception& e) {
    throw FormatError(where + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!h.is_object()) throw FormatError(where + ": header should be a JSON object {name: {dtype, shape, data_offsets}}");
  std::map<std::string, uint64_t> counts;
  for (auto& [name, v] : h.items()) {
    if (name == "__metadata__") continue;
    const std::string t = where + ": tensor '" + name + "'";
    if (!v.is_object() || !v.contains("dtype") || !v["dtype"].is_string() || !v.contains("shape") || !v["shape"].is_array())
      throw FormatError(t + " should be an object with a string 'dtype' and a 'shape' list");
    uint64_t n = 1;
    for (const json& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        throw FormatError(t + ": 'shape' should hold non-negative integers, got " + v["shape"].dump());
      if (__builtin_mul_overflow(n, d.get<uint64_t>(), &n)) throw FormatError(t + ": its element count overflows");
    }
    uint64_t& c = counts[v["dtype"].get<std::string>()];
    if (__builtin_add_overflow(c, n, &c)) throw FormatError(where + ": the element count overflows");
  }
  return counts;
}

ModelInfo model_info(const std::string& id_or_dir, const HubOptions& opts) {
  ModelInfo info;
  info.source = id_or_dir;
  std::error_code ec;
  const bool local = fs::is_directory(id_or_dir, ec);
  if (local) {
    info.folder = id_or_dir;
  } else {
    // Only the small files; a cached snapshot that has them all is used without a request.
    HubOptions small = opts;
    small.allow_patterns = {"config.json", "tokenizer_config.json", "README.md", "model.safetensors.index.json"};
    info.folder = resolve_model(id_or_dir, small);
    info.repo_id = id_or_dir;
    info.commit = fs::path(info.folder).filename().string();
  }
  const fs::path dir(info.folder);

  const json config = read_if_there(dir / "config.json");
  const std::string cfg_file = (dir / "config.json").string();
  if (!config.is_null()) {
    if (!config.is_object()) throw FormatError(cfg_file + ": expected a JSON object");
    info.architectures = json_get<std::vector<std::string>>(config, "architectures", {}, cfg_file);
    info.model_type = json_get<std::string>(config, "model_type", "", cfg_file);
    info.torch_dtype = json_get<std::string>(config, "torch_dtype", "", cfg_file);
    for (const json* c : {&config, config.contains("text_config") ? &config["text_config"] : nullptr}) {
      if (!c) continue;
      for (const char* key : {"max_position_embeddings", "n_positions", "n_ctx", "max_target_positions"})
        if (auto v = int_field(*c, key)) {
          info.max_position_embeddings = v;
          info.max_position_key = (c == &config ? "" : "text_config.") + std::string(key);
          break;
        }
      if (info.max_position_embeddings) break;
    }
    if (config.contains("id2label") && config["id2label"].is_object()) info.labels = config["id2label"];
  }
  const json tok_cfg = read_if_there(dir / "tokenizer_config.json");
  if (tok_cfg.is_object() && tok_cfg.contains("model_max_length")) {
    const json& m = tok_cfg["model_max_length"];
    // transformers writes int(1e30) (VERY_LARGE_INTEGER) for "no limit".
    if (m.is_number_integer() && m.get<double>() < 1e15) info.model_max_length = m.get<int64_t>();
  }
  info.max_length = info.model_max_length ? info.model_max_length : info.max_position_embeddings;

  // Weights: their headers only.
  std::vector<std::string> files = local_weight_files(dir);
  const bool offline = opts.local_files_only || hub_offline();
  if (files.empty() && !local && !offline) files = {"model.safetensors"};  // the usual single file, if the Hub has it
  uint64_t total = 0;
  for (const std::string& f : files) {
    const fs::path p = dir / f;
    std::string header;
    if (fs::exists(p, ec)) {
      header = local_header(p.string());
    } else if (!local && offline) {
      continue;  // not cached, and no request allowed: the count stays unknown
    } else if (!local) {
      check_repo_filename(f);
      try {
        HubOptions at_commit = opts;
        at_commit.revision = info.commit;
        header = remote_header(id_or_dir, f, at_commit);
      } catch (const HubError& e) {
        if (e.status() == 404 && files.size() == 1 && !fs::exists(dir / "model.safetensors.index.json", ec)) break;
        throw;
      }
    } else {
      throw IOError(p.string() + ": missing (" + (dir / "model.safetensors.index.json").string() + " names it)");
    }
    info.weight_files.push_back(f);
    for (auto& [dtype, n] : safetensors_header_counts(header, local ? p.string() : "'" + f + "' of '" + id_or_dir + "'")) {
      info.parameters_by_dtype[dtype] += n;
      total += n;
    }
  }
  if (!info.weight_files.empty() && info.weight_files.size() == files.size()) info.parameters = total;
  else info.parameters_by_dtype.clear();  // some weights unread (offline, not cached): no partial counts
  if (config.is_null() && info.weight_files.empty())
    throw IOError(info.folder + ": not a model folder (no config.json and no *.safetensors weights)");

  const fs::path readme = dir / "README.md";
  info.card = fs::is_regular_file(readme, ec) ? read_model_card_metadata(readme.string()) : json::object();
  auto card_field = [&](const char* k) { return info.card.contains(k) ? info.card[k] : json(); };
  info.license = card_field("license");
  info.pipeline_tag = card_field("pipeline_tag");
  info.base_model = card_field("base_model");
  return info;
}

json ModelInfo::to_json() const {
  auto opt = [](const auto& v) { return v ? json(*v) : json(); };
  json j;
  j["source"] = source;
  j["folder"] = folder;
  j["repo_id"] = repo_id.empty() ? json() : json(repo_id);
  j["commit"] = commit.empty() ? json() : json(commit);
  j["architectures"] = architectures;
  j["architecture"] = architectures.empty() ? json() : json(architectures[0]);
  j["model_type"] = model_type.empty() ? json() : json(model_type);
  j["torch_dtype"] = torch_dtype.empty() ? json() : json(torch_dtype);
  j["parameters"] = opt(parameters);
  j["parameters_by_dtype"] = parameters_by_dtype;
  std::vector<std::string> dtypes;
  for (auto& [d, n] : parameters_by_dtype) dtypes.push_back(d);
  j["dtypes"] = dtypes;
  j["weight_files"] = weight_files;
  j["max_position_embeddings"] = opt(max_position_embeddings);
  j["model_max_length"] = opt(model_max_length);
  j["max_length"] = opt(max_length);
  j["labels"] = labels;
  j["license"] = license;
  j["pipeline_tag"] = pipeline_tag;
  j["base_model"] = base_model;
  return j;
}

}  // namespace cppformers::io
