// Builtins of the Jinja engine with Python's and jinja2's semantics: operators, filters, tests,
// the methods of str / dict / list, printf-style % formatting, and the globals.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include "cppformers/tokenizers/jinja_interp.hpp"
#include "cppformers/tokenizers/jinja_util.hpp"

namespace cppformers::tokenizers::jinja {

namespace detail {

static const std::set<std::string>& filter_names() {
  static const std::set<std::string> s = {
      "abs",     "attr",   "batch",    "capitalize", "center",  "count",      "d",        "default", "dictsort",
      "e",       "escape", "first",    "float",      "forceescape", "format", "groupby", "indent",  "int",
      "items",   "join",   "last",     "length",     "list",    "lower",      "map",      "max",     "min",
      "pprint",  "random", "reject",   "rejectattr", "replace", "reverse",    "round",    "safe",    "select",
      "selectattr", "slice", "sort",   "string",     "striptags", "sum",      "title",    "tojson",  "trim",
      "truncate", "unique", "upper",   "urlencode",  "urlize",  "wordcount",  "wordwrap", "xmlattr", "filesizeformat"};
  return s;
}
static const std::set<std::string>& test_names() {
  static const std::set<std::string> s = {
      "boolean", "callable", "defined", "divisibleby", "eq",     "equalto", "escaped", "even",    "false",
      "filter",  "float",    "ge",      "gt",          "greaterthan", "in", "integer", "iterable", "le",
      "lessthan", "lower",   "lt",      "mapping",     "ne",     "none",    "number",  "odd",     "sameas",
      "sequence", "string",  "test",    "true",        "undefined", "upper", "==",     "!=",      "<",
      "<=",      ">",        ">="};
  return s;
}
bool is_known_filter(const std::string& name) { return filter_names().count(name) > 0; }
bool is_known_test(const std::string& name) { return test_names().count(name) > 0; }

}  // namespace detail

namespace builtins {
namespace {

using U32 = std::u32string;

Value tuple(std::vector<Value> v) { return Value::list(std::move(v), true); }
Value str_value(const U32& u) { return Value(util::encode(u)); }

std::string to_str(const Value& v) { return v.is_string() ? v.str_ref() : v.str(); }

// Binds a builtin's Python-style arguments: positional index i or keyword `name`.
class Args {
 public:
  Args(Interpreter& in, CallArgs& a, std::string fname) : in_(in), a_(a), f_(std::move(fname)), used_(a.kw.size()) {}
  bool has(size_t i, const char* name) {
    if (i < a_.pos.size()) return true;
    for (size_t k = 0; k < a_.kw.size(); ++k)
      if (a_.kw[k].first == name) return true;
    return false;
  }
  Value get(size_t i, const char* name, Value fallback = Value::undefined()) {
    for (size_t k = 0; k < a_.kw.size(); ++k)
      if (a_.kw[k].first == name) {
        if (i < a_.pos.size()) in_.fail(f_ + "() got multiple values for argument '" + name + "'");
        used_[k] = true;
        return a_.kw[k].second;
      }
    if (i < a_.pos.size()) return a_.pos[i];
    return fallback;
  }
  Value need(size_t i, const char* name) {
    if (!has(i, name)) in_.fail(f_ + "() missing required argument '" + std::string(name) + "'");
    return get(i, name);
  }
  // Raises for surplus positional arguments and unknown keywords.
  void done(size_t max_pos) {
    if (a_.pos.size() > max_pos)
      in_.fail(f_ + "() takes at most " + std::to_string(max_pos) + " argument(s) (" + std::to_string(a_.pos.size()) +
               " given)");
    for (size_t k = 0; k < a_.kw.size(); ++k)
      if (!used_[k]) in_.fail(f_ + "() got an unexpected keyword argument '" + a_.kw[k].first + "'");
  }
  int64_t get_int(size_t i, const char* name, int64_t fallback) {
    Value v = get(i, name, Value(fallback));
    if (v.is_int() || v.is_bool()) return v.as_integer();
    if (v.is_none()) return fallback;
    in_.fail(f_ + "(): '" + name + "' must be an integer, not " + v.type_name());
  }
  bool get_bool(size_t i, const char* name, bool fallback) { return get(i, name, Value(fallback)).truthy(); }
  std::vector<Value>& pos() { return a_.pos; }
  std::vector<std::pair<std::string, Value>>& kw() { return a_.kw; }

 private:
  Interpreter& in_;
  CallArgs& a_;
  std::string f_;
  std::vector<bool> used_;
};

std::string need_str(Interpreter& in, const Value& v, const std::string& what) {
  if (!v.is_string()) in.fail(what + " must be str, not " + v.type_name());
  return v.str_ref();
}

// ---- str helpers (code points) ----

bool in_chars(char32_t c, const U32* chars) {
  if (!chars) return util::is_space(c);
  return chars->find(c) != U32::npos;
}
U32 strip(const U32& s, const U32* chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && in_chars(s[b], chars)) ++b;
  if (right)
    while (e > b && in_chars(s[e - 1], chars)) --e;
  return s.substr(b, e - b);
}

std::vector<U32> split_ws(const U32& s, int64_t maxsplit) {
  std::vector<U32> out;
  size_t i = 0, n = s.size();
  while (true) {
    while (i < n && util::is_space(s[i])) ++i;
    if (i >= n) break;
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {  // the rest, as it is
      out.push_back(s.substr(i));
      break;
    }
    size_t j = i;
    while (j < n && !util::is_space(s[j])) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}
std::vector<U32> rsplit_ws(const U32& s, int64_t maxsplit) {
  std::vector<U32> out;
  int64_t i = int64_t(s.size()) - 1;
  while (true) {
    while (i >= 0 && util::is_space(s[size_t(i)])) --i;
    if (i < 0) break;
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {  // the rest, as it is
      out.push_back(s.substr(0, size_t(i) + 1));
      break;
    }
    int64_t j = i;
    while (j >= 0 && !util::is_space(s[size_t(j)])) --j;
    out.push_back(s.substr(size_t(j + 1), size_t(i - j)));
    i = j;
  }
  std::reverse(out.begin(), out.end());
  return out;
}
std::vector<U32> split_sep(const U32& s, const U32& sep, int64_t maxsplit) {
  std::vector<U32> out;
  size_t pos = 0;
  while (maxsplit < 0 || int64_t(out.size()) < maxsplit) {
    size_t f = s.find(sep, pos);
    if (f == U32::npos) break;
    out.push_back(s.substr(pos, f - pos));
    pos = f + sep.size();
  }
  out.push_back(s.substr(pos));
  return out;
}
std::vector<U32> rsplit_sep(const U32& s, const U32& sep, int64_t maxsplit) {
  std::vector<U32> out;
  size_t end = s.size();
  while (maxsplit < 0 || int64_t(out.size()) < maxsplit) {
    if (end < sep.size()) break;
    size_t f = s.rfind(sep, end - sep.size());
    if (f == U32::npos) break;
    out.push_back(s.substr(f + sep.size(), end - f - sep.size()));
    end = f;
  }
  out.push_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}
bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}
std::vector<U32> splitlines(const U32& s, bool keepends) {
  std::vector<U32> out;
  size_t i = 0, n = s.size();
  while (i < n) {
    size_t j = i;
    while (j < n && !is_line_break(s[j])) ++j;
    size_t eol = j;
    if (j < n) {
      if (s[j] == '\r' && j + 1 < n && s[j + 1] == '\n') j += 2;
      else j += 1;
    }
    out.push_back(s.substr(i, (keepends ? j : eol) - i));
    i = j;
  }
  return out;
}
U32 replace(const U32& s, const U32& old, const U32& rep, int64_t count) {
  if (count < 0) count = INT64_MAX;
  U32 out;
  if (old.empty()) {
    int64_t done = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (done < count) out += rep, ++done;
      if (i < s.size()) out.push_back(s[i]);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (done < count) {
    size_t f = s.find(old, pos);
    if (f == U32::npos) break;
    out.append(s, pos, f - pos);
    out += rep;
    pos = f + old.size();
    ++done;
  }
  out.append(s, pos, U32::npos);
  return out;
}
U32 capitalize(const U32& s) {
  U32 out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 0) util::to_title(s[i], out);
    else util::to_lower(s[i], out);
  }
  return out;
}
U32 py_title(const U32& s) {  // str.title()
  U32 out;
  bool prev_cased = false;
  for (char32_t c : s) {
    if (prev_cased) util::to_lower(c, out);
    else util::to_title(c, out);
    prev_cased = util::is_cased(c);
  }
  return out;
}
U32 jinja_title(const U32& s) {  // the title filter: words split on [-\s({\[<]+
  auto is_sep = [](char32_t c) { return util::is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; };
  U32 out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    const bool sep = is_sep(s[i]);
    while (j < s.size() && is_sep(s[j]) == sep) ++j;
    if (sep) {
      out.append(s, i, j - i);
    } else {
      util::to_upper(s[i], out);
      for (size_t k = i + 1; k < j; ++k) util::to_lower(s[k], out);
    }
    i = j;
  }
  return out;
}
int64_t py_index(int64_t i, int64_t n) {  // start/end arguments of find & co
  if (i < 0) i = std::max<int64_t>(0, i + n);
  return std::min(i, n);
}
U32 pad(const U32& s, int64_t width, char32_t fill, int align) {  // align: -1 left (ljust), 0 center, 1 right
  const int64_t n = int64_t(s.size());
  if (width <= n) return s;
  const int64_t marg = width - n;
  int64_t left = align < 0 ? 0 : align > 0 ? marg : marg / 2 + (marg & width & 1);
  return U32(size_t(left), fill) + s + U32(size_t(marg - left), fill);
}
char32_t fillchar(Interpreter& in, const Value& v) {
  if (v.is_undefined()) return ' ';
  U32 u = util::decode(need_str(in, v, "the fill character"));
  if (u.size() != 1) in.fail("The fill character must be exactly one character long");
  return u[0];
}

