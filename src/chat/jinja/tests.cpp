// Jinja2's built-in tests (`x is defined`, `n is divisibleby 3`, ...).
#include <fmt/format.h>

#include <cmath>
#include <unordered_map>

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/string_ops.hpp"
#include "chat/jinja/template_error.hpp"

namespace slmtune::jinja {
namespace {

using TestFn = bool (*)(Renderer&, const Value&, CallArgs&);

const Value& operand(const CallArgs& args, std::string_view test) {
  const Value* v = args.get(0, "other");
  if (!v) raise("TypeError", fmt::format("test '{}' needs an argument", test));
  return *v;
}

bool t_defined(Renderer&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Renderer&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(Renderer&, const Value& v, CallArgs&) { return v.is_none(); }
bool t_string(Renderer&, const Value& v, CallArgs&) { return v.is_string(); }
// bool is a Number and an int in Python; Jinja2's integer test excludes it explicitly.
bool t_number(Renderer&, const Value& v, CallArgs&) { return v.is_number(); }
bool t_integer(Renderer&, const Value& v, CallArgs&) { return v.kind() == Kind::Int; }
bool t_float(Renderer&, const Value& v, CallArgs&) { return v.kind() == Kind::Float; }
bool t_boolean(Renderer&, const Value& v, CallArgs&) { return v.kind() == Kind::Bool; }
bool t_mapping(Renderer&, const Value& v, CallArgs&) { return v.kind() == Kind::Dict; }
// Undefined is iterable (it iterates as empty); a sequence also needs len() and indexing.
bool t_iterable(Renderer&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_sequence() || v.kind() == Kind::Dict;
}
bool t_sequence(Renderer&, const Value& v, CallArgs&) {
  return v.is_string() || v.kind() == Kind::List || v.kind() == Kind::Tuple || v.kind() == Kind::Dict;
}
bool t_true(Renderer&, const Value& v, CallArgs&) { return v.kind() == Kind::Bool && v.as_bool(); }
bool t_false(Renderer&, const Value& v, CallArgs&) { return v.kind() == Kind::Bool && !v.as_bool(); }

int64_t integer_operand(const Value& v, std::string_view test) {
  if (v.is_undefined()) raise("UndefinedError", v.undefined_hint());
  if (v.kind() == Kind::Float) {
    if (std::floor(v.as_float()) != v.as_float()) raise("TypeError", fmt::format("test '{}' needs an integer", test));
    return static_cast<int64_t>(v.as_float());
  }
  if (!v.is_number()) raise("TypeError", fmt::format("test '{}' needs a number, got {}", test, python_type_name(v)));
  return v.as_int();
}
bool t_odd(Renderer&, const Value& v, CallArgs&) { return integer_operand(v, "odd") % 2 != 0; }
bool t_even(Renderer&, const Value& v, CallArgs&) { return integer_operand(v, "even") % 2 == 0; }
bool t_divisibleby(Renderer&, const Value& v, CallArgs& args) {
  const Value* n = args.get(0, "num");
  if (!n) raise("TypeError", "divisibleby needs a number");
  const int64_t d = integer_operand(*n, "divisibleby");
  if (d == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
  return integer_operand(v, "divisibleby") % d == 0;
}
bool t_eq(Renderer&, const Value& v, CallArgs& a) { return v.equals(operand(a, "eq")); }
bool t_ne(Renderer&, const Value& v, CallArgs& a) { return !v.equals(operand(a, "ne")); }
bool t_lt(Renderer&, const Value& v, CallArgs& a) { return python_compare(v, operand(a, "lt")) < 0; }
bool t_le(Renderer&, const Value& v, CallArgs& a) { return python_compare(v, operand(a, "le")) <= 0; }
bool t_gt(Renderer&, const Value& v, CallArgs& a) { return python_compare(v, operand(a, "gt")) > 0; }
bool t_ge(Renderer&, const Value& v, CallArgs& a) { return python_compare(v, operand(a, "ge")) >= 0; }
bool t_in(Renderer&, const Value& v, CallArgs& a) {
  const Value* seq = a.get(0, "seq");
  if (!seq) raise("TypeError", "test 'in' needs a sequence");
  return python_contains(*seq, v);
}
bool t_callable(Renderer&, const Value& v, CallArgs&) { return v.kind() == Kind::Function; }
// Identity: for the values templates compare this way (None, True, False, small ints, the same
// container) it matches Python's `is`.
bool t_sameas(Renderer&, const Value& v, CallArgs& a) {
  const Value& other = operand(a, "sameas");
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case Kind::None:
    case Kind::Undefined: return true;
    case Kind::Bool:
    case Kind::Int: return v.as_int() == other.as_int();
    case Kind::String: return v.as_string() == other.as_string();
    default: return false;
  }
}
bool t_lower(Renderer&, const Value& v, CallArgs&) { return v.is_string() && to_lower(v.as_string()) == v.as_string(); }
bool t_upper(Renderer&, const Value& v, CallArgs&) { return v.is_string() && to_upper(v.as_string()) == v.as_string(); }
bool t_escaped(Renderer&, const Value&, CallArgs&) { return false; }
bool t_filter(Renderer&, const Value& v, CallArgs&) { return v.is_string() && filter_exists(v.as_string()); }
bool t_test(Renderer&, const Value& v, CallArgs&) { return v.is_string() && test_exists(v.as_string()); }

const std::unordered_map<std::string_view, TestFn>& test_table() {
  static const std::unordered_map<std::string_view, TestFn> table = {
      {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none},       {"string", t_string},
      {"number", t_number},   {"integer", t_integer},     {"float", t_float},     {"boolean", t_boolean},
      {"mapping", t_mapping}, {"iterable", t_iterable},   {"sequence", t_sequence}, {"true", t_true},
      {"false", t_false},     {"odd", t_odd},             {"even", t_even},       {"divisibleby", t_divisibleby},
      {"equalto", t_eq},      {"eq", t_eq},               {"==", t_eq},           {"ne", t_ne},
      {"!=", t_ne},           {"lt", t_lt},               {"lessthan", t_lt},     {"<", t_lt},
      {"le", t_le},           {"<=", t_le},               {"gt", t_gt},           {"greaterthan", t_gt},
      {">", t_gt},            {"ge", t_ge},               {">=", t_ge},           {"in", t_in},
      {"callable", t_callable}, {"sameas", t_sameas},     {"lower", t_lower},     {"upper", t_upper},
      {"escaped", t_escaped}, {"filter", t_filter},       {"test", t_test},
  };
  return table;
}

}  // namespace

bool test_exists(std::string_view name) { return test_table().count(name) > 0; }

bool run_test(Renderer& r, std::string_view name, const Value& input, CallArgs& args) {
  const auto& table = test_table();
  const auto it = table.find(name);
  if (it == table.end()) raise("TemplateAssertionError", fmt::format("No test named '{}'.", name));
  return it->second(r, input, args);
}

}  // namespace slmtune::jinja
