#pragma once
// Checked access to tokenizer.json fields: every failure is a FormatError that names the file
// and the JSON path ("tokenizer.json: model.merges[3]: expected a string").
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cppformers/core/error.hpp"
#include "cppformers/core/huge_pages.hpp"

namespace cppformers::tokenizers {

using json = nlohmann::json;

namespace jsonutil {

[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
  throw FormatError(where + ": " + what);
}

inline const char* type_name(const json& j) { return j.type_name(); }

inline const json* find(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

inline std::string get_string(const json& obj, const char* key, const std::string& where,
                              const std::string* def = nullptr) {
  const json* v = find(obj, key);
  if (!v) {
    if (def) return *def;
    fail(where + "." + key, "missing (expected a string)");
  }
  if (!v->is_string()) fail(where + "." + key, std::string("expected a string, got ") + type_name(*v));
  return v->get<std::string>();
}

inline std::string get_string_or(const json& obj, const char* key, const std::string& where, const std::string& def) {
  return get_string(obj, key, where, &def);
}

inline bool get_bool_or(const json& obj, const char* key, const std::string& where, bool def) {
  const json* v = find(obj, key);
  if (!v) return def;
  if (!v->is_boolean()) fail(where + "." + key, std::string("expected a boolean, got ") + type_name(*v));
  return v->get<bool>();
}

inline uint64_t get_uint(const json& obj, const char* key, const std::string& where) {
  const json* v = find(obj, key);
  if (!v) fail(where + "." + key, "missing (expected a non-negative integer)");
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0))
    fail(where + "." + key, std::string("expected a non-negative integer, got ") + type_name(*v));
  return v->get<uint64_t>();
}

inline uint64_t get_uint_or(const json& obj, const char* key, const std::string& where, uint64_t def) {
  if (!find(obj, key)) return def;
  return get_uint(obj, key, where);
}

inline const json& get_object(const json& obj, const char* key, const std::string& where) {
  const json* v = find(obj, key);
  if (!v) fail(where + "." + key, "missing (expected an object)");
  if (!v->is_object()) fail(where + "." + key, std::string("expected an object, got ") + type_name(*v));
  return *v;
}

inline const json& get_array(const json& obj, const char* key, const std::string& where) {
  const json* v = find(obj, key);
  if (!v) fail(where + "." + key, "missing (expected an array)");
  if (!v->is_array()) fail(where + "." + key, std::string("expected an array, got ") + type_name(*v));
  return *v;
}

inline std::string type_of(const json& obj, const std::string& where) {
  if (!obj.is_object()) fail(where, std::string("expected an object, got ") + type_name(obj));
  return get_string(obj, "type", where);
}

}  // namespace jsonutil

// The large fields of a model (a BPE/WordPiece/WordLevel vocab object and merges array, a Unigram
// vocab array of [piece, score]), read by
// the loader (Tokenizer::from_file / from_json_string) straight from the file's bytes into flat
// vectors instead of a JSON tree. While a ScopedLargeFields is alive on this thread, the model
// whose JSON node is `model` (or `alias`, a copy of it) takes its vocab / merges from here (the
// JSON holds empty placeholders).
struct LargeFields {
  const json* model = nullptr;
  mutable const json* alias = nullptr;
  bool has_vocab = false, has_merges = false;
  bool has_scored_vocab = false;  // a Unigram vocab, [[piece, score], ...], in scored_vocab
  // A string: bytes [off, off + len) of the file, or, with kDecoded set in off, of `decoded`
  // (strings with escapes).
  struct Str {
    uint32_t off, len;
  };
  static constexpr uint32_t kDecoded = 0x80000000u;
  struct VocabEntry {
    Str key;
    uint64_t id;
  };
  std::vector<VocabEntry, HugePageAllocator<VocabEntry>> vocab;  // in file order
  struct Merge {
    Str a, b;  // pair form; string form: the whole "a b" in a
    bool pair;
  };
  std::vector<Merge, HugePageAllocator<Merge>> merges;
  struct ScoredPiece {
    Str piece;
    double score;  // as the JSON tree's get<double>() gives it
  };
  std::vector<ScoredPiece, HugePageAllocator<ScoredPiece>> scored_vocab;  // in file order
  const char* file = nullptr;  // the file's bytes, alive while the model is built
  std::string decoded;

  std::string_view str(Str s) const {
    return (s.off & kDecoded) ? std::string_view(decoded.data() + (s.off & ~kDecoded), s.len)
                              : std::string_view(file + s.off, s.len);
  }
  static const LargeFields* current(const json& model) {
    const LargeFields* f = current_ref();
    return f && (f->model == &model || f->alias == &model) ? f : nullptr;
  }
  static const LargeFields*& current_ref() {
    thread_local const LargeFields* f = nullptr;
    return f;
  }
};

struct ScopedLargeFields {
  explicit ScopedLargeFields(const LargeFields* f) : prev_(LargeFields::current_ref()) { LargeFields::current_ref() = f; }
  ~ScopedLargeFields() { LargeFields::current_ref() = prev_; }
  ScopedLargeFields(const ScopedLargeFields&) = delete;
  ScopedLargeFields& operator=(const ScopedLargeFields&) = delete;

 private:
  const LargeFields* prev_;
};

// Thrown by a model built from LargeFields that the streamed form cannot represent exactly as
// the JSON tree would (duplicate keys or ids): the loader then parses the file into a tree.
struct NeedsTreeParse {};

// A registry of component constructors keyed by the `type` field of their JSON.
template <typename Base>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Base>(const json&, const std::string& where)>;
  static Registry& instance() {
    static Registry r;
    return r;
  }
  void add(const std::string& type, Factory f) { factories_[type] = std::move(f); }
  std::unique_ptr<Base> create(const json& j, const std::string& where, const char* kind) const {
    std::string type = jsonutil::type_of(j, where);
    auto it = factories_.find(type);
    if (it == factories_.end())
      jsonutil::fail(where + ".type", std::string("unknown ") + kind + " type '" + type + "'");
    return it->second(j, where);
  }

 private:
  std::map<std::string, Factory> factories_;
};

}  // namespace cppformers::tokenizers
