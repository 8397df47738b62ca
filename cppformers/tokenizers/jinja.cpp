// The interpreter: statements and expressions of a parsed template, with jinja2's scoping (a
// for-loop iteration, a macro call, a with block and a block assignment each get their own
// scope; if does not), undefined handling and limits.
#include "cppformers/tokenizers/jinja.hpp"

#include <algorithm>

#include "cppformers/tokenizers/jinja_interp.hpp"
#include "cppformers/tokenizers/jinja_util.hpp"

namespace cppformers::tokenizers::jinja {

using detail::Body;
using detail::Expr;
using detail::Node;
using detail::Target;

namespace {
constexpr const char* kLocPrefix = "template line ";

std::string with_loc(const std::string& msg, detail::Loc loc) {
  if (msg.rfind(kLocPrefix, 0) == 0) return msg;
  return kLocPrefix + std::to_string(loc.line) + ", column " + std::to_string(loc.col) + ": " + msg;
}
}  // namespace

void Interpreter::fail(const std::string& msg) const { throw TemplateRuntimeError(with_loc(msg, loc)); }

void Interpreter::fail_undefined(const Value& u) const {
  fail(u.str_ref().empty() ? std::string("value is undefined") : u.str_ref());
}

void Interpreter::fail_steps() const {
  fail("the template exceeded the limit of " + std::to_string(opts.max_steps) + " evaluation steps");
}

void Interpreter::check_size(size_t n) const {
  if (n > opts.max_output_bytes)
    fail("the template's output exceeds the limit of " + std::to_string(opts.max_output_bytes) + " bytes");
}

void Interpreter::emit(const std::string& s) {
  out->append(s);
  check_size(out->size());
}

std::string Interpreter::capture(const Body& body, const FrameP& frame) {
  std::string buf;
  std::string* saved = out;
  out = &buf;
  auto child = std::make_shared<Frame>();
  child->parent = frame;
  try {
    exec(body, child);
  } catch (...) {
    out = saved;
    throw;
  }
  out = saved;
  return buf;
}

// ---- assignment ----

namespace {

void assign(Interpreter& in, const Target& t, const Value& v, Frame& frame, const FrameP& lookup_frame) {
  if (!t.attr.empty()) {
    const Value* ns = lookup_frame->lookup(t.name);
    if (!ns || !ns->is_object() || !ns->object_data()->is_namespace)
      in.fail("cannot assign attribute on non-namespace object");
    auto o = ns->object_data();
    if (Value* slot = o->find(t.attr)) *slot = v;
    else o->attrs.emplace_back(t.attr, v);
    return;
  }
  if (!t.is_tuple) {
    frame.set(t.name, v);
    return;
  }
  std::vector<Value> items = builtins::iterate(in, v);
  if (items.size() > t.items.size())
    in.fail("too many values to unpack (expected " + std::to_string(t.items.size()) + ")");
  if (items.size() < t.items.size())
    in.fail("not enough values to unpack (expected " + std::to_string(t.items.size()) + ", got " +
            std::to_string(items.size()) + ")");
  for (size_t i = 0; i < items.size(); ++i) assign(in, t.items[i], items[i], frame, lookup_frame);
}

}  // namespace

// ---- statements ----

Interpreter::Flow Interpreter::exec(const Body& body, const FrameP& frame) {
  for (const auto& np : body) {
    const Node& n = *np;
    loc = n.loc;
    tick();
    switch (n.k) {
      case Node::K::Text: emit(n.text); break;
      case Node::K::Output: {
        Value v = eval(*n.e[0], frame);
        if (v.is_string()) emit(v.str_ref());
        else emit(v.str());
        break;
      }
      case Node::K::If: {
        size_t taken = n.e.size();
        for (size_t i = 0; i < n.e.size(); ++i)
          if (eval(*n.e[i], frame).truthy()) {
            taken = i;
            break;
          }
        Flow f = exec(n.bodies[taken], frame);
        if (f != Flow::Normal) return f;
        break;
      }
      case Node::K::For: {
        Value seq = eval(*n.e[0], frame);
        loc = n.loc;
        std::vector<Value> items = builtins::iterate(*this, seq);
        if (n.e[1]) {  // for x in xs if cond: the condition sees the loop variable, not `loop`
          std::vector<Value> kept;
          for (auto& it : items) {
            auto f = std::make_shared<Frame>();
            f->parent = frame;
            assign(*this, n.target, it, *f, f);
            if (eval(*n.e[1], f).truthy()) kept.push_back(std::move(it));
          }
          items = std::move(kept);
        }
        if (items.empty()) {
          auto f = std::make_shared<Frame>();
          f->parent = frame;
          Flow fl = exec(n.bodies[1], f);
          if (fl != Flow::Normal) return fl;
          break;
        }
        const int64_t len = int64_t(items.size());
        auto last_changed = std::make_shared<std::optional<std::vector<Value>>>();
        auto changed = std::make_shared<FunctionData>();
        owned_functions.push_back(changed);
        changed->name = "changed";
        changed->fn = [last_changed](Interpreter&, CallArgs& a) -> Value {
          if (*last_changed && last_changed->value().size() == a.pos.size()) {
            bool same = true;
            for (size_t i = 0; i < a.pos.size(); ++i) same &= py_equal(a.pos[i], (**last_changed)[i]);
            if (same) return Value(false);
          }
          *last_changed = a.pos;
          return Value(true);
        };
        for (int64_t i = 0; i < len; ++i) {
          tick();
          auto f = std::make_shared<Frame>();
          f->parent = frame;
          assign(*this, n.target, items[size_t(i)], *f, f);
          auto loop = std::make_shared<ObjectData>();
          loop->type_name = "LoopContext";
          auto cycle = std::make_shared<FunctionData>();
          cycle->name = "cycle";
          cycle->fn = [i](Interpreter& in, CallArgs& a) -> Value {
            if (a.pos.empty()) in.fail("no items for cycling given");
            return a.pos[size_t(i % int64_t(a.pos.size()))];
          };
          loop->attrs = {{"index", Value(i + 1)},
                         {"index0", Value(i)},
                         {"revindex", Value(len - i)},
                         {"revindex0", Value(len - i - 1)},
                         {"first", Value(i == 0)},
                         {"last", Value(i == len - 1)},
                         {"length", Value(len)},
                         {"depth", Value(int64_t(1))},
                         {"depth0", Value(int64_t(0))},
                         {"previtem", i > 0 ? items[size_t(i - 1)] : Value::undefined("there is no previous item")},
                         {"nextitem", i + 1 < len ? items[size_t(i + 1)] : Value::undefined("there is no next item")},
                         {"cycle", Value::function(cycle)},
                         {"changed", Value::function(changed)}};
          f->vars.emplace_back("loop", Value::object(loop));
          Flow fl = exec(n.bodies[0], f);
          if (fl == Flow::Break) break;
        }
        break;
      }
      case Node::K::Set: {
        Value v = eval(*n.e[0], frame);
        loc = n.loc;
        assign(*this, n.target, v, *frame, frame);
        break;
      }
      case Node::K::SetBlock: {
        Value v(capture(n.bodies[0], frame));
        if (n.e[0]) {
          block_operand = v;
          v = eval(*n.e[0], frame);
        }
        assign(*this, n.target, v, *frame, frame);
        break;
      }
      case Node::K::Macro: {
        auto fd = std::make_shared<FunctionData>();
        fd->name = n.text;
        const Node* node = &n;
        FrameP def_frame = frame;  // the defining scope (emptied when the render ends, see ~Interpreter)
        owned_functions.push_back(fd);
        fd->fn = [node, def_frame](Interpreter& in, CallArgs& a) -> Value {
          if (++in.depth > in.opts.max_depth) in.fail("maximum recursion depth exceeded in macro '" + node->text + "'");
          auto f = std::make_shared<Frame>();
          f->parent = def_frame;
          const size_t np = node->params.size(), nd = node->defaults.size();
          std::vector<bool> set(np, false);
          for (size_t i = 0; i < a.pos.size() && i < np; ++i) f->set(node->params[i], a.pos[i]), set[i] = true;
          std::vector<Value> extra;
          for (size_t i = np; i < a.pos.size(); ++i) extra.push_back(a.pos[i]);
          std::vector<std::pair<Value, Value>> extra_kw;
          for (auto& [k, v] : a.kw) {
            auto it = std::find(node->params.begin(), node->params.end(), k);
            if (it == node->params.end()) {
              extra_kw.emplace_back(Value(k), v);
            } else {
              size_t idx = size_t(it - node->params.begin());
              if (set[idx]) in.fail("macro '" + node->text + "' got multiple values for argument '" + k + "'");
              f->set(k, v);
              set[idx] = true;
            }
          }
          for (size_t i = 0; i < np; ++i) {
            if (set[i]) continue;
            if (i >= np - nd) f->set(node->params[i], in.eval(*node->defaults[i - (np - nd)], f));
            else f->set(node->params[i], Value::undefined("parameter '" + node->params[i] + "' was not provided"));
          }
          f->set("varargs", Value::list(std::move(extra), true));
          f->set("kwargs", Value::dict(std::move(extra_kw)));
          std::string buf;
          std::string* saved = in.out;
          in.out = &buf;
          try {
            in.exec(node->bodies[0], f);
          } catch (...) {
            in.out = saved;
            --in.depth;
            throw;
          }
          in.out = saved;
          --in.depth;
          return Value(std::move(buf));
        };
        frame->set(n.text, Value::function(fd));
        break;
      }
      case Node::K::FilterBlock: {
        block_operand = Value(capture(n.bodies[0], frame));
        Value v = eval(*n.e[0], frame);
        emit(v.is_string() ? v.str_ref() : v.str());
        break;
      }
      case Node::K::With: {
        std::vector<Value> vals;
        for (const auto& e : n.e) vals.push_back(eval(*e, frame));
        auto f = std::make_shared<Frame>();
        f->parent = frame;
        for (size_t i = 0; i < vals.size(); ++i) assign(*this, n.targets[i], vals[i], *f, f);
        Flow fl = exec(n.bodies[0], f);
        if (fl != Flow::Normal) return fl;
        break;
      }
      case Node::K::Scope: {
        auto f = std::make_shared<Frame>();
        f->parent = frame;
        Flow fl = exec(n.bodies[0], f);
        if (fl != Flow::Normal) return fl;
        break;
      }
      case Node::K::Break: return Flow::Break;
      case Node::K::Continue: return Flow::Continue;
    }
  }
  return Flow::Normal;
}

// ---- expressions ----

namespace {

void eval_args(Interpreter& in, const Expr& e, const FrameP& frame, CallArgs& out) {
  for (const auto& a : e.args) out.pos.push_back(in.eval(*a, frame));
  for (const auto& [k, a] : e.kwargs) out.kw.emplace_back(k, in.eval(*a, frame));
  if (e.dyn_args) {
    Value v = in.eval(*e.dyn_args, frame);
    for (auto& x : builtins::iterate(in, v)) out.pos.push_back(std::move(x));
  }
  if (e.dyn_kwargs) {
    Value v = in.eval(*e.dyn_kwargs, frame);
    if (!v.is_dict()) in.fail("argument after ** must be a mapping, not " + v.type_name());
    for (const auto& [k, x] : v.dict_data().items) {
      if (!k.is_string()) in.fail("keywords must be strings");
      out.kw.emplace_back(k.str_ref(), x);
    }
  }
}

}  // namespace

Value Interpreter::eval(const Expr& e, const FrameP& frame) {
  tick();
  loc = e.loc;
  using K = Expr::K;
  switch (e.k) {
    case K::Const: return e.value;
    case K::Name: {
      if (const Value* v = frame->lookup(e.name)) return *v;
      return Value::undefined("'" + e.name + "' is undefined");
    }
    case K::List:
    case K::Tuple: {
      std::vector<Value> items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a, frame));
      return Value::list(std::move(items), e.k == K::Tuple);
    }
    case K::Dict: {
      std::vector<std::pair<Value, Value>> items;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i], frame);
        if (k.is_list() && !k.is_tuple()) fail("unhashable type: 'list'");
        if (k.is_dict()) fail("unhashable type: 'dict'");
        items.emplace_back(std::move(k), eval(*e.args[i + 1], frame));
      }
      return Value::dict(std::move(items));
    }
    case K::Attr: {
      Value obj = eval(*e.a[0], frame);
      loc = e.loc;
      return get_attr(obj, e.name);
    }
    case K::Item: {
      Value obj = eval(*e.a[0], frame);
      Value key = eval(*e.a[1], frame);
      loc = e.loc;
      return get_item(obj, key);
    }
    case K::Slice: {
      Value obj = eval(*e.a[0], frame);
      Value parts[3];
      for (int i = 0; i < 3; ++i) parts[i] = e.a[size_t(i) + 1] ? eval(*e.a[size_t(i) + 1], frame) : Value::none();
      loc = e.loc;
      return builtins::slice(*this, obj, parts[0], parts[1], parts[2]);
    }
    case K::Call: {
      Value callee = eval(*e.a[0], frame);
      CallArgs args;
      eval_args(*this, e, frame, args);
      loc = e.loc;
      return call(callee, args);
    }
    case K::Filter: {
      Value v = e.a[0] ? eval(*e.a[0], frame) : block_operand;
      CallArgs args;
      eval_args(*this, e, frame, args);
      loc = e.loc;
      if (!e.known) fail("No filter named '" + e.name + "'.");
      return apply_filter(e.name, v, args);
    }
    case K::Test: {
      Value v = eval(*e.a[0], frame);
      CallArgs args;
      eval_args(*this, e, frame, args);
      loc = e.loc;
      if (!e.known) fail("No test named '" + e.name + "'.");
      bool r = apply_test(e.name, v, args);
      return Value(e.negated ? !r : r);
    }
    case K::Not: return Value(!eval(*e.a[0], frame).truthy());
    case K::Neg:
    case K::Pos: {
      Value v = eval(*e.a[0], frame);
      loc = e.loc;
      if (v.is_undefined()) fail_undefined(v);
      if (v.is_float()) return Value(e.k == K::Neg ? -v.as_float() : v.as_float());
      if (v.is_int() || v.is_bool()) {
        int64_t x = v.as_integer();
        if (e.k == K::Pos) return Value(x);
        if (x == INT64_MIN) return Value(-double(x));
        return Value(-x);
      }
      fail(std::string("bad operand type for unary ") + (e.k == K::Neg ? "-" : "+") + ": '" + v.type_name() + "'");
    }
    case K::Binary: {
      Value a = eval(*e.a[0], frame);
      Value b = eval(*e.a[1], frame);
      loc = e.loc;
      return builtins::binary(*this, e.name, a, b);
    }
    case K::Compare: {
      Value left = eval(*e.a[0], frame);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.a[i + 1], frame);
        loc = e.loc;
        const std::string& op = e.ops[i];
        bool r;
        if (op == "==") r = py_equal(left, right);
        else if (op == "!=") r = !py_equal(left, right);
        else if (op == "in") r = builtins::contains(*this, right, left);
        else if (op == "notin") r = !builtins::contains(*this, right, left);
        else {
          if (left.is_undefined()) fail_undefined(left);
          if (right.is_undefined()) fail_undefined(right);
          int c;
          try {
            c = util::py_compare(left, right, op.c_str());
          } catch (const TemplateRuntimeError& err) {
            fail(err.what());
          }
          r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
        }
        if (!r) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case K::And: {
      Value a = eval(*e.a[0], frame);
      if (!a.truthy()) return a;
      return eval(*e.a[1], frame);
    }
    case K::Or: {
      Value a = eval(*e.a[0], frame);
      if (a.truthy()) return a;
      return eval(*e.a[1], frame);
    }
    case K::Cond: {
      if (eval(*e.a[1], frame).truthy()) return eval(*e.a[0], frame);
      if (e.a[2]) return eval(*e.a[2], frame);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.loc.line) +
                              " evaluated to false and no else section was defined.");
    }
  }
  fail("internal error: unknown expression");
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_function()) return callee.function_data()->fn(*this, args);
  if (callee.is_undefined()) fail_undefined(callee);
  fail("'" + callee.type_name() + "' object is not callable");
}

