// Template values with Python's semantics: str()/repr(), truthiness, ==, ordering, json.dumps.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "cppformers/tokenizers/jinja.hpp"
#include "cppformers/tokenizers/jinja_util.hpp"

namespace cppformers::tokenizers::jinja {

Value Value::undefined(std::string hint) {
  Value v;
  v.s_ = std::move(hint);
  return v;
}
Value Value::none() {
  Value v;
  v.t_ = Type::None;
  return v;
}
Value::Value(bool b) : t_(Type::Bool), b_(b) {}
Value::Value(int64_t v) : t_(Type::Int), i_(v) {}
Value::Value(double v) : t_(Type::Float), f_(v) {}
Value::Value(std::string s) : t_(Type::String), s_(std::move(s)) {}

namespace {
[[noreturn]] void too_deep() {
  throw TemplateRuntimeError("value nested more than " + std::to_string(kMaxNesting) + " levels deep");
}
}  // namespace

int Value::nesting() const {
  if (t_ == Type::List) return static_cast<const ListData*>(p_.get())->depth;
  if (t_ == Type::Dict) return static_cast<const DictData*>(p_.get())->depth;
  return 0;
}

Value Value::list(std::vector<Value> items, bool tuple) {
  Value v;
  v.t_ = Type::List;
  auto d = std::make_shared<ListData>();
  for (const Value& x : items) d->depth = std::max(d->depth, x.nesting() + 1);
  if (d->depth > kMaxNesting) too_deep();
  d->items = std::move(items);
  d->tuple = tuple;
  v.p_ = std::move(d);
  return v;
}
Value Value::range(int64_t start, int64_t stop, int64_t step, std::vector<Value> items) {
  Value v = list(std::move(items));
  auto d = std::static_pointer_cast<ListData>(v.p_);
  d->is_range = true;
  d->start = start, d->stop = stop, d->step = step;
  return v;
}
Value Value::dict(std::vector<std::pair<Value, Value>> items) {
  Value v;
  v.t_ = Type::Dict;
  auto d = std::make_shared<DictData>();
  for (auto& [k, x] : items) {
    d->depth = std::max({d->depth, k.nesting() + 1, x.nesting() + 1});
    d->set(std::move(k), std::move(x));
  }
  if (d->depth > kMaxNesting) too_deep();
  v.p_ = std::move(d);
  return v;
}
Value Value::object(std::shared_ptr<ObjectData> o) {
  Value v;
  v.t_ = Type::Object;
  v.p_ = std::move(o);
  return v;
}
Value Value::function(std::shared_ptr<FunctionData> f) {
  Value v;
  v.t_ = Type::Function;
  v.p_ = std::move(f);
  return v;
}

namespace {
template <class J>
Value value_from_json(const J& j, int depth = 0) {
  if (depth > kMaxNesting) too_deep();
  switch (j.type()) {
    case J::value_t::null: return Value::none();
    case J::value_t::boolean: return Value(j.template get<bool>());
    case J::value_t::number_integer: return Value(j.template get<int64_t>());
    case J::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u <= uint64_t(INT64_MAX)) return Value(int64_t(u));
      return Value(double(u));
    }
    case J::value_t::number_float: return Value(j.template get<double>());
    case J::value_t::string: return Value(j.template get<std::string>());
    case J::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(value_from_json(x, depth + 1));
      return Value::list(std::move(items));
    }
    case J::value_t::object: {
      std::vector<std::pair<Value, Value>> items;
      items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        items.emplace_back(Value(it.key()), value_from_json(it.value(), depth + 1));
      return Value::dict(std::move(items));
    }
    default: return Value::none();  // binary / discarded: not produced by parsing JSON text
  }
}
}  // namespace

Value Value::from_json(const nlohmann::ordered_json& j) { return value_from_json(j); }
Value Value::from_json(const nlohmann::json& j) { return value_from_json(j); }

