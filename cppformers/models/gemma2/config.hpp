#pragma once
// Gemma2: a member of the Llama family (models/llama). Gemma plus logit soft-capping, a sliding window on every other layer, norms around attention and MLP outputs and a query_pre_attn_scalar softmax scale.
#include "cppformers/models/llama/config.hpp"

namespace cppformers {

// Parses a gemma2 config.json into the LlamaConfig that runs it, with Gemma2Config's defaults.
LlamaConfig gemma2_config_from_json(const nlohmann::json& j, const std::string& file);

}  // namespace cppformers