namespace {
std::string type_repr(const Value& obj) {
  if (obj.is_none()) return "None";
  return obj.type_name() + " object";
}
}  // namespace

Value Interpreter::get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  bool found = false;
  Value m = builtins::method(*this, obj, name, found);
  if (found) return m;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict_data().find(Value(name))) return *v;
  } else if (obj.is_object()) {
    if (Value* v = obj.object_data()->find(name)) return *v;
  }
  return Value::undefined("'" + type_repr(obj) + "' has no attribute '" + name + "'");
}

Value Interpreter::get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.dict_data().find(key)) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_integer();
    if (obj.is_list()) {
      const auto& items = obj.items();
      const int64_t n = int64_t(items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return items[size_t(i)];
    } else {
      charge(obj.str_ref().size() / 64);
      std::u32string u = util::decode(obj.str_ref());
      const int64_t n = int64_t(u.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        std::string s;
        util::append_utf8(s, u[size_t(i)]);
        return Value(std::move(s));
      }
    }
    return Value::undefined("'" + type_repr(obj) + "' has no element " + key.repr());
  }
  if (key.is_string()) {
    bool found = false;
    Value m = builtins::method(*this, obj, key.str_ref(), found);
    if (found) return m;
    if (obj.is_object())
      if (Value* v = obj.object_data()->find(key.str_ref())) return *v;
    return Value::undefined("'" + type_repr(obj) + "' has no attribute '" + key.str_ref() + "'");
  }
  return Value::undefined("'" + type_repr(obj) + "' has no element " + key.repr());
}