// ---- numbers ----

Value int_result(Interpreter& in, __int128 v) {
  if (v > INT64_MAX || v < INT64_MIN) return Value(double(v));  // Python ints are unbounded; past 64 bits, a float
  return Value(int64_t(v));
}

int64_t floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// Python's float(str): strips whitespace, accepts underscores between digits, inf/nan.
bool parse_py_float(const std::string& s0, double& out) {
  U32 u = strip(util::decode(s0), nullptr, true, true);
  std::string s;
  for (size_t i = 0; i < u.size(); ++i) {
    char32_t c = u[i];
    if (c == '_') {
      if (i == 0 || i + 1 >= u.size() || !(u[i - 1] >= '0' && u[i - 1] <= '9') || !(u[i + 1] >= '0' && u[i + 1] <= '9'))
        return false;
      continue;
    }
    if (c >= 0x80) return false;
    s.push_back(char(c));
  }
  if (s.empty()) return false;
  std::string low = util::lower(s);
  size_t k = (low[0] == '+' || low[0] == '-') ? 1 : 0;
  std::string body = low.substr(k);
  if (body == "inf" || body == "infinity") {
    out = low[0] == '-' ? -INFINITY : INFINITY;
    return true;
  }
  if (body == "nan") {
    out = NAN;
    return true;
  }
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-')) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == 0;
}
// Python's int(str, base): whitespace, sign, underscores, 0x/0o/0b prefixes with base 0/16/8/2.
bool parse_py_int(const std::string& s0, int base, int64_t& out) {
  U32 u = strip(util::decode(s0), nullptr, true, true);
  std::string s;
  for (char32_t c : u) {
    if (c >= 0x80) return false;
    s.push_back(char(c));
  }
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  auto prefix = [&](char p) {
    return i + 1 < s.size() && s[i] == '0' && std::tolower(static_cast<unsigned char>(s[i + 1])) == p;
  };
  if ((base == 16 || base == 0) && prefix('x')) base = 16, i += 2;
  else if ((base == 8 || base == 0) && prefix('o')) base = 8, i += 2;
  else if ((base == 2 || base == 0) && prefix('b')) base = 2, i += 2;
  if (base == 0) base = 10;
  if (i >= s.size()) return false;
  __int128 v = 0;
  bool prev_digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      if (!prev_digit || i + 1 >= s.size()) return false;
      prev_digit = false;
      continue;
    }
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                                          : 99;
    if (d >= base) return false;
    v = v * base + d;
    if (v > (__int128(1) << 64)) return false;
    prev_digit = true;
  }
  if (!prev_digit) return false;
  v = neg ? -v : v;
  if (v > INT64_MAX || v < INT64_MIN) return false;
  out = int64_t(v);
  return true;
}

// ---- printf-style formatting: str % args ----

std::string format_int(Interpreter& in, const Value& v, char conv, const std::string& flags, int width, int prec) {
  __int128 x;
  if (v.is_int() || v.is_bool()) x = v.as_integer();
  else if (v.is_float()) {
    if (conv != 'd' && conv != 'i' && conv != 'u')
      in.fail(std::string("%") + conv + " format: an integer is required, not float");
    if (!std::isfinite(v.as_float())) in.fail("cannot convert float infinity or NaN to integer");
    x = __int128(std::trunc(v.as_float()));
  } else {
    in.fail(std::string("%") + conv + " format: a real number is required, not " + v.type_name());
  }
  const bool neg = x < 0;
  unsigned __int128 m = neg ? (unsigned __int128)(-x) : (unsigned __int128)x;
  std::string digits;
  const int base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X') ? 16 : 10;
  const char* dig = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits.push_back(dig[int(m % base)]);
    m /= base;
  } while (m);
  std::reverse(digits.begin(), digits.end());
  if (prec >= 0 && int(digits.size()) < prec) digits = std::string(size_t(prec - int(digits.size())), '0') + digits;
  std::string prefix;
  if (flags.find('#') != std::string::npos) prefix = conv == 'o' ? "0o" : conv == 'x' ? "0x" : conv == 'X' ? "0X" : "";
  std::string sign = neg ? "-" : flags.find('+') != std::string::npos ? "+" : flags.find(' ') != std::string::npos ? " " : "";
  std::string body = sign + prefix + digits;
  if (int(body.size()) < width) {
    if (flags.find('-') != std::string::npos) body += std::string(size_t(width - int(body.size())), ' ');
    else if (flags.find('0') != std::string::npos)
      body = sign + prefix + std::string(size_t(width - int(body.size())), '0') + digits;
    else body = std::string(size_t(width - int(body.size())), ' ') + body;
  }
  return body;
}

std::string format_float(Interpreter& in, const Value& v, char conv, const std::string& flags, int width, int prec) {
  if (!v.is_number()) in.fail(std::string("must be real number, not ") + v.type_name());
  const double x = v.as_number();
  std::string f = "%" + flags;
  if (width > 0) f += std::to_string(width);
  f += "." + std::to_string(prec < 0 ? 6 : prec);
  f.push_back(conv);
  std::vector<char> buf(size_t(std::max(width, 0)) + 400);
  int n = std::snprintf(buf.data(), buf.size(), f.c_str(), x);
  if (n < 0) in.fail("invalid format");
  if (size_t(n) >= buf.size()) {
    buf.resize(size_t(n) + 1);
    std::snprintf(buf.data(), buf.size(), f.c_str(), x);
  }
  return std::string(buf.data(), size_t(n));
}

std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args) {
  std::vector<Value> pos;
  const Value* mapping = nullptr;
  if (args.is_tuple()) pos = args.items();
  else if (args.is_dict()) mapping = &args, pos = {args};
  else pos = {args};
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  const U32 f = util::decode(fmt);
  auto take = [&]() -> Value {
    if (next >= pos.size()) in.fail("not enough arguments for format string");
    return pos[next++];
  };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      util::append_utf8(out, f[i]);
      continue;
    }
    if (++i >= f.size()) in.fail("incomplete format");
    Value arg;
    bool have_arg = false;
    if (f[i] == '(') {
      if (args.is_undefined()) in.fail_undefined(args);
      if (!mapping) in.fail("format requires a mapping");
      size_t e = f.find(')', i);
      if (e == U32::npos) in.fail("incomplete format key");
      Value key = str_value(f.substr(i + 1, e - i - 1));
      const Value* v = mapping->dict_data().find(key);
      if (!v) in.fail("KeyError: " + key.repr());
      arg = *v;
      have_arg = true;
      used_mapping = true;
      i = e + 1;
    }
    std::string flags;
    while (i < f.size() && (f[i] == '-' || f[i] == '+' || f[i] == ' ' || f[i] == '#' || f[i] == '0'))
      flags.push_back(char(f[i++]));
    int width = -1, prec = -1;
    if (i < f.size() && f[i] == '*') {
      Value w = take();
      if (!w.is_int()) in.fail("* wants int");
      width = int(w.as_int());
      ++i;
    } else {
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') width = std::max(width, 0) * 10 + int(f[i++] - '0');
    }
    if (i < f.size() && f[i] == '.') {
      ++i;
      prec = 0;
      if (i < f.size() && f[i] == '*') {
        Value p = take();
        if (!p.is_int()) in.fail("* wants int");
        prec = int(p.as_int());
        ++i;
      } else {
        while (i < f.size() && f[i] >= '0' && f[i] <= '9') prec = prec * 10 + int(f[i++] - '0');
      }
    }
    if (width > 100000 || prec > 100000) in.fail("format width or precision too big");
    while (i < f.size() && (f[i] == 'h' || f[i] == 'l' || f[i] == 'L')) ++i;
    if (i >= f.size()) in.fail("incomplete format");
    const char32_t conv = f[i];
    if (conv == '%') {
      out.push_back('%');
      continue;
    }
    if (!have_arg) arg = take();
    std::string piece;
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        U32 s = util::decode(conv == 's' ? to_str(arg) : arg.repr());
        if (prec >= 0 && size_t(prec) < s.size()) s.resize(size_t(prec));
        if (width > int(s.size())) s = pad(s, width, ' ', flags.find('-') != std::string::npos ? -1 : 1);
        piece = util::encode(s);
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X': piece = format_int(in, arg, char(conv), flags, width, prec); break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': piece = format_float(in, arg, char(conv), flags, width, prec); break;
      case 'c': {
        if (arg.is_int()) {
          if (arg.as_int() < 0 || arg.as_int() > 0x10FFFF) in.fail("%c arg not in range(0x110000)");
          util::append_utf8(piece, char32_t(arg.as_int()));
        } else if (arg.is_string() && util::count_chars(arg.str_ref()) == 1) {
          piece = arg.str_ref();
        } else {
          in.fail("%c requires int or char");
        }
        break;
      }
      default: {
        std::string c;
        util::append_utf8(c, conv);
        in.fail("unsupported format character '" + c + "'");
      }
    }
    out += piece;
    in.check_size(out.size());
  }
  // Python: an argument with __getitem__ (list, dict, undefined) is never "not all converted"
  const bool mapping_like = mapping || (args.is_list() && !args.is_tuple()) || args.is_undefined();
  if (!used_mapping && !mapping_like && next < pos.size())
    in.fail("not all arguments converted during string formatting");
  return out;
}

