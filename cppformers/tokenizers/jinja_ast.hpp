#pragma once
// Internal: the parsed form of a template (expressions and statements) shared by the parser
// (jinja_parse.cpp) and the interpreter (jinja.cpp).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cppformers/tokenizers/jinja.hpp"

namespace cppformers::tokenizers::jinja::detail {

struct Loc {
  int line = 1, col = 1;
};

struct Expr;
using ExprP = std::unique_ptr<Expr>;

struct Expr {
  enum class K {
    Const,    // value
    Name,     // name
    List,     // args: elements
    Tuple,    // args: elements
    Dict,     // args: k0, v0, k1, v1, ...
    Attr,     // a[0].name
    Item,     // a[0][a[1]]
    Slice,    // a[0][a[1]:a[2]:a[3]] (null parts are omitted)
    Call,     // a[0](args, kwargs)
    Filter,   // a[0] | name(args, kwargs); a[0] null in {% filter %} blocks
    Test,     // a[0] is [not] name(args, kwargs)
    Not,      // not a[0]
    Neg,      // -a[0]
    Pos,      // +a[0]
    Binary,   // a[0] op a[1]: + - * / // % ** ~
    Compare,  // a[0] ops[0] a[1] ops[1] a[2] ...
    And,
    Or,
    Cond,  // a[0] if a[1] else a[2] (a[2] may be null)
  };
  K k;
  Loc loc;
  Value value;
  std::string name;  // Name, Attr, Filter, Test, Binary op
  std::vector<ExprP> a;
  std::vector<ExprP> args;
  std::vector<std::pair<std::string, ExprP>> kwargs;
  ExprP dyn_args, dyn_kwargs;    // *args, **kwargs of a call
  std::vector<std::string> ops;  // Compare: ==, !=, <, <=, >, >=, in, notin
  bool negated = false;          // Test
  bool known = true;             // Filter/Test: the name exists (unknown ones fail when evaluated)
  Expr(K kind, Loc l) : k(kind), loc(l) {}
};

struct Node;
using NodeP = std::unique_ptr<Node>;
using Body = std::vector<NodeP>;

// An assignment target: a name, a namespace attribute (ns.attr) or a tuple of targets.
struct Target {
  std::string name;                // name, or the namespace variable
  std::string attr;                // ns.attr
  std::vector<Target> items;       // tuple unpacking
  bool is_tuple = false;
};

struct Node {
  enum class K {
    Text,         // text
    Output,       // {{ e[0] }}
    If,           // e: conditions; bodies: one per condition, then the else body (maybe empty)
    For,          // target in e[0] [if e[1]]; bodies[0] the loop, bodies[1] the else
    Set,          // target = e[0]
    SetBlock,     // target = bodies[0] rendered, through filter e[0] (null: none)
    Macro,        // name(params = defaults) bodies[0]
    FilterBlock,  // bodies[0] rendered through the filter chain e[0]
    With,         // targets[i] = e[i] in a new scope, bodies[0]
    Scope,        // bodies[0] as is ({% generation %}, {% block %})
    Break,
    Continue,
  };
  K k;
  Loc loc;
  std::string text;  // Text; Macro name
  std::vector<ExprP> e;
  std::vector<Body> bodies;
  Target target;
  std::vector<Target> targets;
  std::vector<std::string> params;
  std::vector<ExprP> defaults;  // aligned with the last params
  Node(K kind, Loc l) : k(kind), loc(l) {}
};

struct Program {
  Body body;
};

// Parses `source` (already newline-normalized by the caller) into a program.
Program parse(const std::string& source, const Options& options);

// Filter and test names the interpreter provides.
bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);

}  // namespace cppformers::tokenizers::jinja::detail
