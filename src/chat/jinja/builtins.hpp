#pragma once
// The built-in behaviour a template reaches by name: operators, methods of Python's str/list/dict,
// filters, tests and global functions. Each lives in its own source file.
#include <optional>
#include <string_view>

#include "chat/jinja/renderer.hpp"
#include "chat/jinja/value.hpp"

namespace slmtune::jinja {

// operators.cpp: Python's arithmetic, ordering and membership.
Value binary_operation(const Renderer& r, std::string_view op, const Value& a, const Value& b);
int python_compare(const Value& a, const Value& b);  // <0, 0, >0; TypeError when unordered
bool python_contains(const Value& container, const Value& item);
Value negate(const Value& v);

// methods.cpp: `receiver.name(...)`. has_method tells whether `name` is a (safe) method of the
// receiver's type; mutating methods raise the sandbox's SecurityError.
bool has_method(const Value& receiver, std::string_view name);
Value call_method(Renderer& r, const Value& receiver, std::string_view name, CallArgs& args);
Value bound_method(const Value& receiver, std::string_view name);

// filters.cpp and tests.cpp.
Value run_filter(Renderer& r, std::string_view name, Value input, CallArgs& args);
bool run_test(Renderer& r, std::string_view name, const Value& input, CallArgs& args);
bool test_exists(std::string_view name);
bool filter_exists(std::string_view name);

// globals.cpp: range, namespace, dict, raise_exception, strftime_now.
std::optional<Value> global_value(std::string_view name);

}  // namespace slmtune::jinja
