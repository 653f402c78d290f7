#pragma once
// Walks the parsed template and writes its output, with Jinja2's scoping (a for loop, a macro and a
// with block each open a scope; if does not) and the sandbox's bounds on output, loops and calls.
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/ast.hpp"
#include "chat/jinja/value.hpp"

namespace slmtune::jinja {

struct RenderLimits {
  size_t max_output_bytes = size_t{32} << 20;
  size_t max_string_bytes = size_t{32} << 20;  // any one string or the sum of a list's items
  size_t max_list_items = 1'000'000;
  uint64_t max_loop_iterations = 10'000'000;  // over the whole render, nested loops counted per item
  int max_call_depth = 200;                     // macro and caller() nesting
};

// A byte range of the output produced inside {% generation %} ... {% endgeneration %}.
struct GenerationSpan {
  size_t begin = 0;
  size_t end = 0;
};

struct RenderOptions {
  RenderLimits limits;
  // What strftime_now() formats; the local time now when empty.
  std::function<std::tm()> clock;
};

class Renderer {
 public:
  Renderer(const std::string& origin, const RenderOptions& options);

  // Renders `body` with `context` as its variables; fills `spans` when given.
  std::string render(const Body& body, const Dict& context, std::vector<GenerationSpan>* spans);

  // ---- used by filters, tests, methods and globals ----
  Value call(const Value& callee, CallArgs& args);
  Value apply_filter(std::string_view name, Value input, CallArgs& args);
  bool apply_test(std::string_view name, const Value& input, CallArgs& args);
  Value attribute(const Value& object, std::string_view name);
  Value item(const Value& object, const Value& key);
  // Wraps a computed string, failing once it passes the string bound.
  Value make_string(std::string s) const;
  void check_list_size(size_t items) const;
  void count_iterations(uint64_t n);
  std::tm now() const;
  // Namespaces are the one mutable value and can be made to contain themselves; the renderer
  // empties every one it saw when the render ends, so such a cycle cannot outlive it (and leak).
  void track_namespace(const Value& ns) { namespaces_.push_back(ns); }
  const RenderLimits& limits() const { return options_.limits; }
  // Items a for loop or a filter walks over: list items, dict keys, string characters.
  std::shared_ptr<const List> iterate(const Value& value) const;

 private:
  struct Frame {
    std::vector<std::pair<std::string, Value>> vars;
    Frame* parent = nullptr;
    Value* find(std::string_view name);
    void set(std::string_view name, Value value);
  };
  enum class Flow { Normal, Break, Continue };

  Flow exec(const Body& body);
  Flow exec_stmt(const Stmt& stmt);
  Flow exec_for(const Stmt& stmt);
  void exec_set(const Stmt& stmt);
  void assign(const Stmt& stmt, const Value& value);
  std::string capture(const Body& body);
  void emit(const Value& value);
  void emit_text(std::string_view text);
  Value eval(const Expr& expr);
  Value eval_call(const Expr& expr);
  Value eval_compare(const Expr& expr);
  Value eval_slice(const Expr& expr);
  void eval_args(const Arguments& args, CallArgs& out);
  Value lookup(const std::string& name);
  Value make_macro(const Stmt& stmt, std::string name);
  Value call_macro(const Stmt& macro, CallArgs& args, const Stmt* caller_of);
  Value apply_filters(const std::vector<ExprPtr>& filters, Value value);

  const std::string& origin_;
  const RenderOptions& options_;
  Frame root_;
  Frame* frame_ = &root_;
  std::string output_;
  std::string* out_ = &output_;
  std::vector<GenerationSpan>* spans_ = nullptr;
  std::vector<Value> namespaces_;
  uint64_t iterations_ = 0;
  int call_depth_ = 0;
  int line_ = 0;  // of the node being evaluated, for error messages
};

}  // namespace slmtune::jinja