// str.format(): {} / {0} / {name} / {0.attr} / {0[key]}, !r / !s, and a basic format spec.
std::string format_spec(Interpreter& in, const Value& v, const std::string& spec) {
  if (spec.empty()) return to_str(v);
  U32 s = util::decode(spec);
  size_t i = 0;
  char32_t fill = ' ';
  int align = 0;  // 0: default
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) fill = s[0], align = int(s[1]), i = 2;
  else if (!s.empty() && is_align(s[0])) align = int(s[0]), i = 1;
  std::string sign;
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sign = char(s[i++]);
  bool alt = false;
  if (i < s.size() && s[i] == '#') alt = true, ++i;
  if (i < s.size() && s[i] == '0') {
    if (!align) fill = '0', align = '=';
    ++i;
  }
  int width = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') width = width * 10 + int(s[i++] - '0');
  bool comma = false;
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) comma = true, ++i;
  int prec = -1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    prec = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') prec = prec * 10 + int(s[i++] - '0');
  }
  char32_t type = 0;
  if (i < s.size()) type = s[i++];
  if (i != s.size() || comma || alt || width > 100000 || prec > 100000) in.fail("unsupported format spec '" + spec + "'");
  std::string body;
  if (type == 0 && v.is_string()) type = 's';
  if (type == 's') {
    if (!v.is_string()) in.fail("Unknown format code 's' for object of type '" + v.type_name() + "'");
    U32 u = util::decode(v.str_ref());
    if (prec >= 0 && size_t(prec) < u.size()) u.resize(size_t(prec));
    body = util::encode(u);
    if (!align) align = '<';
  } else if (type == 'd' || (type == 0 && (v.is_int() || v.is_bool()))) {
    if (!(v.is_int() || v.is_bool())) in.fail("Unknown format code 'd' for object of type '" + v.type_name() + "'");
    body = format_int(in, v, 'd', sign == "+" ? "+" : sign == " " ? " " : "", 0, -1);
  } else if (type == 'f' || type == 'F' || type == 'e' || type == 'E' || type == 'g' || type == 'G' || type == '%') {
    if (!v.is_number()) in.fail("Unknown format code for object of type '" + v.type_name() + "'");
    double x = v.as_number() * (type == '%' ? 100 : 1);
    body = format_float(in, Value(x), type == '%' ? 'f' : char(type), sign == "+" ? "+" : sign == " " ? " " : "", 0,
                        prec < 0 ? 6 : prec);
    if (type == '%') body += "%";
  } else if (type == 0) {
    body = to_str(v);
  } else {
    in.fail("unsupported format spec '" + spec + "'");
  }
  if (!align) align = v.is_number() ? '>' : '<';
  U32 b = util::decode(body);
  if (int(b.size()) < width) {
    size_t padn = size_t(width - int(b.size()));
    if (align == '<') b += U32(padn, fill);
    else if (align == '>') b = U32(padn, fill) + b;
    else if (align == '^') b = U32(padn / 2, fill) + b + U32(padn - padn / 2, fill);
    else {  // '=': after the sign
      size_t k = (!b.empty() && (b[0] == '-' || b[0] == '+' || b[0] == ' ')) ? 1 : 0;
      b = b.substr(0, k) + U32(padn, fill) + b.substr(k);
    }
  }
  return util::encode(b);
}

std::string str_format(Interpreter& in, const std::string& fmt, CallArgs& a) {
  const U32 f = util::decode(fmt);
  std::string out;
  size_t auto_idx = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char32_t c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      in.fail("Single '}' encountered in format string");
    }
    if (c != '{') {
      util::append_utf8(out, c);
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    size_t e = f.find('}', i);
    if (e == U32::npos) in.fail("Single '{' encountered in format string");
    std::string field = util::encode(f.substr(i + 1, e - i - 1));
    i = e;
    std::string spec, conv;
    if (size_t c2 = field.find(':'); c2 != std::string::npos) spec = field.substr(c2 + 1), field = field.substr(0, c2);
    if (size_t c1 = field.find('!'); c1 != std::string::npos) conv = field.substr(c1 + 1), field = field.substr(0, c1);
    size_t cut = field.find_first_of(".[");
    std::string head = field.substr(0, cut);
    Value v;
    if (head.empty()) {
      if (auto_idx >= a.pos.size()) in.fail("Replacement index " + std::to_string(auto_idx) + " out of range");
      v = a.pos[auto_idx++];
    } else if (std::all_of(head.begin(), head.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
      size_t k = std::stoul(head);
      if (k >= a.pos.size()) in.fail("Replacement index " + head + " out of range");
      v = a.pos[k];
    } else {
      bool found = false;
      for (auto& [k, x] : a.kw)
        if (k == head) v = x, found = true;
      if (!found) in.fail("KeyError: '" + head + "'");
    }
    while (cut != std::string::npos && cut < field.size()) {
      if (field[cut] == '.') {
        size_t nx = field.find_first_of(".[", cut + 1);
        v = in.get_attr(v, field.substr(cut + 1, nx == std::string::npos ? std::string::npos : nx - cut - 1));
        cut = nx;
      } else {
        size_t close = field.find(']', cut);
        if (close == std::string::npos) in.fail("Missing ']' in format string");
        std::string key = field.substr(cut + 1, close - cut - 1);
        int64_t idx;
        v = parse_py_int(key, 10, idx) ? in.get_item(v, Value(idx)) : in.get_item(v, Value(key));
        cut = close + 1;
      }
      if (v.is_undefined()) in.fail_undefined(v);
    }
    if (conv == "r" || conv == "a") v = Value(v.repr());
    else if (conv == "s") v = Value(to_str(v));
    else if (!conv.empty()) in.fail("Unknown conversion specifier " + conv);
    out += format_spec(in, v, spec);
    in.check_size(out.size());
  }
  return out;
}

// ---- attribute getters (map / selectattr / sort ... attribute=) ----

Value get_attr_path(Interpreter& in, const Value& item, const Value& attribute, const Value& fallback) {
  std::vector<Value> parts;
  if (attribute.is_string()) {
    for (const U32& p : split_sep(util::decode(attribute.str_ref()), U".", -1)) {
      std::string s = util::encode(p);
      int64_t idx;
      if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
          parse_py_int(s, 10, idx))
        parts.push_back(Value(idx));
      else parts.push_back(Value(s));
    }
  } else if (attribute.is_int()) {
    parts.push_back(attribute);
  } else {
    parts.push_back(attribute);
  }
  Value v = item;
  for (const Value& p : parts) {
    v = in.get_item(v, p);
    if (v.is_undefined() && !fallback.is_undefined()) return fallback;
  }
  return v;
}


// The sort key of case-insensitive comparisons.
Value ignore_case(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(util::lower(v.str_ref()));
  return v;
}

void sort_values(Interpreter& in, std::vector<Value>& items, const std::function<Value(const Value&)>& key, bool reverse) {
  std::vector<std::pair<Value, size_t>> keyed;
  for (size_t i = 0; i < items.size(); ++i) keyed.emplace_back(key(items[i]), i);
  try {
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
      int c = util::py_compare(a.first, b.first, "<");
      return reverse ? c > 0 : c < 0;
    });
  } catch (const TemplateRuntimeError& e) {
    in.fail(e.what());
  }
  std::vector<Value> out;
  for (auto& k : keyed) out.push_back(items[k.second]);
  items = std::move(out);
}

std::vector<Value> attr_list(const Value& attribute) {
  std::vector<Value> out;
  if (attribute.is_string()) {
    for (const U32& p : split_sep(util::decode(attribute.str_ref()), U",", -1)) out.push_back(str_value(p));
  } else {
    out.push_back(attribute);
  }
  return out;
}

// ---- json with ensure_ascii ----

std::string ascii_escape(const std::string& s) {
  std::string out;
  char buf[16];
  for (char32_t c : util::decode(s)) {
    if (c < 0x80) {
      out.push_back(char(c));
    } else if (c < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
      out += buf;
    } else {
      unsigned v = unsigned(c) - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      out += buf;
    }
  }
  return out;
}

Value tojson(Interpreter& in, const Value& v, Args& a) {
  // transformers' filter: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  const bool ensure_ascii = a.get_bool(0, "ensure_ascii", false);
  const Value indent = a.get(1, "indent", Value::none());
  const Value seps = a.get(2, "separators", Value::none());
  const bool sort_keys = a.get_bool(3, "sort_keys", false);
  a.done(4);
  std::string isep, ksep;
  const std::string *ip = nullptr, *kp = nullptr;
  if (!seps.is_none() && !seps.is_undefined()) {
    std::vector<Value> s = iterate(in, seps);
    if (s.size() != 2 || !s[0].is_string() || !s[1].is_string()) in.fail("tojson: separators must be (item, key) strings");
    isep = s[0].str_ref(), ksep = s[1].str_ref(), ip = &isep, kp = &ksep;
  }
  std::string out;
  try {
    if (indent.is_none() || indent.is_undefined()) {
      out = py_json_dumps(v, -1, sort_keys, ip, kp);
    } else if (indent.is_string()) {
      out = util::json_dumps_indent_str(v, indent.str_ref(), sort_keys, ip, kp);
    } else if (indent.is_int() || indent.is_bool()) {
      out = py_json_dumps(v, int(std::clamp<int64_t>(indent.as_integer(), 0, 1000)), sort_keys, ip, kp);
    } else {
      in.fail("tojson: indent must be an integer or a string");
    }
  } catch (const TemplateRuntimeError& e) {
    in.fail(e.what());
  }
  if (ensure_ascii) out = ascii_escape(out);
  in.check_size(out.size());
  in.charge(out.size() / 64);
  return Value(std::move(out));
}

