#pragma once
// Qwen2: a member of the Llama family (models/llama). Differs from Llama in biases on q/k/v (not o) and an optional sliding window.
#include "cppformers/models/llama/config.hpp"

namespace cppformers {

// Parses a qwen2 config.json into the LlamaConfig that runs it, with Qwen2Config's defaults.
LlamaConfig qwen2_config_from_json(const nlohmann::json& j, const std::string& file);

}  // namespace cppformers
