#pragma once
// Internal: the tree-walking interpreter of the Jinja engine (jinja.cpp) and its builtins
// (filters, tests, methods, globals: jinja_builtins.cpp).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cppformers/tokenizers/jinja_ast.hpp"

namespace cppformers::tokenizers::jinja {

struct Frame {
  std::shared_ptr<Frame> parent;
  std::vector<std::pair<std::string, Value>> vars;
  const Value* lookup(const std::string& name) const {
    for (const Frame* f = this; f; f = f->parent.get())
      for (const auto& kv : f->vars)
        if (kv.first == name) return &kv.second;
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    for (auto& kv : vars)
      if (kv.first == name) {
        kv.second = std::move(v);
        return;
      }
    vars.emplace_back(name, std::move(v));
  }
};
using FrameP = std::shared_ptr<Frame>;

class Interpreter {
 public:
  explicit Interpreter(const Options& o) : opts(o) {}
  // Macros, loop.changed and namespaces may hold references to themselves (through scopes or
  // attributes); they are emptied when the render ends so that nothing leaks.
  ~Interpreter() {
    for (auto& w : owned_functions)
      if (auto f = w.lock()) f->fn = nullptr;
    for (auto& w : owned_objects)
      if (auto o = w.lock()) o->attrs.clear();
  }
  std::vector<std::weak_ptr<FunctionData>> owned_functions;
  std::vector<std::weak_ptr<ObjectData>> owned_objects;

  enum class Flow { Normal, Break, Continue };
  Flow exec(const detail::Body& body, const FrameP& frame);
  Value eval(const detail::Expr& e, const FrameP& frame);
  // Renders `body` in a new scope below `frame` into a string.
  std::string capture(const detail::Body& body, const FrameP& frame);

  Value call(const Value& callee, CallArgs& args);
  Value get_attr(const Value& obj, const std::string& name);
  Value get_item(const Value& obj, const Value& key);
  Value apply_filter(const std::string& name, const Value& v, CallArgs& args);
  bool apply_test(const std::string& name, const Value& v, CallArgs& args);

  // Errors at the current template location.
  [[noreturn]] void fail(const std::string& msg) const;
  // An undefined value used where a defined one is needed: jinja2's UndefinedError.
  [[noreturn]] void fail_undefined(const Value& u) const;
  void check_size(size_t n) const;
  // Counts one evaluation step (an expression, a statement, a loop iteration) against the limit.
  void tick() {
    if (++steps > opts.max_steps) fail_steps();
  }
  // Charges work proportional to a size (items built or walked, string bytes / 64).
  void charge(size_t n) {
    steps += n;
    if (steps > opts.max_steps) fail_steps();
  }
  [[noreturn]] void fail_steps() const;
  void emit(const std::string& s);

  const Options& opts;
  std::string* out = nullptr;
  uint64_t steps = 0;
  int depth = 0;
  detail::Loc loc;
  Value block_operand;  // the rendered body of a {% filter %} block
};

namespace builtins {
// The globals every render sees (range, dict, namespace, cycler, joiner, raise_exception,
// strftime_now).
std::vector<std::pair<std::string, Value>> globals();
// Python operators.
Value binary(Interpreter& in, const std::string& op, const Value& a, const Value& b);
bool contains(Interpreter& in, const Value& container, const Value& item);
// Iterating a value as Python's for does (dict: keys; str: characters; undefined: nothing).
std::vector<Value> iterate(Interpreter& in, const Value& v);
// Python's len(); throws for values without one.
size_t length(Interpreter& in, const Value& v);
// A bound method of a str / dict / list (or an undefined value when there is none).
Value method(Interpreter& in, const Value& obj, const std::string& name, bool& found);
Value slice(Interpreter& in, const Value& obj, const Value& start, const Value& stop, const Value& step);
}  // namespace builtins

}  // namespace cppformers::tokenizers::jinja