Value min_max(Interpreter& in, const Value& v, Args& a, bool is_max) {
  const bool cs = a.get_bool(0, "case_sensitive", false);
  const Value attribute = a.get(1, "attribute", Value::none());
  a.done(2);
  std::vector<Value> items = iterate(in, v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  auto key = [&](const Value& x) {
    Value k = attribute.is_none() ? x : get_attr_path(in, x, attribute, Value::undefined());
    return ignore_case(k, cs);
  };
  size_t best = 0;
  Value bk = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    int c;
    try {
      c = util::py_compare(k, bk, is_max ? ">" : "<");
    } catch (const TemplateRuntimeError& e) {
      in.fail(e.what());
    }
    if (is_max ? c > 0 : c < 0) best = i, bk = k;
  }
  return items[best];
}

Value select_or_reject(Interpreter& in, const Value& v, CallArgs& ca, bool by_attr, bool select, const char* fname) {
  if (!v.truthy()) return Value::list({});  // jinja2: `if seq:` before iterating
  std::vector<Value> items = iterate(in, v);
  std::vector<Value> args = ca.pos;
  Value attribute;
  if (by_attr) {
    if (args.empty()) in.fail(std::string(fname) + "() missing the attribute argument");
    attribute = args[0];
    args.erase(args.begin());
  }
  std::string test;
  if (!args.empty()) {
    if (!args[0].is_string()) in.fail(std::string(fname) + "(): the test name must be a string");
    test = args[0].str_ref();
    args.erase(args.begin());
    if (!detail::is_known_test(test)) in.fail("No test named '" + test + "'.");
  }
  std::vector<Value> out;
  for (const Value& item : items) {
    Value x = by_attr ? get_attr_path(in, item, attribute, Value::undefined()) : item;
    bool r;
    if (test.empty()) {
      r = x.truthy();
    } else {
      CallArgs t;
      t.pos = args;
      t.kw = ca.kw;
      r = in.apply_test(test, x, t);
    }
    if (r == select) out.push_back(item);
  }
  return Value::list(std::move(out));
}

int64_t need_int(Interpreter& in, const Value& v, const std::string& what) {
  if (v.is_int() || v.is_bool()) return v.as_integer();
  in.fail(what + " must be an integer, not " + v.type_name());
}

}  // namespace

// ---- operators ----

Value binary(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    in.charge((a.str_ref().size() + b.str_ref().size()) / 64);
    std::string s = to_str(a);
    s += to_str(b);
    in.check_size(s.size());
    return Value(std::move(s));
  }
  if (op == "%" && a.is_string()) return Value(percent_format(in, a.str_ref(), b));  // b may be undefined ('%s' % u)
  if (a.is_undefined()) in.fail_undefined(a);
  if (b.is_undefined()) in.fail_undefined(b);
  auto unsupported = [&]() {
    in.fail("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
  };
  const bool ints = (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool());
  const bool nums = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) return int_result(in, __int128(a.as_integer()) + b.as_integer());
    if (nums) return Value(a.as_number() + b.as_number());
    if (a.is_string() && b.is_string()) {
      in.check_size(a.str_ref().size() + b.str_ref().size());
      in.charge((a.str_ref().size() + b.str_ref().size()) / 64);
      return Value(a.str_ref() + b.str_ref());
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple() && !a.is_range() && !b.is_range()) {
      in.charge(a.items().size() + b.items().size());
      std::vector<Value> v = a.items();
      v.insert(v.end(), b.items().begin(), b.items().end());
      return Value::list(std::move(v), a.is_tuple());
    }
    if (a.is_string()) in.fail("can only concatenate str (not \"" + b.type_name() + "\") to str");
    if (a.is_list()) in.fail("can only concatenate " + a.type_name() + " (not \"" + b.type_name() + "\") to " + a.type_name());
    unsupported();
  }
  if (op == "-") {
    if (ints) return int_result(in, __int128(a.as_integer()) - b.as_integer());
    if (nums) return Value(a.as_number() - b.as_number());
    unsupported();
  }
  if (op == "*") {
    if (ints) return int_result(in, __int128(a.as_integer()) * b.as_integer());
    if (nums) return Value(a.as_number() * b.as_number());
    const Value* seq = nullptr;
    const Value* cnt = nullptr;
    if ((a.is_string() || (a.is_list() && !a.is_range())) && (b.is_int() || b.is_bool())) seq = &a, cnt = &b;
    else if ((b.is_string() || (b.is_list() && !b.is_range())) && (a.is_int() || a.is_bool())) seq = &b, cnt = &a;
    if (!seq) {
      if (a.is_range() || b.is_range()) unsupported();
      if (a.is_string() || b.is_string() || a.is_list() || b.is_list())
        in.fail("can't multiply sequence by non-int of type '" + (a.is_string() || a.is_list() ? b : a).type_name() + "'");
      unsupported();
    }
    const int64_t n = std::max<int64_t>(0, cnt->as_integer());
    if (seq->is_string()) {
      if (n && seq->str_ref().size() > in.opts.max_output_bytes / size_t(n)) in.check_size(in.opts.max_output_bytes + 1);
      in.charge(seq->str_ref().size() * size_t(n) / 64);
      std::string s;
      s.reserve(seq->str_ref().size() * size_t(n));
      for (int64_t i = 0; i < n; ++i) s += seq->str_ref();
      return Value(std::move(s));
    }
    const auto& items = seq->items();
    if (n && items.size() > (in.opts.max_output_bytes / 16) / size_t(n)) in.check_size(in.opts.max_output_bytes + 1);
    in.charge(items.size() * size_t(n));
    std::vector<Value> v;
    for (int64_t i = 0; i < n; ++i) v.insert(v.end(), items.begin(), items.end());
    return Value::list(std::move(v), seq->is_tuple());
  }
  if (op == "/") {
    if (!nums) unsupported();
    if (b.as_number() == 0) in.fail("division by zero");
    return Value(a.as_number() / b.as_number());
  }
  if (op == "//") {
    if (!nums) unsupported();
    if (b.as_number() == 0) in.fail(ints ? "integer division or modulo by zero" : "float floor division by zero");
    if (ints) {
      if (a.as_integer() == INT64_MIN && b.as_integer() == -1) return Value(-double(INT64_MIN));
      return Value(floordiv(a.as_integer(), b.as_integer()));
    }
    return Value(std::floor(a.as_number() / b.as_number()));
  }
  if (op == "%") {
    if (a.is_string()) {
      std::string s = percent_format(in, a.str_ref(), b);
      return Value(std::move(s));
    }
    if (!nums) unsupported();
    if (b.as_number() == 0) in.fail(ints ? "integer division or modulo by zero" : "float modulo");
    if (ints) {
      int64_t x = a.as_integer(), y = b.as_integer();
      if (y == -1) return Value(int64_t(0));
      int64_t r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return Value(r);
    }
    double x = a.as_number(), y = b.as_number();
    double r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    else if (r == 0) r = std::copysign(0.0, y);
    return Value(r);
  }
  if (op == "**") {
    if (!nums) unsupported();
    if (ints && b.as_integer() >= 0) {
      const int64_t base = a.as_integer();
      int64_t e = b.as_integer();
      if (base == 0 || base == 1) return Value(e == 0 ? int64_t(1) : base);
      if (base == -1) return Value(e % 2 ? int64_t(-1) : int64_t(1));
      __int128 r = 1;
      for (; e > 0; --e) {  // |base| >= 2: at most 63 steps before leaving 64 bits
        r *= base;
        if (r > INT64_MAX || r < INT64_MIN)
          return Value(std::pow(double(a.as_integer()), double(b.as_integer())));
      }
      return Value(int64_t(r));
    }
    if (a.as_number() == 0 && b.as_number() < 0) in.fail("0.0 cannot be raised to a negative power");
    double r = std::pow(a.as_number(), b.as_number());
    if (std::isnan(r) && !std::isnan(a.as_number()) && !std::isnan(b.as_number()))
      in.fail("negative number cannot be raised to a fractional power (complex results are not supported)");
    return Value(r);
  }
  in.fail("unknown operator " + op);
}

bool contains(Interpreter& in, const Value& c, const Value& item) {
  switch (c.type()) {
    case Value::Type::Undefined: return false;
    case Value::Type::String:
      if (!item.is_string()) in.fail("'in <string>' requires string as left operand, not " + item.type_name());
      return c.str_ref().find(item.str_ref()) != std::string::npos;
    case Value::Type::List:
      for (const auto& x : c.items())
        if (py_equal(x, item)) return true;
      return false;
    case Value::Type::Dict: {
      if (item.is_list() && !item.is_tuple()) in.fail("unhashable type: 'list'");
      if (item.is_dict()) in.fail("unhashable type: 'dict'");
      return c.dict_data().find(item) != nullptr;
    }
    default: in.fail("argument of type '" + c.type_name() + "' is not iterable");
  }
}

std::vector<Value> iterate(Interpreter& in, const Value& v) {
  if (v.is_list()) in.charge(v.items().size());
  else if (v.is_string()) in.charge(v.str_ref().size());
  else if (v.is_dict()) in.charge(v.dict_data().items.size());
  switch (v.type()) {
    case Value::Type::Undefined: return {};
    case Value::Type::List: return v.items();
    case Value::Type::Dict: {
      std::vector<Value> keys;
      for (const auto& kv : v.dict_data().items) keys.push_back(kv.first);
      return keys;
    }
    case Value::Type::String: {
      std::vector<Value> chars;
      for (char32_t c : util::decode(v.str_ref())) {
        std::string s;
        util::append_utf8(s, c);
        chars.emplace_back(std::move(s));
      }
      return chars;
    }
    default: in.fail("'" + v.type_name() + "' object is not iterable");
  }
}