bool Value::is_tuple() const { return t_ == Type::List && static_cast<const ListData*>(p_.get())->tuple; }
bool Value::is_range() const { return t_ == Type::List && static_cast<const ListData*>(p_.get())->is_range; }
const std::vector<Value>& Value::items() const { return static_cast<const ListData*>(p_.get())->items; }
const ListData& Value::list_data() const { return *static_cast<const ListData*>(p_.get()); }
const DictData& Value::dict_data() const { return *static_cast<const DictData*>(p_.get()); }
std::shared_ptr<ObjectData> Value::object_data() const { return std::static_pointer_cast<ObjectData>(p_); }
std::shared_ptr<FunctionData> Value::function_data() const { return std::static_pointer_cast<FunctionData>(p_); }

const Value* DictData::find(const Value& key) const {
  for (const auto& kv : items)
    if (py_equal(kv.first, key)) return &kv.second;
  return nullptr;
}
void DictData::set(Value key, Value value) {
  for (auto& kv : items)
    if (py_equal(kv.first, key)) {
      kv.second = std::move(value);
      return;
    }
  items.emplace_back(std::move(key), std::move(value));
}
Value* ObjectData::find(const std::string& name) {
  for (auto& kv : attrs)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

bool Value::truthy() const {
  switch (t_) {
    case Type::Undefined:
    case Type::None: return false;
    case Type::Bool: return b_;
    case Type::Int: return i_ != 0;
    case Type::Float: return f_ != 0;
    case Type::String: return !s_.empty();
    case Type::List: return !items().empty();
    case Type::Dict: return !dict_data().items.empty();
    default: return true;
  }
}

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);  // shortest round trip
  std::string s(buf, res.ptr);
  std::string sign;
  if (s[0] == '-') sign = "-", s.erase(0, 1);
  size_t e = s.find('e');
  std::string mant = s.substr(0, e);
  int exp = std::stoi(s.substr(e + 1));
  std::string digits;
  for (char c : mant)
    if (c != '.') digits.push_back(c);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int decpt = exp + 1, nd = int(digits.size());
  std::string out;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) out = "0." + std::string(size_t(-decpt), '0') + digits;
    else if (decpt >= nd) out = digits + std::string(size_t(decpt - nd), '0') + ".0";
    else out = digits.substr(0, size_t(decpt)) + "." + digits.substr(size_t(decpt));
  } else {
    out = digits.substr(0, 1);
    if (nd > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  }
  return sign + out;
}

std::string py_str_repr(const std::string& s) {
  const std::u32string u = util::decode(s);
  bool has_single = false, has_double = false;
  for (char32_t c : u) has_single |= c == '\'', has_double |= c == '"';
  const char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  char buf[16];
  for (char32_t c : u) {
    if (c == char32_t(q) || c == '\\') out.push_back('\\'), out.push_back(char(c));
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (util::is_surrogate_escape(c)) std::snprintf(buf, sizeof buf, "\\udc%02x", unsigned(c & 0xFF)), out += buf;
    else if (c < 0x20 || c == 0x7F) std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(c)), out += buf;
    else if (c >= 0x80 && !util::is_printable(c)) {
      if (c < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(c));
      else if (c < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
      else std::snprintf(buf, sizeof buf, "\\U%08x", unsigned(c));
      out += buf;
    } else util::append_utf8(out, c);
  }
  out.push_back(q);
  return out;
}

namespace util {
std::string py_str_repr_of(const std::string& s) { return py_str_repr(s); }
}  // namespace util

std::string Value::type_name() const {
  switch (t_) {
    case Type::Undefined: return "Undefined";
    case Type::None: return "NoneType";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::String: return "str";
    case Type::List: return is_tuple() ? "tuple" : is_range() ? "range" : "list";
    case Type::Dict: return "dict";
    case Type::Object: return object_data()->type_name;
    case Type::Function: return "function";
  }
  return "object";
}

