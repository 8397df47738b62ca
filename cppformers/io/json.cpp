#include "cppformers/io/json.hpp"

#include <cerrno>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppformers/core/error.hpp"

namespace cppformers::io {

using json = nlohmann::json;

nlohmann::json parse_json(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line L, column C: ...";
    // keep the part from "parse error" on, which carries the position.
    std::string what = e.what();
    size_t at = what.find("parse error");
    throw FormatError(file + ": invalid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  } catch (const json::exception& e) {
    throw FormatError(file + ": invalid JSON: " + e.what());
  }
}

nlohmann::json read_json_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw IOError(path + ": cannot read JSON file: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot open JSON file: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IOError(path + ": error reading JSON file");
  return parse_json(ss.str(), path);
}

namespace {

// The value of obj[key], or nullptr when absent or null.
const json* lookup(const json& obj, const std::string& key, const std::string& file) {
  if (!obj.is_object())
    throw FormatError(file + ": expected a JSON object holding key '" + key + "', got " +
                      obj.type_name());
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// "string \"abc\"", "number 1.5", "array", ...: the JSON type, and the value if it is short.
std::string describe(const json& v) {
  std::string s = v.type_name();
  if (v.is_primitive()) {
    std::string d = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (d.size() > 40) d = d.substr(0, 37) + "...";
    s += " " + d;
  }
  return s;
}

[[noreturn]] void wrong(const std::string& file, const std::string& key, const char* expected,
                        const std::string& got) {
  throw FormatError(file + ": key '" + key + "' should be " + expected + ", got " + got);
}

// v as an int64 if it is an integer (a float with no fractional part counts; a bool does not).
bool to_int64(const json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(INT64_MAX)) return false;
    *out = int64_t(u);
    return true;
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    // [-2^63, 2^63) is exactly representable at the ends; anything else would overflow.
    if (!std::isfinite(d) || std::floor(d) != d || d < -9223372036854775808.0 ||
        d >= 9223372036854775808.0)
      return false;
    *out = int64_t(d);
    return true;
  }
  return false;
}

bool to_double(const json& v, double* out) {
  if (!v.is_number()) return false;  // booleans are not numbers in nlohmann::json
  *out = v.get<double>();
  return true;
}

}  // namespace

template <>
bool json_get<bool>(const json& obj, const std::string& key, const bool& def,
                    const std::string& file) {
  const json* v = lookup(obj, key, file);
  if (!v) return def;
  if (!v->is_boolean()) wrong(file, key, "a boolean", describe(*v));
  return v->get<bool>();
}

template <>
int64_t json_get<int64_t>(const json& obj, const std::string& key, const int64_t& def,
                          const std::string& file) {
  const json* v = lookup(obj, key, file);
  if (!v) return def;
  int64_t r;
  if (!to_int64(*v, &r)) wrong(file, key, "an integer", describe(*v));
  return r;
}

template <>
int json_get<int>(const json& obj, const std::string& key, const int& def,
                  const std::string& file) {
  const json* v = lookup(obj, key, file);
  if (!v) return def;
  int64_t r;
  if (!to_int64(*v, &r) || r < INT_MIN || r > INT_MAX)
    wrong(file, key, "a 32-bit integer", describe(*v));
  return int(r);
}

template <>
double json_get<double>(const json& obj, const std::string& key, const double& def,
                        const std::string& file) {
  const json* v = lookup(obj, key, file);
  if (!v) return def;
  double r;
  if (!to_double(*v, &r)) wrong(file, key, "a number", describe(*v));
  return r;
}

template <>
float json_get<float>(const json& obj, const std::string& key, const float& def,
                      const std::string& file) {
  const json* v = lookup(obj, key, file);
  if (!v) return def;
  double r;
  if (!to_double(*v, &r) || (std::isfinite(r) && std::fabs(r) > double(FLT_MAX)))
    wrong(file, key, "a number in float range", describe(*v));
  return float(r);
}

template <>
std::string json_get<std::string>(const json& obj, const std::string& key,
                                  const std::string& def, const std::string& file) {
  const json* v = lookup(obj, key, file);
  if (!v) return def;
  if (!v->is_string()) wrong(file, key, "a string", describe(*v));
  return v->get<std::string>();
}

template <>
std::vector<int64_t> json_get<std::vector<int64_t>>(const json& obj, const std::string& key,
                                                    const std::vector<int64_t>& def,
                                                    const std::string& file) {
  const json* v = lookup(obj, key, file);
  if (!v) return def;
  if (!v->is_array()) wrong(file, key, "a list of integers", describe(*v));
  std::vector<int64_t> out;
  out.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    int64_t x;
    if (!to_int64((*v)[i], &x))
      wrong(file, key, "a list of integers",
            "array with " + describe((*v)[i]) + " at index " + std::to_string(i));
    out.push_back(x);
  }
  return out;
}

template <>
std::vector<std::string> json_get<std::vector<std::string>>(
    const json& obj, const std::string& key, const std::vector<std::string>& def,
    const std::string& file) {
  const json* v = lookup(obj, key, file);
  if (!v) return def;
  if (!v->is_array()) wrong(file, key, "a list of strings", describe(*v));
  std::vector<std::string> out;
  out.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string())
      wrong(file, key, "a list of strings",
            "array with " + describe((*v)[i]) + " at index " + std::to_string(i));
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

}  // namespace cppformers::io