size_t length(Interpreter& in, const Value& v) {
  switch (v.type()) {
    case Value::Type::Undefined: return 0;
    case Value::Type::String: return util::count_chars(v.str_ref());
    case Value::Type::List: return v.items().size();
    case Value::Type::Dict: return v.dict_data().items.size();
    default: in.fail("object of type '" + v.type_name() + "' has no len()");
  }
}

Value slice(Interpreter& in, const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) in.fail_undefined(obj);
  if (!obj.is_list() && !obj.is_string()) return Value::undefined("'" + obj.type_name() + " object' has no element slice");
  auto idx = [&](const Value& v) -> std::optional<int64_t> {
    if (v.is_none()) return std::nullopt;
    if (v.is_int() || v.is_bool()) return v.as_integer();
    in.fail("slice indices must be integers or None or have an __index__ method");
  };
  const std::optional<int64_t> st = idx(start), sp = idx(stop), sd = idx(step);
  const int64_t k = sd.value_or(1);
  if (k == 0) in.fail("slice step cannot be zero");
  U32 u;
  const bool is_str = obj.is_string();
  in.charge(is_str ? obj.str_ref().size() / 16 : obj.items().size());
  if (is_str) u = util::decode(obj.str_ref());
  const int64_t n = is_str ? int64_t(u.size()) : int64_t(obj.items().size());
  auto adjust = [&](std::optional<int64_t> x, int64_t dflt) {
    if (!x) return dflt;
    int64_t i = *x;
    if (i < 0) {
      i += n;
      if (i < 0) i = k < 0 ? -1 : 0;
    } else if (i >= n) {
      i = k < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t b = adjust(st, k < 0 ? n - 1 : 0), e = adjust(sp, k < 0 ? -1 : n);
  std::vector<int64_t> picks;
  for (int64_t i = b; k > 0 ? i < e : i > e; i += k) picks.push_back(i);
  if (is_str) {
    U32 r;
    for (int64_t i : picks) r.push_back(u[size_t(i)]);
    return str_value(r);
  }
  std::vector<Value> r;
  for (int64_t i : picks) r.push_back(obj.items()[size_t(i)]);
  if (obj.is_range()) {  // a slice of a range is a range
    const ListData& rd = obj.list_data();
    return Value::range(rd.start + b * rd.step, rd.start + e * rd.step, rd.step * k, std::move(r));
  }
  return Value::list(std::move(r), obj.is_tuple());
}

// ---- methods ----

namespace {

Value bound(const std::string& name, std::function<Value(Interpreter&, CallArgs&)> fn) {
  auto f = std::make_shared<FunctionData>();
  f->name = name;
  f->fn = std::move(fn);
  return Value::function(f);
}

bool prefix_match(Interpreter& in, const U32& s, const Value& pfx, int64_t b, int64_t e, bool ends) {
  std::vector<Value> options;
  if (pfx.is_tuple()) options = pfx.items();
  else if (pfx.is_string()) options = {pfx};
  else in.fail(std::string(ends ? "endswith" : "startswith") + " first arg must be str or a tuple of str, not " + pfx.type_name());
  const int64_t n = int64_t(s.size());
  b = py_index(b, n), e = py_index(e, n);
  for (const Value& o : options) {
    if (!o.is_string()) in.fail("tuple for startswith/endswith must only contain str, not " + o.type_name());
    U32 p = util::decode(o.str_ref());
    if (e - b < int64_t(p.size())) continue;
    if (ends ? s.compare(size_t(e) - p.size(), p.size(), p) == 0 : s.compare(size_t(b), p.size(), p) == 0) return true;
  }
  return false;
}

Value str_method(Interpreter& in, const std::string& self, const std::string& name, CallArgs& ca) {
  in.charge(self.size() / 64);
  Args a(in, ca, name);
  const U32 s = util::decode(self);
  auto opt_chars = [&](size_t i, const char* n) -> std::optional<U32> {
    Value v = a.get(i, n, Value::none());
    if (v.is_none()) return std::nullopt;
    return util::decode(need_str(in, v, std::string(n)));
  };
  auto list_of = [](const std::vector<U32>& parts) {
    std::vector<Value> v;
    for (const auto& p : parts) v.push_back(str_value(p));
    return Value::list(std::move(v));
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    auto chars = opt_chars(0, "chars");
    a.done(1);
    return str_value(strip(s, chars ? &*chars : nullptr, name != "rstrip", name != "lstrip"));
  }
  if (name == "startswith" || name == "endswith") {
    Value p = a.need(0, "prefix");
    int64_t b = a.get_int(1, "start", 0), e = a.get_int(2, "end", INT64_MAX);
    a.done(3);
    return Value(prefix_match(in, s, p, b, e, name == "endswith"));
  }
  if (name == "split" || name == "rsplit") {
    Value sep = a.get(0, "sep", Value::none());
    int64_t maxsplit = a.get_int(1, "maxsplit", -1);
    a.done(2);
    if (sep.is_none()) return list_of(name == "split" ? split_ws(s, maxsplit) : rsplit_ws(s, maxsplit));
    U32 sp = util::decode(need_str(in, sep, "sep"));
    if (sp.empty()) in.fail("empty separator");
    return list_of(name == "split" ? split_sep(s, sp, maxsplit) : rsplit_sep(s, sp, maxsplit));
  }
  if (name == "splitlines") {
    bool keep = a.get_bool(0, "keepends", false);
    a.done(1);
    return list_of(splitlines(s, keep));
  }
  if (name == "replace") {
    U32 o = util::decode(need_str(in, a.need(0, "old"), "replace() argument 1"));
    U32 r = util::decode(need_str(in, a.need(1, "new"), "replace() argument 2"));
    int64_t count = a.get_int(2, "count", -1);
    a.done(3);
    U32 res = replace(s, o, r, count);
    in.check_size(res.size() * 4);
    return str_value(res);
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "swapcase" ||
      name == "casefold") {
    a.done(0);
    if (name == "upper") return Value(util::upper(self));
    if (name == "lower" || name == "casefold") return Value(util::lower(self));
    if (name == "title") return str_value(py_title(s));
    if (name == "capitalize") return str_value(capitalize(s));
    U32 out;
    for (char32_t c : s) {
      if (util::is_upper(c)) util::to_lower(c, out);
      else if (util::is_lower(c)) util::to_upper(c, out);
      else out.push_back(c);
    }
    return str_value(out);
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    U32 sub = util::decode(need_str(in, a.need(0, "sub"), "must be str"));
    const int64_t n = int64_t(s.size());
    int64_t b = py_index(a.get_int(1, "start", 0), n), e = py_index(a.get_int(2, "end", INT64_MAX), n);
    a.done(3);
    if (name == "count") {
      if (b > e) return Value(int64_t(0));
      if (sub.empty()) return Value(e - b + 1);
      int64_t c = 0;
      for (size_t p = size_t(b); (p = s.find(sub, p)) != U32::npos && int64_t(p + sub.size()) <= e; p += sub.size()) ++c;
      return Value(c);
    }
    int64_t found = -1;
    if (b <= e && int64_t(sub.size()) <= e - b) {
      U32 window = s.substr(size_t(b), size_t(e - b));
      size_t p = (name[0] == 'r') ? window.rfind(sub) : window.find(sub);
      if (p != U32::npos) found = b + int64_t(p);
    }
    if (found < 0 && (name == "index" || name == "rindex")) in.fail("substring not found");
    return Value(found);
  }
  if (name == "join") {
    std::vector<Value> items = iterate(in, a.need(0, "iterable"));
    a.done(1);
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string())
        in.fail("sequence item " + std::to_string(i) + ": expected str instance, " + items[i].type_name() + " found");
      if (i) out += self;
      out += items[i].str_ref();
      in.check_size(out.size());
    }
    return Value(std::move(out));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "isnumeric" ||
      name == "isdecimal" || name == "islower" || name == "isupper" || name == "istitle") {
    a.done(0);
    if (s.empty()) return Value(false);
    if (name == "islower" || name == "isupper") {
      bool any = false;
      for (char32_t c : s) {
        if (name == "islower" ? util::is_upper(c) : util::is_lower(c)) return Value(false);
        any |= util::is_cased(c);
      }
      return Value(any);
    }
    if (name == "istitle") return Value(py_title(s) == s && std::any_of(s.begin(), s.end(), util::is_cased));
    for (char32_t c : s) {
      bool ok = name == "isdigit" ? util::is_digit(c)
                : name == "isalpha" ? util::is_alpha(c)
                : name == "isalnum" ? (util::is_alpha(c) || util::is_numeric(c))
                : name == "isspace" ? util::is_space(c)
                : name == "isnumeric" ? util::is_numeric(c)
                                      : util::is_decimal(c);
      if (!ok) return Value(false);
    }
    return Value(true);
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    int64_t w = need_int(in, a.need(0, "width"), "width");
    char32_t fill = fillchar(in, a.get(1, "fillchar"));
    a.done(2);
    in.check_size(size_t(std::max<int64_t>(w, 0)));
    return str_value(pad(s, w, fill, name == "ljust" ? -1 : name == "rjust" ? 1 : 0));
  }
  if (name == "zfill") {
    int64_t w = need_int(in, a.need(0, "width"), "width");
    a.done(1);
    in.check_size(size_t(std::max<int64_t>(w, 0)));
    if (int64_t(s.size()) >= w) return Value(self);
    size_t k = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    return str_value(s.substr(0, k) + U32(size_t(w - int64_t(s.size())), '0') + s.substr(k));
  }
  if (name == "partition" || name == "rpartition") {
    U32 sep = util::decode(need_str(in, a.need(0, "sep"), "sep"));
    a.done(1);
    if (sep.empty()) in.fail("empty separator");
    size_t p = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (p == U32::npos)
      return name == "partition" ? tuple({Value(self), Value(""), Value("")}) : tuple({Value(""), Value(""), Value(self)});
    return tuple({str_value(s.substr(0, p)), str_value(sep), str_value(s.substr(p + sep.size()))});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    U32 x = util::decode(need_str(in, a.need(0, name == "removeprefix" ? "prefix" : "suffix"), "argument"));
    a.done(1);
    if (name == "removeprefix" && s.compare(0, x.size(), x) == 0) return str_value(s.substr(x.size()));
    if (name == "removesuffix" && !x.empty() && s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0)
      return str_value(s.substr(0, s.size() - x.size()));
    return Value(self);
  }
  if (name == "format") return Value(str_format(in, self, ca));
  in.fail("internal error: str method " + name);
}

