// Lexer and parser of the Jinja subset, following jinja2's own lexer (whitespace control,
// trim_blocks, lstrip_blocks, raw blocks) and its recursive-descent grammar (operator
// precedence, filters and tests binding tighter than comparisons, tuples, slices).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "cppformers/tokenizers/jinja_ast.hpp"
#include "cppformers/tokenizers/jinja_util.hpp"

namespace cppformers::tokenizers::jinja::detail {
namespace {

enum class T { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
  T t;
  std::string v;  // data, name, decoded string, operator
  Loc loc;
  int64_t i = 0;
  double f = 0;
};

std::string describe(const Token& t) {
  switch (t.t) {
    case T::Data: return "template data";
    case T::VarBegin: return "begin of print statement";
    case T::VarEnd: return "end of print statement";
    case T::BlockBegin: return "begin of statement block";
    case T::BlockEnd: return "end of statement block";
    case T::Name: return t.v;
    case T::String: return "string";
    case T::Int: return "integer";
    case T::Float: return "float";
    case T::Op: return t.v;
    case T::Eof: return "end of template";
  }
  return "token";
}

[[noreturn]] void syntax_error(const std::string& msg, Loc loc) {
  throw TemplateSyntaxError("template line " + std::to_string(loc.line) + ", column " + std::to_string(loc.col) +
                            ": " + msg);
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Python's str.isspace over the bytes [from, to) of s (valid or not).
size_t py_space_len_at(const std::string& s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return util::is_space(c) ? 1 : 0;
  std::u32string u = util::decode(std::string_view(s).substr(i, std::min<size_t>(4, s.size() - i)));
  if (u.empty() || !util::is_space(u[0])) return 0;
  std::string e;
  util::append_utf8(e, u[0]);
  return e.size();
}
std::string py_rstrip(const std::string& s) {
  std::u32string u = util::decode(s);
  size_t e = u.size();
  while (e > 0 && util::is_space(u[e - 1])) --e;
  return util::encode(std::u32string_view(u).substr(0, e));
}
bool all_py_space(const std::string& s, size_t from) {
  if (from >= s.size()) return false;  // \s+ needs at least one character
  std::u32string u = util::decode(std::string_view(s).substr(from));
  for (char32_t c : u)
    if (!util::is_space(c)) return false;
  return true;
}

// Python's "unicode-escape" decoding of a string literal's body (as jinja2 does it).
std::string unescape(const std::string& body, Loc loc) {
  std::string out;
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 >= body.size()) syntax_error("string literal ends with a lone backslash", loc);
    char e = body[++i];
    switch (e) {
      case '\n': break;  // line continuation
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (size_t k = 1; k <= n; ++k) {
          if (i + k >= body.size()) syntax_error("truncated \\" + std::string(1, e) + " escape in a string literal", loc);
          int h = hexval(body[i + k]);
          if (h < 0) syntax_error("truncated \\" + std::string(1, e) + " escape in a string literal", loc);
          v = v * 16 + uint32_t(h);
        }
        if (v > 0x10FFFF) syntax_error("illegal Unicode character in a string literal", loc);
        i += n;
        util::append_utf8(out, char32_t(v));
        break;
      }
      case 'N': syntax_error("\\N{...} escapes are not supported in string literals", loc);
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = uint32_t(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k)
            v = v * 8 + uint32_t(body[++i] - '0');
          util::append_utf8(out, char32_t(v));
        } else {
          out.push_back('\\');  // unknown escapes stay as written
          out.push_back(e);
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(const std::string& src, const Options& o) : s_(src), o_(o) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < s_.size(); ++i)
      if (s_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    const size_t n = s_.size();
    bool line_starting = true;
    while (pos_ < n) {
      size_t st = find_tag(pos_);
      if (st == std::string::npos) {
        push(T::Data, s_.substr(pos_), pos_);
        break;
      }
      std::string text = s_.substr(pos_, st - pos_);
      const size_t text_at = pos_;
      const char kind = s_[st + 1];
      size_t p = st + 2;
      char mod = 0;
      if (p < n && (s_[p] == '-' || s_[p] == '+')) mod = s_[p++];
      size_t raw_end = 0;
      const bool raw = kind == '%' && match_raw_begin(p, raw_end);
      apply_lstrip(text, mod, kind != '{', line_starting);
      if (!text.empty()) push(T::Data, text, text_at);
      if (kind == '#') {
        size_t e = s_.find("#}", p);
        if (e == std::string::npos) syntax_error("Missing end of comment tag", loc(st));
        char end_mod = (e > p && (s_[e - 1] == '-' || s_[e - 1] == '+')) ? s_[e - 1] : 0;
        pos_ = e + 2;
        line_starting = finish_tag(end_mod, true);
        continue;
      }
      if (raw) {
        pos_ = raw_end;
        line_starting = lex_raw_body(st, s_[raw_end - 1] == '\n');
        continue;
      }
      push(kind == '{' ? T::VarBegin : T::BlockBegin, "", st);
      pos_ = p;
      line_starting = lex_tag(kind == '{');
    }
    push(T::Eof, "", n);
    return std::move(toks_);
  }

