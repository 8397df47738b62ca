#pragma once
// The metadata of a model card (a repository's README.md): the YAML block between '---' lines at
// its top, as huggingface_hub's ModelCard.load(...).data reads it (license, pipeline_tag,
// base_model, tags, datasets, ...). Parsed with libyaml, the parser PyYAML is built on.
#include <string>

#include <nlohmann/json.hpp>

namespace cppformers::io {

// The front matter of `text` as JSON: mappings -> objects, sequences -> arrays, plain scalars
// resolved as PyYAML's safe_load resolves them (null/~/empty, true/false/yes/no/on/off,
// integers, floats), every other scalar a string. No front matter: an empty object. YAML that
// does not parse, or whose top level is not a mapping, is a FormatError naming `where`.
nlohmann::json parse_model_card_metadata(const std::string& text, const std::string& where);

// The same from a README.md file (IOError if it cannot be read).
nlohmann::json read_model_card_metadata(const std::string& path);

}  // namespace cppformers::io