const std::set<std::string>& str_methods() {
  static const std::set<std::string> s = {
      "strip",  "lstrip",  "rstrip",  "startswith", "endswith", "split",     "rsplit",     "splitlines", "replace",
      "upper",  "lower",   "title",   "capitalize", "swapcase", "casefold",  "find",       "rfind",      "index",
      "rindex", "count",   "join",    "isdigit",    "isalpha",  "isalnum",   "isspace",    "isnumeric",  "isdecimal",
      "islower", "isupper", "istitle", "center",    "ljust",    "rjust",     "zfill",      "partition",  "rpartition",
      "removeprefix", "removesuffix", "format"};
  return s;
}

}  // namespace

Value method(Interpreter& in, const Value& obj, const std::string& name, bool& found) {
  found = false;
  if (obj.is_string()) {
    if (!str_methods().count(name)) {
      if (name == "encode" || name == "expandtabs" || name == "format_map" || name == "translate" || name == "maketrans") {
        found = true;
        return bound(name, [name](Interpreter& i, CallArgs&) -> Value { i.fail("str." + name + "() is not supported"); });
      }
      return Value();
    }
    found = true;
    std::string self = obj.str_ref();
    return bound(name, [self, name](Interpreter& i, CallArgs& a) { return str_method(i, self, name, a); });
  }
  if (obj.is_dict()) {
    if (name == "items" || name == "keys" || name == "values" || name == "get" || name == "copy") {
      found = true;
      Value self = obj;
      return bound(name, [self, name](Interpreter& i, CallArgs& ca) -> Value {
        Args a(i, ca, name);
        if (name == "get") {
          Value k = a.need(0, "key");
          Value d = a.get(1, "default", Value::none());
          a.done(2);
          if (const Value* v = self.dict_data().find(k)) return *v;
          return d;
        }
        a.done(0);
        if (name == "copy") return self;
        std::vector<Value> out;
        for (const auto& [k, v] : self.dict_data().items)
          out.push_back(name == "items" ? tuple({k, v}) : name == "keys" ? k : v);
        return Value::list(std::move(out));
      });
    }
    if (name == "pop" || name == "popitem" || name == "setdefault" || name == "update" || name == "clear" ||
        name == "fromkeys") {
      found = true;
      return Value::undefined("access to attribute '" + name + "' of 'dict' object is unsafe.");
    }
    return Value();
  }
  if (obj.is_list()) {
    if (name == "index" || name == "count") {
      found = true;
      Value self = obj;
      return bound(name, [self, name](Interpreter& i, CallArgs& ca) -> Value {
        Args a(i, ca, name);
        Value x = a.need(0, "value");
        a.done(1);
        int64_t c = 0;
        const auto& items = self.items();
        for (size_t k = 0; k < items.size(); ++k)
          if (py_equal(items[k], x)) {
            if (name == "index") return Value(int64_t(k));
            ++c;
          }
        if (name == "index") i.fail(x.repr() + " is not in list");
        return Value(c);
      });
    }
    if (!obj.is_tuple() && (name == "append" || name == "extend" || name == "insert" || name == "pop" ||
                            name == "remove" || name == "reverse" || name == "sort" || name == "clear")) {
      found = true;
      return Value::undefined("access to attribute '" + name + "' of 'list' object is unsafe.");
    }
  }
  return Value();
}

// ---- filters ----

}  // namespace builtins

