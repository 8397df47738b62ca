#pragma once
// Phi3: a member of the Llama family (models/llama). Differs from Llama in fused qkv_proj and gate_up_proj weights (and LongRoPE scaling).
#include "cppformers/models/llama/config.hpp"

namespace cppformers {

// Parses a phi3 config.json into the LlamaConfig that runs it, with Phi3Config's defaults.
LlamaConfig phi3_config_from_json(const nlohmann::json& j, const std::string& file);

}  // namespace cppformers
