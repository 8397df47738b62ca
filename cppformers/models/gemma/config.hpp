#pragma once
// Gemma: a member of the Llama family (models/llama). Differs from Llama in norms that scale by (1 + weight), embeddings scaled by sqrt(hidden_size), a gelu-tanh MLP and tied embeddings.
#include "cppformers/models/llama/config.hpp"

namespace cppformers {

// Parses a gemma config.json into the LlamaConfig that runs it, with GemmaConfig's defaults.
LlamaConfig gemma_config_from_json(const nlohmann::json& j, const std::string& file);

}  // namespace cppformers
