#pragma once
// What a model is, without loading it: `cppformers info`. From config.json, tokenizer_config.json,
// the safetensors headers (never the weights) and the model card's YAML front matter, of a
// local folder or of a Hub id. For a Hub id only the small files are fetched into the cache;
// the headers of weights that are not cached are read from the Hub with Range requests, as
// huggingface_hub's get_safetensors_metadata does.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/io/hub.hpp"

namespace cppformers::io {

struct ModelInfo {
  std::string source;   // as asked: a folder or a Hub id
  std::string folder;   // the local folder read (a Hub id's snapshot)
  std::string repo_id;  // a Hub id, or "" for a local folder
  std::string commit;   // the snapshot's commit, for a Hub id
  std::vector<std::string> architectures;
  std::string model_type, torch_dtype;
  std::vector<std::string> weight_files;          // safetensors files (shards in index order)
  std::optional<uint64_t> parameters;             // elements of every tensor; unset without weights
  std::map<std::string, uint64_t> parameters_by_dtype;  // safetensors dtype names: F32, BF16, ...
  std::optional<int64_t> max_position_embeddings;  // or n_positions / n_ctx / max_target_positions
  std::string max_position_key;                    // which of those config.json has
  std::optional<int64_t> model_max_length;         // tokenizer_config.json (unset: none, or "no limit")
  std::optional<int64_t> max_length;               // model_max_length, else max_position_embeddings
  nlohmann::json labels;                           // config.json's id2label as it is, or null
  nlohmann::json card;                             // the model card's front matter ({} if none)
  nlohmann::json license, pipeline_tag, base_model;  // from the card; base_model may be a list; null if absent

  nlohmann::json to_json() const;
};

// Throws IOError when the folder or id does not exist (or, offline, is not cached), or holds
// neither config.json nor safetensors weights; FormatError for a malformed file.
ModelInfo model_info(const std::string& id_or_dir, const HubOptions& opts = {});

// Elements per dtype ("F32" -> n) of the tensors in a safetensors header (the JSON after the
// 8-byte length). Validates what it reads: FormatError naming `where`.
std::map<std::string, uint64_t> safetensors_header_counts(const std::string& header_json, const std::string& where);

}  // namespace cppformers::io