 private:
  // Line and column (in characters) of byte offset `at`; offsets mostly grow, so the walk resumes
  // from the previous answer.
  Loc loc(size_t at) {
    if (at < cache_pos_) {
      auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
      cache_pos_ = *(it - 1);
      cache_ = {int(it - line_starts_.begin()), 1};
    }
    for (; cache_pos_ < at && cache_pos_ < s_.size(); ++cache_pos_) {
      if (s_[cache_pos_] == '\n') cache_ = {cache_.line + 1, 1};
      else if ((static_cast<unsigned char>(s_[cache_pos_]) & 0xC0) != 0x80) ++cache_.col;
    }
    return cache_;
  }
  void push(T t, std::string v, size_t at) { toks_.push_back(Token{t, std::move(v), loc(at)}); }

  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < s_.size(); ++i) {
      i = s_.find('{', i);
      if (i == std::string::npos || i + 1 >= s_.size()) return std::string::npos;
      char c = s_[i + 1];
      if (c == '{' || c == '%' || c == '#') return i;
    }
    return std::string::npos;
  }

  void apply_lstrip(std::string& text, char mod, bool block_or_comment, bool line_starting) const {
    if (mod == '-') {
      text = py_rstrip(text);
    } else if (mod != '+' && o_.lstrip_blocks && block_or_comment) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting) && all_py_space(text, l_pos)) text.resize(l_pos);
    }
  }

  // After a tag's closing delimiter at pos_: '-' eats all following whitespace, '+' keeps it,
  // otherwise trim_blocks eats one newline (block and comment tags). Returns whether the
  // consumed text ends with a newline (jinja2's line_starting).
  bool finish_tag(char end_mod, bool trim_newline) {
    char last = s_[pos_ - 1];
    if (end_mod == '-') {
      while (pos_ < s_.size()) {
        size_t k = py_space_len_at(s_, pos_);
        if (!k) break;
        last = s_[pos_ + k - 1];
        pos_ += k;
      }
    } else if (end_mod != '+' && trim_newline && o_.trim_blocks && pos_ < s_.size() && s_[pos_] == '\n') {
      last = '\n';
      ++pos_;
    }
    return last == '\n';
  }

  // {%[-+]?\s*raw\s*(-%}\s*|%})
  bool match_raw_begin(size_t p, size_t& end) const {
    while (p < s_.size() && is_ascii_space(s_[p])) ++p;
    if (s_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    if (p < s_.size() && is_name_char(s_[p])) return false;
    while (p < s_.size() && is_ascii_space(s_[p])) ++p;
    if (s_.compare(p, 3, "-%}") == 0) {
      p += 3;
      while (p < s_.size() && is_ascii_space(s_[p])) ++p;
      end = p;
      return true;
    }
    if (s_.compare(p, 2, "%}") == 0) {
      end = p + 2;
      return true;
    }
    return false;
  }

  // The body of a raw block up to its {% endraw %}; returns line_starting after that tag.
  bool lex_raw_body(size_t begin_at, bool line_starting) {
    // the first {%[-+]?\s*endraw\s*[-+]?%} ends it
    for (size_t i = pos_; (i = s_.find("{%", i)) != std::string::npos; ++i) {
      size_t p = i + 2;
      char mod = 0;
      if (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) mod = s_[p++];
      while (p < s_.size() && is_ascii_space(s_[p])) ++p;
      if (s_.compare(p, 6, "endraw") != 0) continue;
      p += 6;
      while (p < s_.size() && is_ascii_space(s_[p])) ++p;
      char end_mod = 0;
      if (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) end_mod = s_[p++];
      if (s_.compare(p, 2, "%}") != 0) continue;
      std::string text = s_.substr(pos_, i - pos_);
      apply_lstrip(text, mod, true, line_starting);
      if (!text.empty()) push(T::Data, text, pos_);
      pos_ = p + 2;
      return finish_tag(end_mod, true);
    }
    syntax_error("Missing end of raw directive", loc(begin_at));
  }

  // Tokens of a {{ }} or {% %} tag up to and including its end; returns line_starting.
  bool lex_tag(bool var) {
    std::vector<char> balance;
    const size_t n = s_.size();
    while (true) {
      while (pos_ < n && is_ascii_space(s_[pos_])) ++pos_;
      if (pos_ >= n) syntax_error(std::string("unexpected end of template, expected '") + (var ? "}}" : "%}") + "'", loc(n));
      const size_t at = pos_;
      if (balance.empty()) {
        if (var) {
          if (s_.compare(pos_, 3, "-}}") == 0) {
            push(T::VarEnd, "", at);
            pos_ += 3;
            return finish_tag('-', false);
          }
          if (s_.compare(pos_, 2, "}}") == 0) {
            push(T::VarEnd, "", at);
            pos_ += 2;
            return false;
          }
        } else {
          for (char m : {'+', '-'})
            if (s_[pos_] == m && s_.compare(pos_ + 1, 2, "%}") == 0) {
              push(T::BlockEnd, "", at);
              pos_ += 3;
              return finish_tag(m, true);
            }
          if (s_.compare(pos_, 2, "%}") == 0) {
            push(T::BlockEnd, "", at);
            pos_ += 2;
            return finish_tag(0, true);
          }
        }
      }
      const char c = s_[pos_];
      if (is_digit(c)) {
        lex_number(at);
      } else if (is_name_start(c)) {
        size_t e = pos_;
        while (e < n && is_name_char(s_[e])) ++e;
        push(T::Name, s_.substr(pos_, e - pos_), at);
        pos_ = e;
      } else if (c == '\'' || c == '"') {
        size_t e = pos_ + 1;
        while (e < n && s_[e] != c) e += s_[e] == '\\' ? 2 : 1;
        if (e >= n) syntax_error("unexpected char " + util::py_str_repr_of(std::string(1, c)) + " (an unterminated string)", loc(at));
        toks_.push_back(Token{T::String, unescape(s_.substr(pos_ + 1, e - pos_ - 1), loc(at)), loc(at)});
        pos_ = e + 1;
      } else {
        static const char* two[] = {"//", "**", "==", "!=", ">=", "<="};
        std::string op;
        for (const char* t : two)
          if (s_.compare(pos_, 2, t) == 0) op = t;
        if (op.empty() && std::strchr("+-/*%~[](){}><=.:|,;", c) && c != 0) op = std::string(1, c);
        if (op.empty()) {
          std::string ch;
          util::append_utf8(ch, util::decode(std::string_view(s_).substr(pos_, 4))[0]);
          syntax_error("unexpected char " + util::py_str_repr_of(ch), loc(at));
        }
        if (op == "(" || op == "[" || op == "{") {
          if (balance.size() > size_t(o_.max_depth)) syntax_error("brackets nested too deeply", loc(at));
          balance.push_back(op[0]);
        } else if (op == ")" || op == "]" || op == "}") {
          if (balance.empty()) syntax_error("unexpected '" + op + "'", loc(at));
          char want = balance.back() == '(' ? ')' : balance.back() == '[' ? ']' : '}';
          if (op[0] != want) syntax_error("unexpected '" + op + "', expected '" + std::string(1, want) + "'", loc(at));
          balance.pop_back();
        }
        push(T::Op, op, at);
        pos_ += op.size();
      }
    }
  }

  void lex_number(size_t at) {
    const size_t n = s_.size();
    auto digits = [&](size_t p) {  // (\d+_)*\d+ : returns end or npos
      if (p >= n || !is_digit(s_[p])) return std::string::npos;
      while (p < n && (is_digit(s_[p]) || (s_[p] == '_' && p + 1 < n && is_digit(s_[p + 1])))) ++p;
      return p;
    };
    const bool after_dot = at > 0 && s_[at - 1] == '.';
    size_t e = digits(pos_);
    size_t fe = std::string::npos;  // end of a float match
    if (!after_dot) {
      size_t p = e;
      if (p < n && s_[p] == '.' && digits(p + 1) != std::string::npos) p = digits(p + 1), fe = p;
      if (p < n && (s_[p] == 'e' || s_[p] == 'E')) {
        size_t q = p + 1;
        if (q < n && (s_[q] == '+' || s_[q] == '-')) ++q;
        if (digits(q) != std::string::npos) fe = digits(q);
      }
    }
    auto strip = [](std::string x) {
      x.erase(std::remove(x.begin(), x.end(), '_'), x.end());
      return x;
    };
    if (fe != std::string::npos) {
      Token t{T::Float, "", loc(at)};
      t.f = std::strtod(strip(s_.substr(pos_, fe - pos_)).c_str(), nullptr);
      toks_.push_back(t);
      pos_ = fe;
      return;
    }
    // integers: 0b.., 0o.., 0x.., [1-9](_?\d)*, 0(_?0)*
    int base = 10;
    size_t p = pos_;
    if (s_[p] == '0' && p + 1 < n && std::strchr("bBoOxX", s_[p + 1]) && s_[p + 1]) {
      char b = char(std::tolower(s_[p + 1]));
      base = b == 'b' ? 2 : b == 'o' ? 8 : 16;
      size_t q = p + 2;
      auto ok = [&](char ch) {
        if (base == 2) return ch == '0' || ch == '1';
        if (base == 8) return ch >= '0' && ch <= '7';
        return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
      };
      size_t st = q;
      while (q < n && (ok(s_[q]) || (s_[q] == '_' && q + 1 < n && ok(s_[q + 1])))) ++q;
      if (q > st) {
        push_int(strip(s_.substr(st, q - st)), base, at);
        pos_ = q;
        return;
      }
    }
    if (s_[p] == '0') {
      size_t q = p + 1;
      while (q < n && (s_[q] == '0' || (s_[q] == '_' && q + 1 < n && s_[q + 1] == '0'))) ++q;
      push_int("0", 10, at);
      pos_ = q;
      return;
    }
    push_int(strip(s_.substr(pos_, e - pos_)), 10, at);
    pos_ = e;
  }

  void push_int(const std::string& digits, int base, size_t at) {
    Token t{T::Int, "", loc(at)};
    errno = 0;
    unsigned long long v = std::strtoull(digits.c_str(), nullptr, base);
    if (errno == ERANGE || v > uint64_t(INT64_MAX)) {
      t.t = T::Float;  // beyond 64 bits: kept as a float (Python would keep an exact int)
      t.f = std::strtod(digits.c_str(), nullptr);
      if (base != 10) syntax_error("integer literal too large", loc(at));
    } else {
      t.i = int64_t(v);
    }
    toks_.push_back(t);
  }

  const std::string& s_;
  const Options& o_;
  size_t pos_ = 0;
  size_t cache_pos_ = 0;
  Loc cache_;
  std::vector<size_t> line_starts_;
  std::vector<Token> toks_;
};

