#pragma once
// Typed reading of JSON files (config.json, generation_config.json, index files). Every
// failure names the file and the key: "config.json: key 'hidden_size' should be an integer,
// got string".
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cppformers::io {

// Reads and parses a JSON file. IOError if it cannot be read; FormatError naming the file and
// the parse position (line, column) if it is not valid JSON.
nlohmann::json read_json_file(const std::string& path);

// Parses JSON text; `file` names its origin in the FormatError a malformed text raises.
nlohmann::json parse_json(const std::string& text, const std::string& file);

// obj[key] converted to T, or default_value when the key is absent or null. `file` names the
// file in errors. Wrong types throw FormatError("FILE: key 'KEY' should be TYPE, got JSON_TYPE").
// Defined for T in {bool, int64_t, int, double, float, std::string, std::vector<int64_t>,
// std::vector<std::string>}. Integers are accepted where a floating type is expected; a number
// with a fractional part (or out of range) is refused where an integer is expected, and a
// boolean is never an integer. If `obj` is not an object, FormatError too.
template <class T>
T json_get(const nlohmann::json& obj, const std::string& key, const T& default_value,
           const std::string& file);

template <> bool json_get<bool>(const nlohmann::json&, const std::string&, const bool&,
                                const std::string&);
template <> int64_t json_get<int64_t>(const nlohmann::json&, const std::string&,
                                      const int64_t&, const std::string&);
template <> int json_get<int>(const nlohmann::json&, const std::string&, const int&,
                              const std::string&);
template <> double json_get<double>(const nlohmann::json&, const std::string&, const double&,
                                    const std::string&);
template <> float json_get<float>(const nlohmann::json&, const std::string&, const float&,
                                  const std::string&);
template <> std::string json_get<std::string>(const nlohmann::json&, const std::string&,
                                              const std::string&, const std::string&);
template <> std::vector<int64_t> json_get<std::vector<int64_t>>(
    const nlohmann::json&, const std::string&, const std::vector<int64_t>&, const std::string&);
template <> std::vector<std::string> json_get<std::vector<std::string>>(
    const nlohmann::json&, const std::string&, const std::vector<std::string>&,
    const std::string&);

// So that json_get(obj, "hidden_act", "gelu", file) works with a string-literal default.
inline std::string json_get(const nlohmann::json& obj, const std::string& key,
                            const char* default_value, const std::string& file) {
  return json_get<std::string>(obj, key, std::string(default_value), file);
}

}  // namespace cppformers::io