Value Interpreter::apply_filter(const std::string& name, const Value& v, CallArgs& ca) {
  using namespace builtins;
  Args a(*this, ca, name);
  auto as_text = [&](const Value& x) { return to_str(x); };
  if (name == "length" || name == "count") {
    a.done(0);
    return Value(int64_t(length(*this, v)));
  }
  if (name == "default" || name == "d") {
    Value dv = a.get(0, "default_value", Value(""));
    bool boolean = a.get_bool(1, "boolean", false);
    a.done(2);
    if (v.is_undefined() || (boolean && !v.truthy())) return dv;
    return v;
  }
  if (name == "trim") {
    Value chars = a.get(0, "chars", Value::none());
    a.done(1);
    U32 cs;
    if (!chars.is_none()) cs = util::decode(need_str(*this, chars, "chars"));
    return str_value(strip(util::decode(as_text(v)), chars.is_none() ? nullptr : &cs, true, true));
  }
  if (name == "upper" || name == "lower") {
    a.done(0);
    return Value(name == "upper" ? util::upper(as_text(v)) : util::lower(as_text(v)));
  }
  if (name == "capitalize") {
    a.done(0);
    return str_value(capitalize(util::decode(as_text(v))));
  }
  if (name == "title") {
    a.done(0);
    return str_value(jinja_title(util::decode(as_text(v))));
  }
  if (name == "string") {
    a.done(0);
    return Value(as_text(v));
  }
  if (name == "safe") {
    a.done(0);
    return v.is_string() ? v : Value(as_text(v));
  }
  if (name == "escape" || name == "e" || name == "forceescape") {
    a.done(0);
    return Value(html_escape(as_text(v)));
  }
  if (name == "tojson") return tojson(*this, v, a);
  if (name == "join") {
    Value d = a.get(0, "d", Value(""));
    Value attribute = a.get(1, "attribute", Value::none());
    a.done(2);
    std::vector<Value> items = iterate(*this, v);
    std::string sep = as_text(d), out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += sep;
      const Value x = attribute.is_none() ? items[i] : get_attr_path(*this, items[i], attribute, Value::undefined());
      out += as_text(x);
      check_size(out.size());
    }
    return Value(std::move(out));
  }
  if (name == "first" || name == "last") {
    a.done(0);
    std::vector<Value> items = iterate(*this, v);
    if (items.empty())
      return Value::undefined(name == "first" ? "No first item, sequence was empty." : "No last item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    a.done(0);
    return Value::list(iterate(*this, v));
  }
  if (name == "reverse") {
    a.done(0);
    if (v.is_string()) {
      U32 u = util::decode(v.str_ref());
      std::reverse(u.begin(), u.end());
      return str_value(u);
    }
    std::vector<Value> items = iterate(*this, v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "items") {
    a.done(0);
    if (v.is_undefined()) return Value::list({});
    if (!v.is_dict()) fail("Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, x] : v.dict_data().items) out.push_back(tuple({k, x}));
    return Value::list(std::move(out));
  }
  if (name == "dictsort") {
    bool cs = a.get_bool(0, "case_sensitive", false);
    Value by = a.get(1, "by", Value("key"));
    bool reverse = a.get_bool(2, "reverse", false);
    a.done(3);
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_dict()) fail("'" + v.type_name() + "' object has no attribute 'items'");
    int pos = 0;
    if (by.is_string() && by.str_ref() == "value") pos = 1;
    else if (!(by.is_string() && by.str_ref() == "key")) fail("You can only sort by either \"key\" or \"value\"");
    std::vector<Value> out;
    for (const auto& [k, x] : v.dict_data().items) out.push_back(tuple({k, x}));
    sort_values(*this, out, [&](const Value& t) { return ignore_case(t.items()[size_t(pos)], cs); }, reverse);
    return Value::list(std::move(out));
  }
  if (name == "sort") {
    bool reverse = a.get_bool(0, "reverse", false);
    bool cs = a.get_bool(1, "case_sensitive", false);
    Value attribute = a.get(2, "attribute", Value::none());
    a.done(3);
    std::vector<Value> items = iterate(*this, v);
    std::vector<Value> attrs = attribute.is_none() ? std::vector<Value>{} : attr_list(attribute);
    sort_values(*this, items,
                [&](const Value& x) {
                  if (attrs.empty()) return ignore_case(x, cs);
                  if (attrs.size() == 1) return ignore_case(get_attr_path(*this, x, attrs[0], Value::undefined()), cs);
                  std::vector<Value> key;
                  for (const auto& at : attrs) key.push_back(ignore_case(get_attr_path(*this, x, at, Value::undefined()), cs));
                  return Value::list(std::move(key));
                },
                reverse);
    return Value::list(std::move(items));
  }
  if (name == "unique") {
    bool cs = a.get_bool(0, "case_sensitive", false);
    Value attribute = a.get(1, "attribute", Value::none());
    a.done(2);
    std::vector<Value> out, seen;
    for (const Value& x : iterate(*this, v)) {
      Value k = ignore_case(attribute.is_none() ? x : get_attr_path(*this, x, attribute, Value::undefined()), cs);
      bool dup = false;
      for (const auto& s : seen) dup |= py_equal(s, k);
      if (!dup) seen.push_back(k), out.push_back(x);
    }
    return Value::list(std::move(out));
  }
  if (name == "min" || name == "max") return min_max(*this, v, a, name == "max");
  if (name == "sum") {
    Value attribute = a.get(0, "attribute", Value::none());
    Value start = a.get(1, "start", Value(int64_t(0)));
    a.done(2);
    Value acc = start;
    for (const Value& x : iterate(*this, v))
      acc = binary(*this, "+", acc, attribute.is_none() ? x : get_attr_path(*this, x, attribute, Value::undefined()));
    return acc;
  }
  if (name == "map") {
    std::vector<Value> items = v.truthy() ? iterate(*this, v) : std::vector<Value>{};  // jinja2: `if seq:`
    std::vector<Value> out;
    if (ca.pos.empty()) {
      Value attribute, dflt = Value::undefined();
      bool have_attr = false;
      for (auto& [k, x] : ca.kw) {
        if (k == "attribute") attribute = x, have_attr = true;
        else if (k == "default") dflt = x;
        else fail("Unexpected keyword argument '" + k + "'");
      }
      if (!have_attr) fail("map requires a filter argument");
      for (const Value& x : items) out.push_back(get_attr_path(*this, x, attribute, dflt));
      return Value::list(std::move(out));
    }
    if (!ca.pos[0].is_string()) fail("map: the filter name must be a string");
    const std::string f = ca.pos[0].str_ref();
    if (!detail::is_known_filter(f)) fail("No filter named '" + f + "'.");
    for (const Value& x : items) {
      CallArgs sub;
      sub.pos.assign(ca.pos.begin() + 1, ca.pos.end());
      sub.kw = ca.kw;
      out.push_back(apply_filter(f, x, sub));
    }
    return Value::list(std::move(out));
  }
  if (name == "select" || name == "reject") return select_or_reject(*this, v, ca, false, name == "select", name.c_str());
  if (name == "selectattr" || name == "rejectattr")
    return select_or_reject(*this, v, ca, true, name == "selectattr", name.c_str());
  if (name == "int") {
    Value dflt = a.get(0, "default", Value(int64_t(0)));
    int64_t base = a.get_int(1, "base", 10);
    a.done(2);
    if (v.is_undefined()) fail_undefined(v);
    if (v.is_int() || v.is_bool()) return Value(v.as_integer());
    if (v.is_float()) {
      if (!std::isfinite(v.as_float())) return dflt;
      double t = std::trunc(v.as_float());
      if (t >= 9.2e18 || t <= -9.2e18) return Value(t);
      return Value(int64_t(t));
    }
    if (v.is_string()) {
      int64_t r;
      if (base >= 0 && base <= 36 && base != 1 && parse_py_int(v.str_ref(), int(base), r)) return Value(r);
      double d;
      if (parse_py_float(v.str_ref(), d) && std::isfinite(d)) {
        double t = std::trunc(d);
        if (t >= 9.2e18 || t <= -9.2e18) return Value(t);
        return Value(int64_t(t));
      }
    }
    return dflt;
  }
  if (name == "float") {
    Value dflt = a.get(0, "default", Value(0.0));
    a.done(1);
    if (v.is_undefined()) fail_undefined(v);
    if (v.is_number()) return Value(v.as_number());
    double d;
    if (v.is_string() && parse_py_float(v.str_ref(), d)) return Value(d);
    return dflt;
  }
  if (name == "abs") {
    a.done(0);
    if (v.is_int() || v.is_bool()) return int_result(*this, v.as_integer() < 0 ? -__int128(v.as_integer()) : v.as_integer());
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    fail("bad operand type for abs(): '" + v.type_name() + "'");
  }
  if (name == "round") {
    int64_t prec = a.get_int(0, "precision", 0);
    Value method = a.get(1, "method", Value("common"));
    a.done(2);
    const std::string m = method.is_string() ? method.str_ref() : "";
    if (m != "common" && m != "ceil" && m != "floor") fail("method must be common, ceil or floor");
    if (!v.is_number()) fail("type " + v.type_name() + " doesn't define __round__ method");
    if (m == "common") {
      if (v.is_int() || v.is_bool()) {
        if (prec >= 0) return Value(v.as_integer());
        double p = std::pow(10.0, double(-prec));
        return Value(int64_t(std::nearbyint(double(v.as_integer()) / p) * p));
      }
      double x = v.as_float();
      if (!std::isfinite(x)) return Value(x);
      if (prec == 0) return Value(std::nearbyint(x));  // round half to even, as Python
      if (prec > 0 && prec < 330) {
        char buf[512];
        std::snprintf(buf, sizeof buf, "%.*f", int(prec), x);
        return Value(std::strtod(buf, nullptr));
      }
      if (prec >= 330) return Value(x);
      double p = std::pow(10.0, double(-prec));
      return Value(std::nearbyint(x / p) * p);
    }
    double p = std::pow(10.0, double(prec));
    double x = v.as_number() * p;
    return Value((m == "ceil" ? std::ceil(x) : std::floor(x)) / p);
  }
  if (name == "replace") {
    U32 s = util::decode(as_text(v));
    U32 o = util::decode(as_text(a.need(0, "old")));
    U32 r = util::decode(as_text(a.need(1, "new")));
    Value count = a.get(2, "count", Value::none());
    a.done(3);
    U32 res = replace(s, o, r, count.is_none() ? -1 : need_int(*this, count, "count"));
    check_size(res.size() * 4);
    return str_value(res);
  }
  if (name == "center") {
    int64_t w = a.get_int(0, "width", 80);
    a.done(1);
    check_size(size_t(std::max<int64_t>(w, 0)));
    return str_value(pad(util::decode(as_text(v)), w, ' ', 0));
  }
  if (name == "indent") {
    Value width = a.get(0, "width", Value(int64_t(4)));
    bool first = a.get_bool(1, "first", false);
    bool blank = a.get_bool(2, "blank", false);
    a.done(3);
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_string()) fail("indent: expected a string, got " + v.type_name());
    U32 ind = width.is_string() ? util::decode(width.str_ref()) : U32(size_t(std::clamp<int64_t>(need_int(*this, width, "width"), 0, 100000)), ' ');
    U32 s = util::decode(as_text(v)) + U32(U"\n");
    std::vector<U32> lines = splitlines(s, false);
    U32 rv;
    if (blank) {
      for (size_t i = 0; i < lines.size(); ++i) rv += (i ? U32(U"\n") + ind : U32()) + lines[i];
    } else {
      rv = lines.empty() ? U32() : lines[0];
      for (size_t i = 1; i < lines.size(); ++i) rv += U32(U"\n") + (lines[i].empty() ? U32() : ind) + lines[i];
    }
    if (first) rv = ind + rv;
    check_size(rv.size() * 4);
    return str_value(rv);
  }
  if (name == "wordcount") {
    a.done(0);
    int64_t n = 0;
    bool in_word = false;
    for (char32_t c : util::decode(as_text(v))) {
      bool w = c == '_' || util::is_alpha(c) || util::is_numeric(c);
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value(n);
  }
  if (name == "truncate") {
    int64_t length = a.get_int(0, "length", 255);
    bool killwords = a.get_bool(1, "killwords", false);
    Value end = a.get(2, "end", Value("..."));
    Value leeway = a.get(3, "leeway", Value::none());
    a.done(4);
    int64_t lw = leeway.is_none() ? 5 : need_int(*this, leeway, "leeway");
    if (!v.is_string()) {  // jinja2 takes len() of the value itself
      if (v.is_undefined()) return v;
      if ((v.is_list() || v.is_dict()) && int64_t(builtins::length(*this, v)) <= length + lw) return v;
      fail("object of type '" + v.type_name() + "' has no len()");
    }
    U32 s = util::decode(as_text(v)), e = util::decode(as_text(end));
    if (length < int64_t(e.size())) fail("expected length >= " + std::to_string(e.size()) + ", got " + std::to_string(length));
    if (lw < 0) fail("expected leeway >= 0, got " + std::to_string(lw));
    if (int64_t(s.size()) <= length + lw) return Value(as_text(v));
    U32 head = s.substr(0, size_t(length - int64_t(e.size())));
    if (killwords) return str_value(head + e);
    std::vector<U32> parts = rsplit_sep(head, U" ", 1);
    return str_value(parts[0] + e);
  }
  if (name == "batch") {
    int64_t n = need_int(*this, a.need(0, "linecount"), "linecount");
    Value fill = a.get(1, "fill_with", Value::none());
    a.done(2);
    if (n <= 0) fail("batch: linecount must be positive");
    std::vector<Value> out, cur;
    for (const Value& x : iterate(*this, v)) {
      cur.push_back(x);
      if (int64_t(cur.size()) == n) out.push_back(Value::list(std::move(cur))), cur.clear();
    }
    if (!cur.empty()) {
      if (!fill.is_none())
        while (int64_t(cur.size()) < n) cur.push_back(fill);
      out.push_back(Value::list(std::move(cur)));
    }
    return Value::list(std::move(out));
  }
  if (name == "attr") {
    Value n = a.need(0, "name");
    a.done(1);
    if (v.is_undefined()) fail_undefined(v);
    const std::string an = as_text(n);
    bool found = false;
    Value m = method(*this, v, an, found);
    if (found) return m;
    if (v.is_object())
      if (Value* x = v.object_data()->find(an)) return *x;
    return Value::undefined("'" + v.type_name() + " object' has no attribute '" + an + "'");
  }
  if (name == "format") {
    std::string fmt = as_text(v);
    if (!ca.kw.empty() && !ca.pos.empty()) fail("can't handle positional and keyword arguments at the same time");
    if (!ca.kw.empty()) {
      std::vector<std::pair<Value, Value>> kv;
      for (auto& [k, x] : ca.kw) kv.emplace_back(Value(k), x);
      return Value(percent_format(*this, fmt, Value::dict(std::move(kv))));
    }
    return Value(percent_format(*this, fmt, tuple(ca.pos)));
  }
  fail("the '" + name + "' filter is not supported");
}

// ---- tests ----

bool Interpreter::apply_test(const std::string& name, const Value& v, CallArgs& ca) {
  using namespace builtins;
  Args a(*this, ca, name);
  auto one = [&]() {
    Value x = a.need(0, "other");
    a.done(1);
    return x;
  };
  if (name == "defined" || name == "undefined") {
    a.done(0);
    return v.is_undefined() == (name == "undefined");
  }
  if (name == "none") return a.done(0), v.is_none();
  if (name == "boolean") return a.done(0), v.is_bool();
  if (name == "true") return a.done(0), v.is_bool() && v.as_bool();
  if (name == "false") return a.done(0), v.is_bool() && !v.as_bool();
  if (name == "integer") return a.done(0), v.is_int();
  if (name == "float") return a.done(0), v.is_float();
  if (name == "number") return a.done(0), v.is_number();
  if (name == "string") return a.done(0), v.is_string();
  if (name == "mapping") return a.done(0), v.is_dict();
  if (name == "iterable") {
    a.done(0);
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict() ||
           (v.is_object() && v.object_data()->type_name == "LoopContext");
  }
  if (name == "sequence") {
    a.done(0);
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
  }
  if (name == "callable") {
    a.done(0);
    return v.is_function() || v.is_undefined() || (v.is_object() && v.object_data()->type_name == "LoopContext");
  }
  if (name == "escaped") return a.done(0), false;
  if (name == "lower" || name == "upper") {
    a.done(0);
    U32 s = util::decode(to_str(v));
    bool any = false;
    for (char32_t c : s) {
      if (name == "lower" ? util::is_upper(c) : util::is_lower(c)) return false;
      any |= util::is_cased(c);
    }
    return any;
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    Value d = name == "divisibleby" ? a.need(0, "num") : Value(int64_t(2));
    a.done(name == "divisibleby" ? 1 : 0);
    Value r = binary(*this, "%", v, d);
    return py_equal(r, Value(int64_t(name == "odd" ? 1 : 0)));
  }
  if (name == "in") {
    Value seq = a.need(0, "seq");
    a.done(1);
    return contains(*this, seq, v);
  }
  if (name == "sameas") {
    Value o = one();
    if (v.type() != o.type()) return false;
    if (v.is_list()) return &v.items() == &o.items();  // identity, as Python's `is`
    if (v.is_dict()) return &v.dict_data() == &o.dict_data();
    return py_equal(v, o);
  }
  if (name == "eq" || name == "equalto" || name == "==") return py_equal(v, one());
  if (name == "ne" || name == "!=") return !py_equal(v, one());
  if (name == "lt" || name == "lessthan" || name == "<" || name == "le" || name == "<=" || name == "gt" ||
      name == "greaterthan" || name == ">" || name == "ge" || name == ">=") {
    Value o = one();
    if (v.is_undefined()) fail_undefined(v);
    if (o.is_undefined()) fail_undefined(o);
    const char* op = (name == "lt" || name == "lessthan" || name == "<") ? "<"
                     : (name == "le" || name == "<=")                     ? "<="
                     : (name == "gt" || name == "greaterthan" || name == ">") ? ">"
                                                                             : ">=";
    int c;
    try {
      c = util::py_compare(v, o, op);
    } catch (const TemplateRuntimeError& e) {
      fail(e.what());
    }
    return op[0] == '<' ? (op[1] ? c <= 0 : c < 0) : (op[1] ? c >= 0 : c > 0);
  }
  if (name == "filter") return a.done(0), v.is_string() && detail::is_known_filter(v.str_ref());
  if (name == "test") return a.done(0), v.is_string() && detail::is_known_test(v.str_ref());
  fail("the '" + name + "' test is not supported");
}

// ---- globals ----

namespace builtins {

std::vector<std::pair<std::string, Value>> globals() {
  std::vector<std::pair<std::string, Value>> g;
  g.emplace_back("raise_exception", bound("raise_exception", [](Interpreter& in, CallArgs& ca) -> Value {
                   Args a(in, ca, "raise_exception");
                   Value m = a.get(0, "message", Value(""));
                   a.done(1);
                   throw TemplateRaised(to_str(m));
                 }));
  g.emplace_back("strftime_now", bound("strftime_now", [](Interpreter& in, CallArgs& ca) -> Value {
                   Args a(in, ca, "strftime_now");
                   std::string fmt = need_str(in, a.need(0, "format"), "strftime_now() format");
                   a.done(1);
                   std::time_t t = std::time(nullptr);
                   std::tm tm{};
                   localtime_r(&t, &tm);
                   if (fmt.empty()) return Value("");
                   std::vector<char> buf(fmt.size() * 8 + 256);
                   size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
                   return Value(std::string(buf.data(), n));
                 }));
  g.emplace_back("range", bound("range", [](Interpreter& in, CallArgs& ca) -> Value {
                   if (!ca.kw.empty()) in.fail("range() takes no keyword arguments");
                   if (ca.pos.empty() || ca.pos.size() > 3)
                     in.fail("range expected 1 to 3 arguments, got " + std::to_string(ca.pos.size()));
                   std::vector<int64_t> p;
                   for (const Value& x : ca.pos) p.push_back(need_int(in, x, "range() argument"));
                   int64_t start = 0, stop, step = 1;
                   if (p.size() == 1) stop = p[0];
                   else start = p[0], stop = p[1];
                   if (p.size() == 3) step = p[2];
                   if (step == 0) in.fail("range() arg 3 must not be zero");
                   __int128 count = step > 0 ? (stop > start ? (__int128(stop) - start + step - 1) / step : 0)
                                             : (start > stop ? (__int128(start) - stop - step - 1) / (-__int128(step)) : 0);
                   if (count > 100000)
                     in.fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
                   in.charge(size_t(count));
                   std::vector<Value> out;
                   for (__int128 i = 0; i < count; ++i) out.push_back(Value(int64_t(start + i * step)));
                   return Value::range(start, stop, step, std::move(out));
                 }));
  g.emplace_back("dict", bound("dict", [](Interpreter& in, CallArgs& ca) -> Value {
                   std::vector<std::pair<Value, Value>> items;
                   if (ca.pos.size() > 1) in.fail("dict expected at most 1 argument, got " + std::to_string(ca.pos.size()));
                   if (!ca.pos.empty()) {
                     const Value& src = ca.pos[0];
                     if (src.is_dict()) {
                       items = src.dict_data().items;
                     } else {
                       for (const Value& kv : iterate(in, src)) {
                         std::vector<Value> pair = iterate(in, kv);
                         if (pair.size() != 2) in.fail("dictionary update sequence element has the wrong length");
                         items.emplace_back(pair[0], pair[1]);
                       }
                     }
                   }
                   for (auto& [k, v] : ca.kw) items.emplace_back(Value(k), v);
                   return Value::dict(std::move(items));
                 }));
  g.emplace_back("namespace", bound("namespace", [](Interpreter& in, CallArgs& ca) -> Value {
                   auto o = std::make_shared<ObjectData>();
                   o->type_name = "Namespace";
                   o->is_namespace = true;
                   in.owned_objects.push_back(o);
                   if (ca.pos.size() > 1) in.fail("namespace expected at most 1 positional argument");
                   auto put = [&](const std::string& k, const Value& v) {
                     if (Value* s = o->find(k)) *s = v;
                     else o->attrs.emplace_back(k, v);
                   };
                   if (!ca.pos.empty()) {
                     if (!ca.pos[0].is_dict()) in.fail("namespace() takes a mapping as its positional argument");
                     for (const auto& [k, v] : ca.pos[0].dict_data().items) put(to_str(k), v);
                   }
                   for (auto& [k, v] : ca.kw) put(k, v);
                   return Value::object(o);
                 }));
  g.emplace_back("joiner", bound("joiner", [](Interpreter& in, CallArgs& ca) -> Value {
                   Args a(in, ca, "joiner");
                   std::string sep = to_str(a.get(0, "sep", Value(", ")));
                   a.done(1);
                   auto used = std::make_shared<bool>(false);
                   return bound("joiner", [sep, used](Interpreter&, CallArgs&) -> Value {
                     if (!*used) {
                       *used = true;
                       return Value("");
                     }
                     return Value(sep);
                   });
                 }));
  g.emplace_back("cycler", bound("cycler", [](Interpreter& in, CallArgs& ca) -> Value {
                   if (ca.pos.empty()) in.fail("at least one item has to be provided");
                   auto items = std::make_shared<std::vector<Value>>(ca.pos);
                   auto pos = std::make_shared<size_t>(0);
                   auto o = std::make_shared<ObjectData>();
                   o->type_name = "Cycler";
                   in.owned_objects.push_back(o);
                   std::weak_ptr<ObjectData> weak = o;
                   auto refresh = [weak, items, pos]() {
                     if (auto obj = weak.lock())
                       if (Value* c = obj->find("current")) *c = (*items)[*pos];
                   };
                   o->attrs.emplace_back("current", (*items)[0]);
                   o->attrs.emplace_back("next", bound("next", [items, pos, refresh](Interpreter&, CallArgs&) -> Value {
                                           Value r = (*items)[*pos];
                                           *pos = (*pos + 1) % items->size();
                                           refresh();
                                           return r;
                                         }));
                   o->attrs.emplace_back("reset", bound("reset", [pos, refresh](Interpreter&, CallArgs&) -> Value {
                                           *pos = 0;
                                           refresh();
                                           return Value::none();
                                         }));
                   return Value::object(o);
                 }));
  return g;
}

}  // namespace builtins

}  // namespace cppformers::tokenizers::jinja