// ----------------------------------------------------------------------------------------------

class Parser {
 public:
  Parser(std::vector<Token> toks, const Options& o) : t_(std::move(toks)), o_(o) {}

  Program run() {
    Program p;
    p.body = subparse({});
    if (cur().t != T::Eof) fail("unexpected " + describe(cur()));
    return p;
  }

 private:
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& pp) : p(pp) {
      if (++p.depth_ > p.o_.max_depth) p.fail("template nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
  };

  const Token& cur() const { return t_[i_]; }
  const Token& look(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  const Token& next() {
    const Token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }
  [[noreturn]] void fail(const std::string& msg) const { syntax_error(msg, cur().loc); }
  bool is_op(const char* op) const { return cur().t == T::Op && cur().v == op; }
  bool is_name(const char* n) const { return cur().t == T::Name && cur().v == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!is_op(op)) fail(std::string("expected '") + op + "', got '" + describe(cur()) + "'");
    next();
  }
  std::string expect_name() {
    if (cur().t != T::Name) fail("expected name, got '" + describe(cur()) + "'");
    return next().v;
  }
  void expect(T t, const char* what) {
    if (cur().t != t) fail(std::string("expected '") + what + "', got '" + describe(cur()) + "'");
    next();
  }

  // ---- statements ----

  Body subparse(const std::vector<std::string>& end_tokens) {
    DepthGuard g(*this);
    Body body;
    while (cur().t != T::Eof) {
      const Token& tok = cur();
      if (tok.t == T::Data) {
        auto n = std::make_unique<Node>(Node::K::Text, tok.loc);
        n->text = tok.v;
        body.push_back(std::move(n));
        next();
      } else if (tok.t == T::VarBegin) {
        next();
        auto n = std::make_unique<Node>(Node::K::Output, tok.loc);
        n->e.push_back(parse_tuple(true, {}, false));
        expect(T::VarEnd, "end of print statement");
        body.push_back(std::move(n));
      } else if (tok.t == T::BlockBegin) {
        next();
        if (cur().t == T::Name)
          for (const auto& e : end_tokens)
            if (cur().v == e) return body;
        body.push_back(parse_statement(end_tokens));
        expect(T::BlockEnd, "end of statement block");
      } else {
        fail("unexpected " + describe(tok));
      }
    }
    if (!end_tokens.empty()) fail_eof(end_tokens);
    return body;
  }

  [[noreturn]] void fail_eof(const std::vector<std::string>& end_tokens) const {
    std::string want;
    for (size_t k = 0; k < end_tokens.size(); ++k) want += (k ? " or '" : "'") + end_tokens[k] + "'";
    fail("Unexpected end of template. Jinja was looking for the following tags: " + want + "." +
         (stack_.empty() ? "" : " The innermost block that needs to be closed is '" + stack_.back() + "'."));
  }

  Body parse_statements(const std::vector<std::string>& end_tokens, bool drop_needle) {
    skip_op(":");
    expect(T::BlockEnd, "end of statement block");
    Body b = subparse(end_tokens);
    if (cur().t == T::Eof) fail_eof(end_tokens);
    if (drop_needle) next();
    return b;
  }

  NodeP parse_statement(const std::vector<std::string>& outer_end) {
    if (cur().t != T::Name) fail("tag name expected");
    const Token tok = cur();
    const std::string& n = tok.v;
    stack_.push_back(n);
    NodeP r;
    if (n == "for") r = parse_for();
    else if (n == "if") r = parse_if();
    else if (n == "set") r = parse_set();
    else if (n == "macro") r = parse_macro();
    else if (n == "filter") r = parse_filter_block();
    else if (n == "with") r = parse_with();
    else if (n == "generation") r = parse_scope("endgeneration");
    else if (n == "block") r = parse_block();
    else if (n == "print") {
      next();
      r = std::make_unique<Node>(Node::K::Output, tok.loc);
      r->e.push_back(parse_tuple(true, {}, false));
    } else if (n == "break" || n == "continue") {
      if (loop_depth_ == 0) fail("'" + n + "' outside of a loop");
      next();
      r = std::make_unique<Node>(n == "break" ? Node::K::Break : Node::K::Continue, tok.loc);
    } else if (n == "include" || n == "import" || n == "from" || n == "extends" || n == "call" || n == "autoescape" ||
               n == "do" || n == "trans") {
      fail("the '" + n + "' tag is not supported in chat templates");
    } else {
      std::string msg = "Encountered unknown tag '" + n + "'.";
      if (!outer_end.empty()) {
        std::string want;
        for (size_t k = 0; k < outer_end.size(); ++k) want += (k ? " or '" : "'") + outer_end[k] + "'";
        msg += " Jinja was looking for the following tags: " + want + ".";
        if (stack_.size() >= 2) msg += " The innermost block that needs to be closed is '" + stack_[stack_.size() - 2] + "'.";
      }
      fail(msg);
    }
    stack_.pop_back();
    return r;
  }

  NodeP parse_for() {
    auto node = std::make_unique<Node>(Node::K::For, next().loc);
    node->target = parse_assign_target(false, {"in"});
    if (!skip_name("in")) fail("expected 'in', got '" + describe(cur()) + "'");
    node->e.push_back(parse_tuple(false, {"recursive"}, false));
    if (skip_name("if")) node->e.push_back(parse_expression(true));
    else node->e.push_back(nullptr);
    if (is_name("recursive")) fail("recursive loops are not supported");
    ++loop_depth_;
    node->bodies.push_back(parse_statements({"endfor", "else"}, false));
    --loop_depth_;
    if (next().v == "endfor") node->bodies.emplace_back();
    else node->bodies.push_back(parse_statements({"endfor"}, true));
    return node;
  }

  NodeP parse_if() {
    auto node = std::make_unique<Node>(Node::K::If, next().loc);
    ++soft_;
    while (true) {
      node->e.push_back(parse_tuple(false, {}, false));
      node->bodies.push_back(parse_statements({"elif", "else", "endif"}, false));
      const Token& t = next();
      if (t.v == "elif") continue;
      if (t.v == "else") node->bodies.push_back(parse_statements({"endif"}, true));
      else node->bodies.emplace_back();
      break;
    }
    --soft_;
    return node;
  }

  NodeP parse_set() {
    const Loc l = next().loc;
    Target target = parse_assign_target(true, {});
    if (skip_op("=")) {
      auto node = std::make_unique<Node>(Node::K::Set, l);
      node->target = std::move(target);
      node->e.push_back(parse_tuple(true, {}, false));
      return node;
    }
    if (target.is_tuple || !target.attr.empty()) fail("a block assignment needs a single name");
    auto node = std::make_unique<Node>(Node::K::SetBlock, l);
    node->target = std::move(target);
    node->e.push_back(is_op("|") ? parse_filter(nullptr, false) : nullptr);
    node->bodies.push_back(parse_statements({"endset"}, true));
    return node;
  }

  NodeP parse_macro() {
    auto node = std::make_unique<Node>(Node::K::Macro, next().loc);
    node->text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!node->params.empty()) expect_op(",");
      if (is_op(")")) break;
      node->params.push_back(expect_name());
      if (skip_op("=")) node->defaults.push_back(parse_expression(true));
      else if (!node->defaults.empty()) fail("non-default argument follows default argument");
    }
    expect_op(")");
    const int saved = loop_depth_;
    loop_depth_ = 0;
    node->bodies.push_back(parse_statements({"endmacro"}, true));
    loop_depth_ = saved;
    return node;
  }

  NodeP parse_filter_block() {
    auto node = std::make_unique<Node>(Node::K::FilterBlock, next().loc);
    node->e.push_back(parse_filter(nullptr, true));
    node->bodies.push_back(parse_statements({"endfilter"}, true));
    return node;
  }

  NodeP parse_with() {
    auto node = std::make_unique<Node>(Node::K::With, next().loc);
    while (cur().t != T::BlockEnd) {
      if (!node->targets.empty()) expect_op(",");
      node->targets.push_back(parse_assign_target(false, {}));
      expect_op("=");
      node->e.push_back(parse_expression(true));
    }
    node->bodies.push_back(parse_statements({"endwith"}, true));
    return node;
  }

  NodeP parse_scope(const char* end) {
    auto node = std::make_unique<Node>(Node::K::Scope, next().loc);
    node->bodies.push_back(parse_statements({end}, true));
    return node;
  }

  NodeP parse_block() {
    auto node = std::make_unique<Node>(Node::K::Scope, next().loc);
    const std::string name = expect_name();
    skip_name("scoped");
    skip_name("required");
    node->bodies.push_back(parse_statements({"endblock"}, true));
    if (cur().t == T::Name) {
      if (cur().v != name) fail("mismatching name on endblock: '" + cur().v + "', expected '" + name + "'");
      next();
    }
    return node;
  }

  // name | ns.attr (with_namespace) | a, b | (a, b)
  Target parse_assign_target(bool with_namespace, const std::vector<std::string>& extra_end) {
    if (with_namespace && cur().t == T::Name && look().t == T::Op && look().v == ".") {
      Target t;
      t.name = next().v;
      next();
      t.attr = expect_name();
      return t;
    }
    Target t;
    std::vector<Target> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (cur().t == T::BlockEnd || is_op(")") || is_op("=") ||
          (cur().t == T::Name && std::find(extra_end.begin(), extra_end.end(), cur().v) != extra_end.end()))
        break;
      items.push_back(parse_target_primary());
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (items.empty()) fail("expected an assignment target, got '" + describe(cur()) + "'");
    if (!is_tuple) return std::move(items[0]);
    t.is_tuple = true;
    t.items = std::move(items);
    return t;
  }
  Target parse_target_primary() {
    if (skip_op("(")) {
      Target t = parse_assign_target(false, {});
      expect_op(")");
      return t;
    }
    if (cur().t != T::Name) fail("can't assign to '" + describe(cur()) + "'");
    const std::string& v = cur().v;
    if (v == "true" || v == "false" || v == "none" || v == "True" || v == "False" || v == "None")
      fail("can't assign to '" + v + "'");
    Target t;
    t.name = next().v;
    return t;
  }

  // ---- expressions ----

  ExprP mk(Expr::K k, Loc l) { return std::make_unique<Expr>(k, l); }

  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    if (cur().t == T::VarEnd || cur().t == T::BlockEnd || is_op(")")) return true;
    return cur().t == T::Name && std::find(extra_end.begin(), extra_end.end(), cur().v) != extra_end.end();
  }

  ExprP parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens) {
    const Loc l = cur().loc;
    std::vector<ExprP> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail("Expected an expression, got '" + describe(cur()) + "'");
    }
    auto e = mk(Expr::K::Tuple, l);
    e->args = std::move(items);
    return e;
  }

  ExprP parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprP parse_condexpr() {
    DepthGuard g(*this);
    ExprP e1 = parse_or();
    while (is_name("if")) {
      const Loc l = next().loc;
      ++soft_;
      ExprP cond = parse_or();
      ExprP e3;
      if (skip_name("else")) e3 = parse_condexpr();
      --soft_;
      auto c = mk(Expr::K::Cond, l);
      c->a.push_back(std::move(e1));
      c->a.push_back(std::move(cond));
      c->a.push_back(std::move(e3));
      e1 = std::move(c);
    }
    return e1;
  }

  ExprP parse_or() {
    ExprP l = parse_and();
    while (is_name("or")) {
      auto e = mk(Expr::K::Or, next().loc);
      e->a.push_back(std::move(l));
      e->a.push_back(parse_and());
      l = std::move(e);
    }
    return l;
  }
  ExprP parse_and() {
    ExprP l = parse_not();
    while (is_name("and")) {
      auto e = mk(Expr::K::And, next().loc);
      e->a.push_back(std::move(l));
      e->a.push_back(parse_not());
      l = std::move(e);
    }
    return l;
  }
  ExprP parse_not() {
    if (is_name("not")) {
      DepthGuard g(*this);
      auto e = mk(Expr::K::Not, next().loc);
      e->a.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }
  ExprP parse_compare() {
    const Loc l = cur().loc;
    ExprP first = parse_math1();
    std::vector<std::string> ops;
    std::vector<ExprP> rest;
    while (true) {
      if (cur().t == T::Op && (cur().v == "==" || cur().v == "!=" || cur().v == "<" || cur().v == "<=" ||
                               cur().v == ">" || cur().v == ">=")) {
        ops.push_back(next().v);
      } else if (is_name("in")) {
        next();
        ops.push_back("in");
      } else if (is_name("not") && look().t == T::Name && look().v == "in") {
        next();
        next();
        ops.push_back("notin");
      } else {
        break;
      }
      rest.push_back(parse_math1());
    }
    if (ops.empty()) return first;
    auto e = mk(Expr::K::Compare, l);
    e->a.push_back(std::move(first));
    for (auto& r : rest) e->a.push_back(std::move(r));
    e->ops = std::move(ops);
    return e;
  }
  ExprP binary(const std::string& op, Loc l, ExprP a, ExprP b) {
    auto e = mk(Expr::K::Binary, l);
    e->name = op;
    e->a.push_back(std::move(a));
    e->a.push_back(std::move(b));
    return e;
  }
  ExprP parse_math1() {
    ExprP l = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& t = next();
      std::string op = t.v;
      l = binary(op, t.loc, std::move(l), parse_concat());
    }
    return l;
  }
  ExprP parse_concat() {
    ExprP l = parse_math2();
    while (is_op("~")) {
      const Loc lo = next().loc;
      l = binary("~", lo, std::move(l), parse_math2());
    }
    return l;
  }
  ExprP parse_math2() {
    ExprP l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& t = next();
      std::string op = t.v;
      l = binary(op, t.loc, std::move(l), parse_pow());
    }
    return l;
  }
  ExprP parse_pow() {
    ExprP l = parse_unary(true);
    while (is_op("**")) {
      const Loc lo = next().loc;
      l = binary("**", lo, std::move(l), parse_unary(true));
    }
    return l;
  }
  ExprP parse_unary(bool with_filter) {
    DepthGuard g(*this);
    ExprP node;
    if (is_op("-") || is_op("+")) {
      const Token& t = next();
      node = mk(t.v == "-" ? Expr::K::Neg : Expr::K::Pos, t.loc);
      node->a.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }
  ExprP parse_primary() {
    const Token& tok = cur();
    const Loc l = tok.loc;
    if (tok.t == T::Name) {
      ExprP e;
      const std::string& v = tok.v;
      if (v == "true" || v == "True" || v == "false" || v == "False") {
        e = mk(Expr::K::Const, l);
        e->value = Value(v == "true" || v == "True");
      } else if (v == "none" || v == "None") {
        e = mk(Expr::K::Const, l);
        e->value = Value::none();
      } else {
        e = mk(Expr::K::Name, l);
        e->name = v;
      }
      next();
      return e;
    }
    if (tok.t == T::String) {
      std::string s;
      while (cur().t == T::String) s += next().v;
      auto e = mk(Expr::K::Const, l);
      e->value = Value(std::move(s));
      return e;
    }
    if (tok.t == T::Int || tok.t == T::Float) {
      auto e = mk(Expr::K::Const, l);
      e->value = tok.t == T::Int ? Value(tok.i) : Value(tok.f);
      next();
      return e;
    }
    if (is_op("(")) {
      next();
      ExprP e = parse_tuple(true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      next();
      auto e = mk(Expr::K::List, l);
      while (!is_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("]")) break;
        e->args.push_back(parse_expression(true));
      }
      expect_op("]");
      return e;
    }
    if (is_op("{")) {
      next();
      auto e = mk(Expr::K::Dict, l);
      while (!is_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("}")) break;
        e->args.push_back(parse_expression(true));
        expect_op(":");
        e->args.push_back(parse_expression(true));
      }
      expect_op("}");
      return e;
    }
    fail("unexpected '" + describe(tok) + "'");
  }
  ExprP parse_postfix(ExprP node) {
    while (true) {
      if (is_op(".") || is_op("[")) node = parse_subscript(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else break;
    }
    return node;
  }
  ExprP parse_filter_expr(ExprP node) {
    while (true) {
      if (is_op("|")) node = parse_filter(std::move(node), false);
      else if (is_name("is")) node = parse_test(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else break;
    }
    return node;
  }
  ExprP parse_subscript(ExprP node) {
    const Token tok = next();
    if (tok.v == ".") {
      const Token& at = cur();
      if (at.t == T::Name) {
        auto e = mk(Expr::K::Attr, tok.loc);
        e->name = next().v;
        e->a.push_back(std::move(node));
        return e;
      }
      if (at.t != T::Int) fail("expected name or number");
      auto idx = mk(Expr::K::Const, at.loc);
      idx->value = Value(at.i);
      next();
      auto e = mk(Expr::K::Item, tok.loc);
      e->a.push_back(std::move(node));
      e->a.push_back(std::move(idx));
      return e;
    }
    // '['
    std::vector<ExprP> args;
    bool any_slice = false;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      ExprP sub = parse_subscribed(any_slice);
      args.push_back(std::move(sub));
    }
    expect_op("]");
    if (args.empty()) fail("expected a subscript");
    ExprP arg;
    if (args.size() == 1) {
      arg = std::move(args[0]);
    } else {
      if (any_slice) fail("a tuple of slices is not supported");
      arg = mk(Expr::K::Tuple, tok.loc);
      arg->args = std::move(args);
    }
    if (arg->k == Expr::K::Slice) {  // parse_subscribed returns a Slice with a[0] empty
      arg->a[0] = std::move(node);
      return arg;
    }
    auto e = mk(Expr::K::Item, tok.loc);
    e->a.push_back(std::move(node));
    e->a.push_back(std::move(arg));
    return e;
  }
  ExprP parse_subscribed(bool& any_slice) {
    const Loc l = cur().loc;
    std::vector<ExprP> parts;
    if (is_op(":")) {
      next();
      parts.push_back(nullptr);
    } else {
      ExprP e = parse_expression(true);
      if (!is_op(":")) return e;
      next();
      parts.push_back(std::move(e));
    }
    any_slice = true;
    if (is_op("]") || is_op(",")) parts.push_back(nullptr);
    else if (is_op(":")) parts.push_back(nullptr);
    else parts.push_back(parse_expression(true));
    if (is_op(":")) {
      next();
      if (is_op("]") || is_op(",")) parts.push_back(nullptr);
      else parts.push_back(parse_expression(true));
    } else {
      parts.push_back(nullptr);
    }
    auto s = mk(Expr::K::Slice, l);
    s->a.push_back(nullptr);  // the sliced object, filled in by parse_subscript
    for (auto& p : parts) s->a.push_back(std::move(p));
    return s;
  }
  void parse_call_args(Expr& e) {
    const Loc l = cur().loc;
    expect_op("(");
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) syntax_error("invalid syntax for function call expression", l);
    };
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (is_op("*")) {
        ensure(e.dyn_args == nullptr && e.dyn_kwargs == nullptr);
        next();
        e.dyn_args = parse_expression(true);
      } else if (is_op("**")) {
        ensure(e.dyn_kwargs == nullptr);
        next();
        e.dyn_kwargs = parse_expression(true);
      } else if (cur().t == T::Name && look().t == T::Op && look().v == "=") {
        ensure(e.dyn_kwargs == nullptr);
        std::string key = next().v;
        next();
        e.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        ensure(e.dyn_args == nullptr && e.dyn_kwargs == nullptr && e.kwargs.empty());
        e.args.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }
  ExprP parse_call(ExprP node) {
    auto e = mk(Expr::K::Call, cur().loc);
    e->a.push_back(std::move(node));
    parse_call_args(*e);
    return e;
  }
  // `| name(args)` (repeated); with start_inline the first filter has no leading pipe.
  ExprP parse_filter(ExprP node, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      const Loc l = cur().loc;
      std::string name = expect_name();
      while (is_op(".")) {
        next();
        name += '.';
        name += expect_name();
      }
      auto e = mk(Expr::K::Filter, l);
      e->name = name;
      e->known = is_known_filter(name);
      if (!e->known && soft_ == 0) syntax_error("No filter named '" + name + "'.", l);
      e->a.push_back(std::move(node));
      if (is_op("(")) parse_call_args(*e);
      node = std::move(e);
    }
    return node;
  }
  ExprP parse_test(ExprP node) {
    const Loc l = next().loc;  // 'is'
    bool negated = skip_name("not");
    std::string name = expect_name();
    while (is_op(".")) {
      next();
      name += '.';
      name += expect_name();
    }
    auto e = mk(Expr::K::Test, l);
    e->name = name;
    e->negated = negated;
    e->known = is_known_test(name);
    if (!e->known && soft_ == 0) syntax_error("No test named '" + name + "'.", l);
    e->a.push_back(std::move(node));
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((cur().t == T::Name || cur().t == T::String || cur().t == T::Int || cur().t == T::Float ||
                is_op("(") || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("You cannot chain multiple tests with is");
      DepthGuard g(*this);
      e->args.push_back(parse_postfix(parse_primary()));
    }
    return e;
  }

  std::vector<Token> t_;
  const Options& o_;
  size_t i_ = 0;
  int depth_ = 0;
  int soft_ = 0;        // inside an if / conditional expression: unknown filters fail only when used
  int loop_depth_ = 0;  // break / continue are valid only inside a loop
  std::vector<std::string> stack_;
};

}  // namespace

Program parse(const std::string& source, const Options& options) {
  Lexer lx(source, options);
  Parser p(lx.run(), options);
  return p.run();
}

}  // namespace cppformers::tokenizers::jinja::detail
