#pragma once
// Mistral: a member of the Llama family (models/llama). Differs from Llama in defaults and a sliding attention window.
#include "cppformers/models/llama/config.hpp"

namespace cppformers {

// Parses a mistral config.json into the LlamaConfig that runs it, with MistralConfig's defaults.
LlamaConfig mistral_config_from_json(const nlohmann::json& j, const std::string& file);

}  // namespace cppformers
