#pragma once
// A Jinja2 subset for chat templates, rendering as transformers renders them: jinja2's
// ImmutableSandboxedEnvironment with trim_blocks=True, lstrip_blocks=True, the loopcontrols
// extension (break/continue), transformers' `{% generation %}` block, its `tojson` filter
// (ensure_ascii=False, indent/separators/sort_keys options), and the globals raise_exception()
// and strftime_now(); plus jinja2's own globals (range, dict, namespace, cycler, joiner).
//
// Values follow Python's semantics (str() of True is "True", 7 / 2 is 3.5, -7 % 3 is 2, strings
// index by code point, dicts keep insertion order). A missing attribute or key is undefined: it
// renders as "", is falsy and iterates as empty; arithmetic on it or looking into it is an error,
// as in jinja2.
//
// Errors: TemplateSyntaxError (the template cannot be parsed) and TemplateRuntimeError (it
// failed while rendering) name the template's line and column; TemplateRaised carries exactly
// the message a template passed to raise_exception(). Rendering is bounded (evaluation steps,
// recursion depth, output size), so no template hangs or exhausts memory.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/core/error.hpp"

namespace cppformers::tokenizers::jinja {

// Any error of the engine.
class TemplateError : public ValueError {
 public:
  using ValueError::ValueError;
};
// The template is not valid (or uses syntax this engine does not support).
class TemplateSyntaxError : public TemplateError {
 public:
  using TemplateError::TemplateError;
};
// Rendering failed (undefined value used, wrong types, unsupported filter arguments, limits).
class TemplateRuntimeError : public TemplateError {
 public:
  using TemplateError::TemplateError;
};
// The template called raise_exception(message); what() is the message.
class TemplateRaised : public TemplateError {
 public:
  using TemplateError::TemplateError;
};

struct ListData;
struct DictData;
struct ObjectData;
struct FunctionData;

// A template value (Python object).
class Value {
 public:
  enum class Type : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Object, Function };

  Value() = default;  // undefined
  static Value undefined(std::string hint = {});
  static Value none();
  Value(bool b);           // NOLINT
  Value(int v) : Value(static_cast<int64_t>(v)) {}  // NOLINT
  Value(int64_t v);        // NOLINT
  Value(double v);         // NOLINT
  Value(std::string s);    // NOLINT
  Value(const char* s) : Value(std::string(s)) {}  // NOLINT
  static Value list(std::vector<Value> items, bool tuple = false);
  // range(start, stop, step): a list of its ints that prints, compares and serializes as Python's range.
  static Value range(int64_t start, int64_t stop, int64_t step, std::vector<Value> items);
  static Value dict(std::vector<std::pair<Value, Value>> items = {});
  static Value object(std::shared_ptr<ObjectData> o);
  static Value function(std::shared_ptr<FunctionData> f);
  // JSON (ordered: object keys keep their order; nlohmann::json sorts them).
  static Value from_json(const nlohmann::ordered_json& j);
  static Value from_json(const nlohmann::json& j);

  Type type() const { return t_; }
  bool is_undefined() const { return t_ == Type::Undefined; }
  bool is_none() const { return t_ == Type::None; }
  bool is_bool() const { return t_ == Type::Bool; }
  bool is_int() const { return t_ == Type::Int; }
  bool is_float() const { return t_ == Type::Float; }
  bool is_number() const { return t_ == Type::Int || t_ == Type::Float || t_ == Type::Bool; }
  bool is_string() const { return t_ == Type::String; }
  bool is_list() const { return t_ == Type::List; }
  bool is_tuple() const;
  bool is_range() const;
  bool is_dict() const { return t_ == Type::Dict; }
  bool is_object() const { return t_ == Type::Object; }
  bool is_function() const { return t_ == Type::Function; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_float() const { return f_; }
  double as_number() const { return t_ == Type::Float ? f_ : t_ == Type::Int ? double(i_) : double(b_); }
  int64_t as_integer() const { return t_ == Type::Int ? i_ : int64_t(b_); }  // int or bool
  const std::string& str_ref() const { return s_; }  // the string (or an undefined value's hint)
  const std::vector<Value>& items() const;            // list / tuple elements
  const ListData& list_data() const;
  const DictData& dict_data() const;
  std::shared_ptr<ObjectData> object_data() const;
  std::shared_ptr<FunctionData> function_data() const;

  bool truthy() const;               // Python's bool()
  std::string str() const;           // Python's str() (undefined: "")
  std::string repr() const;          // Python's repr()
  int nesting() const;               // 0 for scalars, 1 + the deepest element for lists and dicts
  std::string type_name() const;     // "str", "dict", "NoneType", ...
  nlohmann::ordered_json to_json() const;  // throws TemplateRuntimeError for non-JSON values

 private:
  Type t_ = Type::Undefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<void> p_;
};

// Containers nest at most this deep (deeper JSON input or template-built values are an error).
constexpr int kMaxNesting = 512;

struct ListData {
  std::vector<Value> items;
  bool tuple = false;
  int depth = 1;
  bool is_range = false;
  int64_t start = 0, stop = 0, step = 1;  // a range's arguments
};

struct DictData {
  std::vector<std::pair<Value, Value>> items;
  int depth = 1;
  const Value* find(const Value& key) const;
  void set(Value key, Value value);
};

// Attribute bags: namespace() objects (mutable) and loop / cycler / joiner objects.
struct ObjectData {
  std::string type_name;
  std::vector<std::pair<std::string, Value>> attrs;
  bool is_namespace = false;
  Value* find(const std::string& name);
};

class Interpreter;
struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};
struct FunctionData {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

// Python-compatible helpers, exposed for the chat-template code and tests.
bool py_equal(const Value& a, const Value& b);
// json.dumps(v, ensure_ascii=False, indent=indent (<0: None), sort_keys=...), as transformers' tojson.
std::string py_json_dumps(const Value& v, int indent = -1, bool sort_keys = false,
                          const std::string* item_sep = nullptr, const std::string* key_sep = nullptr);
std::string py_float_repr(double d);

struct Options {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
  uint64_t max_steps = 10'000'000;        // evaluation steps per render (work on big values counts by size)
  size_t max_output_bytes = 256u << 20;   // rendered text and any built string
  int max_depth = 200;                    // parser nesting and macro recursion
};

struct TemplateImpl;
// A parsed template. Thread-safe to render concurrently.
class Template {
 public:
  explicit Template(std::string_view source, Options options = {});
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // Renders with `context` (a JSON object: variable name -> value).
  std::string render(const nlohmann::ordered_json& context) const;
  // Renders with template values (for values JSON cannot express, e.g. undefined).
  std::string render(const std::vector<std::pair<std::string, Value>>& context) const;

 private:
  std::unique_ptr<TemplateImpl> impl_;
};

}  // namespace cppformers::tokenizers::jinja