std::string Value::repr() const {
  switch (t_) {
    case Type::Undefined: return "Undefined";
    case Type::String: return py_str_repr(s_);
    case Type::List: {
      if (is_range()) {
        const auto* r = static_cast<const ListData*>(p_.get());
        return "range(" + std::to_string(r->start) + ", " + std::to_string(r->stop) +
               (r->step != 1 ? ", " + std::to_string(r->step) : std::string()) + ")";
      }
      const auto& v = items();
      std::string out = is_tuple() ? "(" : "[";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += v[i].repr();
      }
      if (is_tuple() && v.size() == 1) out += ",";
      out += is_tuple() ? ")" : "]";
      return out;
    }
    case Type::Dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : dict_data().items) {
        if (!first) out += ", ";
        first = false;
        out += k.repr() + ": " + x.repr();
      }
      return out + "}";
    }
    default: return str();
  }
}

std::string Value::str() const {
  switch (t_) {
    case Type::Undefined: return "";
    case Type::None: return "None";
    case Type::Bool: return b_ ? "True" : "False";
    case Type::Int: return std::to_string(i_);
    case Type::Float: return py_float_repr(f_);
    case Type::String: return s_;
    case Type::List:
    case Type::Dict: return repr();
    case Type::Object: {
      const auto& o = *object_data();
      if (o.is_namespace) {  // a namespace may hold itself: printed once, then as <Namespace ...>
        static thread_local int active = 0;
        if (active > 0) return "<Namespace ...>";
        ++active;
        std::string out = "<Namespace {";
        try {
          for (size_t i = 0; i < o.attrs.size(); ++i)
            out += (i ? ", " : "") + py_str_repr(o.attrs[i].first) + ": " + o.attrs[i].second.repr();
        } catch (...) {
          --active;
          throw;
        }
        --active;
        return out + "}>";
      }
      return "<" + o.type_name + " object>";
    }
    case Type::Function: return "<function " + function_data()->name + ">";
  }
  return "";
}

bool py_equal(const Value& a, const Value& b) {
  using T = Value::Type;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_number() == b.as_number();
    return a.as_integer() == b.as_integer();
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case T::Undefined:
    case T::None: return true;
    case T::String: return a.str_ref() == b.str_ref();
    case T::List: {
      if (a.is_tuple() != b.is_tuple() || a.is_range() != b.is_range()) return false;
      const auto &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!py_equal(x[i], y[i])) return false;
      return true;
    }
    case T::Dict: {
      const auto &x = a.dict_data().items, &y = b.dict_data().items;
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* o = b.dict_data().find(k);
        if (!o || !py_equal(v, *o)) return false;
      }
      return true;
    }
    case T::Object: return a.object_data() == b.object_data();
    case T::Function: return a.function_data() == b.function_data();
    default: return false;
  }
}

namespace {

void dumps(const Value& v, std::string& out, int indent, const std::string& ind_str, int level, bool sort_keys,
           const std::string& isep, const std::string& ksep);

void dumps_string(const std::string& s, std::string& out) {
  out.push_back('"');
  char buf[8];
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c)), out += buf;
        else out.push_back(char(c));
    }
  }
  out.push_back('"');
}

std::string json_key(const Value& k) {
  switch (k.type()) {
    case Value::Type::String: return k.str_ref();
    case Value::Type::Bool: return k.as_bool() ? "true" : "false";
    case Value::Type::None: return "null";
    case Value::Type::Int: return std::to_string(k.as_int());
    case Value::Type::Float: {
      double d = k.as_float();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      return py_float_repr(d);
    }
    default: throw TemplateRuntimeError("keys must be str, int, float, bool or None, not " + k.type_name());
  }
}

void newline(std::string& out, int indent, const std::string& ind_str, int level) {
  if (indent < 0) return;
  out.push_back('\n');
  for (int i = 0; i < level; ++i) out += ind_str;
}

