#pragma once
// The parsed template: expressions and statements as plain tagged nodes that the renderer walks.
#include <memory>
#include <string>
#include <vector>

#include "chat/jinja/value.hpp"

namespace slmtune::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind : uint8_t {
  Literal,    // value
  Name,       // name
  ListLit,    // items
  TupleLit,   // items
  DictLit,    // items as key, value, key, value...
  Attribute,  // object, name
  Item,       // object, index
  Slice,      // object, items = {start, stop, step} (each may be null)
  Call,       // object (callee), args
  Filter,     // object (may be null inside {% filter %}), name, args
  Test,       // object, name, args, negated
  Unary,      // op ("-", "+", "not"), object
  Binary,     // op, left, right
  And,        // left, right
  Or,         // left, right
  Compare,    // object, then ops[i] against items[i]
  Conditional,  // object (test), left (then), right (else, may be null)
};

struct Arguments {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> named;
};

struct Expr {
  ExprKind kind;
  int line = 0;
  Value value;
  std::string name;  // Name, Attribute, Filter, Test; operator for Unary/Binary
  ExprPtr object, left, right;
  std::vector<ExprPtr> items;
  std::vector<std::string> ops;
  Arguments args;
  bool negated = false;
};

enum class StmtKind : uint8_t {
  Text,        // text
  Output,      // expr
  If,          // conditions[i] → bodies[i]; else_body
  For,         // targets, expr (iterable), condition (may be null), body, else_body
  Set,         // targets (or namespace target), expr
  SetBlock,    // targets, body, filters
  Macro,       // name, params, body
  CallBlock,   // expr (the call), params (caller's), body
  FilterBlock, // filters, body
  Break,
  Continue,
  Generation,  // body
  With,        // targets/exprs pairs in assignments, body
};

struct Param {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;  // Text; Macro name; namespace attribute for Set ("ns.attr" target)
  ExprPtr expr;
  ExprPtr condition;
  std::vector<std::string> targets;  // names assigned (tuple unpacking when more than one)
  bool targets_tuple = false;
  std::string attribute;  // Set to namespace attribute: targets[0] . attribute
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;
  Body body;
  Body else_body;
  std::vector<Param> params;
  std::vector<ExprPtr> filters;  // Filter exprs whose object is null: applied to the body's text
  std::vector<std::pair<std::string, ExprPtr>> assignments;
};

}  // namespace slmtune::jinja