// ---- Template ----

struct TemplateImpl {
  Options opts;
  detail::Program program;
};

Template::Template(std::string_view source, Options options) : impl_(std::make_unique<TemplateImpl>()) {
  impl_->opts = options;
  // jinja2 normalizes \r\n and \r to \n, and drops one trailing newline (keep_trailing_newline=False).
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src.push_back(source[i]);
    }
  }
  if (!options.keep_trailing_newline && !src.empty() && src.back() == '\n') src.pop_back();
  impl_->program = detail::parse(src, impl_->opts);
}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object() && !context.is_null()) throw TemplateError("template context must be a JSON object");
  std::vector<std::pair<std::string, Value>> vars;
  if (context.is_object())
    for (auto it = context.begin(); it != context.end(); ++it) vars.emplace_back(it.key(), Value::from_json(it.value()));
  return render(vars);
}

std::string Template::render(const std::vector<std::pair<std::string, Value>>& context) const {
  Interpreter in(impl_->opts);
  std::string out;
  in.out = &out;
  auto globals = std::make_shared<Frame>();
  globals->vars = builtins::globals();
  auto root = std::make_shared<Frame>();
  root->parent = globals;
  for (const auto& [k, v] : context) root->set(k, v);
  try {
    in.exec(impl_->program.body, root);
  } catch (const TemplateRaised&) {
    throw;
  } catch (const TemplateRuntimeError& e) {
    throw TemplateRuntimeError(with_loc(e.what(), in.loc));
  } catch (const TemplateError&) {
    throw;
  } catch (const Error& e) {
    throw TemplateRuntimeError(with_loc(e.what(), in.loc));
  } catch (const std::length_error& e) {
    throw TemplateRuntimeError(with_loc(std::string("value too large: ") + e.what(), in.loc));
  }
  return out;
}

}  // namespace cppformers::tokenizers::jinja