void dumps(const Value& v, std::string& out, int indent, const std::string& ind_str, int level, bool sort_keys,
           const std::string& isep, const std::string& ksep) {
  if (level > 500) throw TemplateRuntimeError("tojson: value nested too deeply");
  switch (v.type()) {
    case Value::Type::None: out += "null"; return;
    case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Type::Int: out += std::to_string(v.as_int()); return;
    case Value::Type::Float: {
      double d = v.as_float();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
      else out += py_float_repr(d);
      return;
    }
    case Value::Type::String: dumps_string(v.str_ref(), out); return;
    case Value::Type::List: {
      if (v.is_range()) throw TemplateRuntimeError("Object of type range is not JSON serializable");
      const auto& items = v.items();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += isep;
        newline(out, indent, ind_str, level + 1);
        dumps(items[i], out, indent, ind_str, level + 1, sort_keys, isep, ksep);
      }
      newline(out, indent, ind_str, level);
      out.push_back(']');
      return;
    }
    case Value::Type::Dict: {
      std::vector<const std::pair<Value, Value>*> items;
      for (const auto& kv : v.dict_data().items) items.push_back(&kv);
      if (items.empty()) {
        out += "{}";
        return;
      }
      if (sort_keys)
        std::stable_sort(items.begin(), items.end(),
                         [](auto* a, auto* b) { return util::py_compare(a->first, b->first, "<") < 0; });
      out.push_back('{');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += isep;
        newline(out, indent, ind_str, level + 1);
        dumps_string(json_key(items[i]->first), out);
        out += ksep;
        dumps(items[i]->second, out, indent, ind_str, level + 1, sort_keys, isep, ksep);
      }
      newline(out, indent, ind_str, level);
      out.push_back('}');
      return;
    }
    default: throw TemplateRuntimeError("Object of type " + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string py_json_dumps(const Value& v, int indent, bool sort_keys, const std::string* item_sep,
                          const std::string* key_sep) {
  std::string out;
  const std::string isep = item_sep ? *item_sep : indent >= 0 ? "," : ", ";
  const std::string ksep = key_sep ? *key_sep : ": ";
  dumps(v, out, indent, std::string(size_t(std::max(indent, 0)), ' '), 0, sort_keys, isep, ksep);
  return out;
}

namespace util {
std::string json_dumps_indent_str(const Value& v, const std::string& indent, bool sort_keys, const std::string* isep,
                                  const std::string* ksep) {
  std::string out;
  dumps(v, out, 0, indent, 0, sort_keys, isep ? *isep : ",", ksep ? *ksep : ": ");
  return out;
}
}  // namespace util

nlohmann::ordered_json Value::to_json() const {
  switch (t_) {
    case Type::None: return nullptr;
    case Type::Bool: return b_;
    case Type::Int: return i_;
    case Type::Float: return f_;
    case Type::String: return s_;
    case Type::List: {
      if (is_range()) throw TemplateRuntimeError("Object of type range is not JSON serializable");
      auto j = nlohmann::ordered_json::array();
      for (const auto& x : items()) j.push_back(x.to_json());
      return j;
    }
    case Type::Dict: {
      auto j = nlohmann::ordered_json::object();
      for (const auto& [k, x] : dict_data().items) j[json_key(k)] = x.to_json();
      return j;
    }
    default: throw TemplateRuntimeError("Object of type " + type_name() + " is not JSON serializable");
  }
}

namespace util {

int py_compare(const Value& a, const Value& b, const char* op) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      double x = a.as_number(), y = b.as_number();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    int64_t x = a.as_integer(), y = b.as_integer();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.str_ref().compare(b.str_ref());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple() && !a.is_range() && !b.is_range()) {
    const auto &x = a.items(), &y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!py_equal(x[i], y[i])) return py_compare(x[i], y[i], op);
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  throw TemplateRuntimeError(std::string("'") + op + "' not supported between instances of '" + a.type_name() +
                             "' and '" + b.type_name() + "'");
}

}  // namespace util

}  // namespace cppformers::tokenizers::jinja
