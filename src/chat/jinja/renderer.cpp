#include "chat/jinja/renderer.hpp"

#include <fmt/format.h>

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/template_error.hpp"
#include "chat/jinja/utf8.hpp"

namespace slmtune::jinja {

Value* Renderer::Frame::find(std::string_view name) {
  for (auto& [n, v] : vars)
    if (n == name) return &v;
  return nullptr;
}

void Renderer::Frame::set(std::string_view name, Value value) {
  if (Value* v = find(name)) {
    *v = std::move(value);
    return;
  }
  vars.emplace_back(std::string(name), std::move(value));
}

Renderer::Renderer(const std::string& origin, const RenderOptions& options) : origin_(origin), options_(options) {}

std::string Renderer::render(const Body& body, const Dict& context, std::vector<GenerationSpan>* spans) {
  spans_ = spans;
  root_.vars.clear();
  for (const auto& [k, v] : context.items)
    if (k.is_string()) root_.set(k.as_string(), v);
  output_.clear();
  output_.reserve(4096);
  struct ReleaseNamespaces {
    std::vector<Value>& namespaces;
    ~ReleaseNamespaces() {
      for (auto& ns : namespaces) ns.namespace_dict().items.clear();
      namespaces.clear();
    }
  } release{namespaces_};
  try {
    exec(body);
  } catch (const TemplateError& e) {
    if (!e.location().empty()) throw;
    throw TemplateError(e.kind(), e.message(), fmt::format("{}:{}", origin_, line_));
  }
  return std::move(output_);
}

// ---- statements ----

Renderer::Flow Renderer::exec(const Body& body) {
  for (const auto& stmt : body) {
    const Flow flow = exec_stmt(*stmt);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

void Renderer::emit_text(std::string_view text) {
  out_->append(text);
  if (out_->size() > options_.limits.max_output_bytes)
    raise("SecurityError", fmt::format("output exceeds the limit of {} bytes", options_.limits.max_output_bytes));
}

void Renderer::emit(const Value& value) {
  if (value.is_string()) {
    emit_text(value.as_string());
    return;
  }
  const size_t before = out_->size();
  append_python_str(*out_, value);
  if (out_->size() > options_.limits.max_output_bytes) {
    out_->resize(before);
    raise("SecurityError", fmt::format("output exceeds the limit of {} bytes", options_.limits.max_output_bytes));
  }
}

std::string Renderer::capture(const Body& body) {
  std::string buffer;
  std::string* saved = out_;
  out_ = &buffer;
  try {
    exec(body);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return buffer;
}

Renderer::Flow Renderer::exec_stmt(const Stmt& stmt) {
  line_ = stmt.line;
  switch (stmt.kind) {
    case StmtKind::Text: emit_text(stmt.text); return Flow::Normal;
    case StmtKind::Output: emit(eval(*stmt.expr)); return Flow::Normal;
    case StmtKind::If:
      for (size_t i = 0; i < stmt.conditions.size(); ++i) {
        line_ = stmt.conditions[i]->line;
        if (eval(*stmt.conditions[i]).truthy()) return exec(stmt.bodies[i]);
      }
      return exec(stmt.else_body);
    case StmtKind::For: return exec_for(stmt);
    case StmtKind::Set: exec_set(stmt); return Flow::Normal;
    case StmtKind::SetBlock: {
      Value text = Value::string(capture(stmt.body));
      assign(stmt, apply_filters(stmt.filters, std::move(text)));
      return Flow::Normal;
    }
    case StmtKind::Macro: frame_->set(stmt.text, make_macro(stmt, stmt.text)); return Flow::Normal;
    case StmtKind::CallBlock: {
      const Expr& call = *stmt.expr;
      Value callee = eval(*call.object);
      CallArgs args;
      eval_args(call.args, args);
      args.named.emplace_back("caller", make_macro(stmt, "caller"));
      emit(this->call(callee, args));
      return Flow::Normal;
    }
    case StmtKind::FilterBlock: emit(apply_filters(stmt.filters, Value::string(capture(stmt.body)))); return Flow::Normal;
    case StmtKind::Break: return Flow::Break;
    case StmtKind::Continue: return Flow::Continue;
    case StmtKind::Generation: {
      const bool top = out_ == &output_;
      const size_t begin = out_->size();
      const Flow flow = exec(stmt.body);
      if (top && spans_ && out_->size() > begin) spans_->push_back(GenerationSpan{begin, out_->size()});
      return flow;
    }
    case StmtKind::With: {
      Frame frame;
      frame.parent = frame_;
      for (const auto& [name, expr] : stmt.assignments) frame.set(name, eval(*expr));
      frame_ = &frame;
      Flow flow;
      try {
        flow = exec(stmt.body);
      } catch (...) {
        frame_ = frame.parent;
        throw;
      }
      frame_ = frame.parent;
      return flow;
    }
  }
  return Flow::Normal;
}

Value Renderer::apply_filters(const std::vector<ExprPtr>& filters, Value value) {
  for (const auto& f : filters) {
    CallArgs args;
    eval_args(f->args, args);
    value = apply_filter(f->name, std::move(value), args);
  }
  return value;
}

std::shared_ptr<const List> Renderer::iterate(const Value& value) const {
  switch (value.kind()) {
    case Kind::List:
    case Kind::Tuple:
    case Kind::Generator: return value.shared_list();
    case Kind::Undefined: return std::make_shared<List>();
    case Kind::Dict:
    case Kind::Namespace: {
      List keys;
      keys.reserve(value.as_dict().items.size());
      for (const auto& [k, v] : value.as_dict().items) keys.push_back(k);
      return std::make_shared<List>(std::move(keys));
    }
    case Kind::String: {
      List chars;
      const std::string& s = value.as_string();
      const auto bounds = utf8::boundaries(s);
      check_list_size(bounds.size() - 1);
      chars.reserve(bounds.size());
      for (size_t i = 0; i + 1 < bounds.size(); ++i) chars.push_back(Value::string(s.substr(bounds[i], bounds[i + 1] - bounds[i])));
      return std::make_shared<List>(std::move(chars));
    }
    default: raise("TypeError", fmt::format("'{}' object is not iterable", python_type_name(value)));
  }
}

void Renderer::count_iterations(uint64_t n) {
  iterations_ += n;
  if (iterations_ > options_.limits.max_loop_iterations)
    raise("SecurityError", fmt::format("loop iterations exceed the limit of {}", options_.limits.max_loop_iterations));
}

Renderer::Flow Renderer::exec_for(const Stmt& stmt) {
  const Value iterable = eval(*stmt.expr);
  std::shared_ptr<const List> items = iterate(iterable);
  Frame frame;
  frame.parent = frame_;
  frame_ = &frame;
  struct Restore {
    Renderer& r;
    Frame* parent;
    ~Restore() { r.frame_ = parent; }
  } restore{*this, frame.parent};

  auto bind = [&](const Value& item) {
    if (!stmt.targets_tuple) {
      frame.set(stmt.targets[0], item);
      return;
    }
    if (!item.is_sequence() && !item.is_string())
      raise("TypeError", fmt::format("cannot unpack non-iterable {} object", python_type_name(item)));
    const auto parts = iterate(item);
    if (parts->size() != stmt.targets.size())
      raise("ValueError", fmt::format("not enough values to unpack (expected {}, got {})", stmt.targets.size(), parts->size()));
    for (size_t i = 0; i < parts->size(); ++i) frame.set(stmt.targets[i], (*parts)[i]);
  };

  if (stmt.condition) {  // the loop filter runs first, so loop.length counts only kept items
    List kept;
    for (const auto& item : *items) {
      count_iterations(1);
      bind(item);
      if (eval(*stmt.condition).truthy()) kept.push_back(item);
    }
    items = std::make_shared<const List>(std::move(kept));
  }
  if (items->empty()) {
    frame_ = frame.parent;
    return exec(stmt.else_body);  // a break or continue here belongs to an enclosing loop
  }
  auto loop = std::make_shared<LoopState>();
  loop->items = items;
  const Value loop_value = Value::loop(loop);
  for (size_t i = 0; i < items->size(); ++i) {
    count_iterations(1);
    loop->index0 = i;
    bind((*items)[i]);
    frame.set("loop", loop_value);
    if (exec(stmt.body) == Flow::Break) break;
  }
  return Flow::Normal;
}

void Renderer::assign(const Stmt& stmt, const Value& value) {
  if (!stmt.targets_tuple) {
    frame_->set(stmt.targets[0], value);
    return;
  }
  if (!value.is_sequence() && !value.is_string())
    raise("TypeError", fmt::format("cannot unpack non-iterable {} object", python_type_name(value)));
  const auto parts = iterate(value);
  if (parts->size() != stmt.targets.size())
    raise("ValueError", fmt::format("expected {} values to unpack, got {}", stmt.targets.size(), parts->size()));
  for (size_t i = 0; i < parts->size(); ++i) frame_->set(stmt.targets[i], (*parts)[i]);
}

void Renderer::exec_set(const Stmt& stmt) {
  Value value = eval(*stmt.expr);
  if (stmt.attribute.empty()) {
    assign(stmt, value);
    return;
  }
  const Value target = lookup(stmt.targets[0]);
  if (target.kind() != Kind::Namespace)
    raise("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
  target.namespace_dict().set(Value::string(stmt.attribute), std::move(value));
}

// ---- macros ----

Value Renderer::make_macro(const Stmt& stmt, std::string name) {
  auto fn = std::make_shared<Function>();
  fn->name = std::move(name);
  const Stmt* macro = &stmt;
  fn->call = [macro](Renderer& r, CallArgs& args) { return r.call_macro(*macro, args, nullptr); };
  return Value::function(std::move(fn));
}

Value Renderer::call_macro(const Stmt& macro, CallArgs& args, const Stmt*) {
  if (++call_depth_ > options_.limits.max_call_depth) {
    --call_depth_;
    raise("SecurityError", fmt::format("macro calls nest deeper than {}", options_.limits.max_call_depth));
  }
  Frame frame;
  frame.parent = &root_;  // macros see the template's globals, not the caller's locals
  Frame* saved_frame = frame_;
  frame_ = &frame;
  struct Restore {
    Renderer& r;
    Frame* saved;
    ~Restore() {
      r.frame_ = saved;
      --r.call_depth_;
    }
  } restore{*this, saved_frame};

  List varargs;
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < macro.params.size()) frame.set(macro.params[i].name, args.positional[i]);
    else varargs.push_back(args.positional[i]);
  }
  Dict kwargs;
  for (auto& [name, value] : args.named) {
    bool is_param = false;
    for (size_t i = 0; i < macro.params.size(); ++i) {
      if (macro.params[i].name != name) continue;
      if (i < args.positional.size())
        raise("TypeError", fmt::format("macro '{}' got multiple values for argument '{}'", macro.text, name));
      is_param = true;
    }
    if (is_param || name == "caller") frame.set(name, value);
    else kwargs.set(Value::string(name), value);
  }
  for (const auto& p : macro.params) {
    if (frame.find(p.name)) continue;
    frame.set(p.name, p.default_value ? eval(*p.default_value)
                                      : Value::undefined(fmt::format("parameter '{}' was not provided", p.name)));
  }
  frame.set("varargs", Value::tuple(std::move(varargs)));
  frame.set("kwargs", Value::dict(std::move(kwargs)));
  return make_string(capture(macro.body));
}

Value Renderer::call(const Value& callee, CallArgs& args) {
  if (callee.kind() == Kind::Function) return callee.as_function().call(*this, args);
  if (callee.is_undefined()) raise("UndefinedError", callee.undefined_hint());
  raise("TypeError", fmt::format("'{}' object is not callable", python_type_name(callee)));
}

// ---- expressions ----

Value Renderer::lookup(const std::string& name) {
  for (Frame* f = frame_; f; f = f->parent)
    if (Value* v = f->find(name)) return *v;
  if (auto g = global_value(name)) return *g;
  return Value::undefined(fmt::format("'{}' is undefined", name));
}

void Renderer::eval_args(const Arguments& args, CallArgs& out) {
  out.positional.reserve(args.positional.size());
  for (const auto& a : args.positional) out.positional.push_back(eval(*a));
  for (const auto& [name, a] : args.named) out.named.emplace_back(name, eval(*a));
}

Value Renderer::make_string(std::string s) const {
  if (s.size() > options_.limits.max_string_bytes)
    raise("SecurityError", fmt::format("a string exceeds the limit of {} bytes", options_.limits.max_string_bytes));
  return Value::string(std::move(s));
}

void Renderer::check_list_size(size_t items) const {
  if (items > options_.limits.max_list_items)
    raise("SecurityError", fmt::format("a list exceeds the limit of {} items", options_.limits.max_list_items));
}

std::tm Renderer::now() const {
  if (options_.clock) return options_.clock();
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

Value Renderer::apply_filter(std::string_view name, Value input, CallArgs& args) {
  return run_filter(*this, name, std::move(input), args);
}

bool Renderer::apply_test(std::string_view name, const Value& input, CallArgs& args) {
  return run_test(*this, name, input, args);
}

Value Renderer::attribute(const Value& object, std::string_view name) {
  // Python's dunder attributes are the sandbox's way out (''.__class__.__mro__...): refused, as
  // Jinja2's sandbox refuses them, unless a dict holds such a key.
  if (name.size() > 4 && name.substr(0, 2) == "__" && name.substr(name.size() - 2) == "__" && !object.is_undefined() &&
      !(object.is_mapping() && object.as_dict().find(name)))
    raise("SecurityError", fmt::format("access to attribute '{}' of '{}' object is unsafe.", name, python_type_name(object)));
  switch (object.kind()) {
    case Kind::Undefined: raise("UndefinedError", object.undefined_hint());
    case Kind::Dict: {
      if (has_method(object, name)) return bound_method(object, name);
      if (const Value* v = object.as_dict().find(name)) return *v;
      return Value::undefined(fmt::format("'dict object' has no attribute '{}'", name));
    }
    case Kind::Namespace: {
      if (const Value* v = object.as_dict().find(name)) return *v;
      return Value::undefined(fmt::format("'Namespace object' has no attribute '{}'", name));
    }
    case Kind::Loop: {
      const LoopState& loop = object.as_loop();
      const size_t n = loop.items->size();
      const size_t i = loop.index0;
      if (name == "index0") return Value::integer(static_cast<int64_t>(i));
      if (name == "index") return Value::integer(static_cast<int64_t>(i + 1));
      if (name == "revindex") return Value::integer(static_cast<int64_t>(n - i));
      if (name == "revindex0") return Value::integer(static_cast<int64_t>(n - i - 1));
      if (name == "first") return Value::boolean(i == 0);
      if (name == "last") return Value::boolean(i + 1 == n);
      if (name == "length") return Value::integer(static_cast<int64_t>(n));
      if (name == "depth") return Value::integer(static_cast<int64_t>(loop.depth0 + 1));
      if (name == "depth0") return Value::integer(static_cast<int64_t>(loop.depth0));
      if (name == "previtem") return i > 0 ? (*loop.items)[i - 1] : Value::undefined("there is no previous item");
      if (name == "nextitem") return i + 1 < n ? (*loop.items)[i + 1] : Value::undefined("there is no next item");
      if (name == "cycle") return bound_method(object, name);
      return Value::undefined(fmt::format("'LoopContext object' has no attribute '{}'", name));
    }
    default:
      if (has_method(object, name)) return bound_method(object, name);
      return Value::undefined(fmt::format("'{}' object has no attribute '{}'", python_type_name(object), name));
  }
}

Value Renderer::item(const Value& object, const Value& key) {
  switch (object.kind()) {
    case Kind::Undefined: raise("UndefinedError", object.undefined_hint());
    case Kind::Dict: {
      if (const Value* v = object.as_dict().find(key)) return *v;
      if (key.is_string() && has_method(object, key.as_string())) return bound_method(object, key.as_string());
      return Value::undefined(fmt::format("'dict object' has no attribute '{}'", to_python_str(key)));
    }
    case Kind::List:
    case Kind::Tuple:
    case Kind::String: {
      if (key.kind() == Kind::Int || key.kind() == Kind::Bool) {
        int64_t i = key.as_int();
        if (object.is_string()) {
          const std::string& s = object.as_string();
          if (utf8::is_ascii(s)) {
            const auto n = static_cast<int64_t>(s.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return Value::string(std::string(1, s[static_cast<size_t>(i)]));
          } else {
            const auto bounds = utf8::boundaries(s);
            const auto n = static_cast<int64_t>(bounds.size()) - 1;
            if (i < 0) i += n;
            if (i >= 0 && i < n) {
              const auto b = bounds[static_cast<size_t>(i)];
              return Value::string(s.substr(b, bounds[static_cast<size_t>(i) + 1] - b));
            }
          }
          return Value::undefined(fmt::format("str object has no element {}", key.as_int()));
        }
        const auto& items = object.as_list();
        const auto n = static_cast<int64_t>(items.size());
        if (i < 0) i += n;
        if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
        return Value::undefined(fmt::format("{} object has no element {}", python_type_name(object), key.as_int()));
      }
      if (key.is_string()) return attribute(object, key.as_string());
      return Value::undefined(fmt::format("{} object has no element {}", python_type_name(object), to_python_repr(key)));
    }
    case Kind::Namespace:
    case Kind::Loop:
      if (key.is_string()) return attribute(object, key.as_string());
      [[fallthrough]];
    default:
      if (key.is_string()) return attribute(object, key.as_string());
      return Value::undefined(fmt::format("'{}' object has no element {}", python_type_name(object), to_python_repr(key)));
  }
}

Value Renderer::eval_slice(const Expr& expr) {
  const Value object = eval(*expr.object);
  if (object.is_undefined()) raise("UndefinedError", object.undefined_hint());
  std::optional<int64_t> bound[3];
  for (int k = 0; k < 3; ++k) {
    if (!expr.items[static_cast<size_t>(k)]) continue;
    const Value v = eval(*expr.items[static_cast<size_t>(k)]);
    if (v.is_none()) continue;
    if (v.kind() != Kind::Int && v.kind() != Kind::Bool)
      raise("TypeError", "slice indices must be integers or None");
    bound[k] = v.as_int();
  }
  const int64_t step = bound[2].value_or(1);
  if (step == 0) raise("ValueError", "slice step cannot be zero");
  auto indices = [&](int64_t n) {
    // Python's slice.indices(n).
    auto clamp = [&](std::optional<int64_t> b, int64_t dflt) {
      if (!b) return dflt;
      int64_t v = *b;
      if (v < 0) v += n;
      if (step > 0) return std::clamp<int64_t>(v, 0, n);
      return std::clamp<int64_t>(v, -1, n - 1);
    };
    const int64_t start = clamp(bound[0], step > 0 ? 0 : n - 1);
    const int64_t stop = clamp(bound[1], step > 0 ? n : -1);
    std::vector<size_t> out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(static_cast<size_t>(i));
    return out;
  };
  if (object.is_string()) {
    const std::string& s = object.as_string();
    std::string out;
    if (utf8::is_ascii(s)) {
      for (size_t i : indices(static_cast<int64_t>(s.size()))) out += s[i];
    } else {
      const auto bounds = utf8::boundaries(s);
      for (size_t i : indices(static_cast<int64_t>(bounds.size()) - 1)) out.append(s, bounds[i], bounds[i + 1] - bounds[i]);
    }
    return Value::string(std::move(out));
  }
  if (object.kind() == Kind::List || object.kind() == Kind::Tuple) {
    const auto& items = object.as_list();
    List out;
    for (size_t i : indices(static_cast<int64_t>(items.size()))) out.push_back(items[i]);
    return object.kind() == Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
  }
  raise("TypeError", fmt::format("'{}' object is not subscriptable", python_type_name(object)));
}

Value Renderer::eval_call(const Expr& expr) {
  const Expr& callee = *expr.object;
  CallArgs args;
  if (callee.kind == ExprKind::Attribute) {
    Value receiver = eval(*callee.object);
    if (receiver.kind() != Kind::Namespace && has_method(receiver, callee.name)) {
      eval_args(expr.args, args);
      line_ = expr.line;
      return call_method(*this, receiver, callee.name, args);
    }
    Value fn = attribute(receiver, callee.name);
    eval_args(expr.args, args);
    line_ = expr.line;
    return call(fn, args);
  }
  Value fn = eval(callee);
  eval_args(expr.args, args);
  line_ = expr.line;
  return call(fn, args);
}

Value Renderer::eval_compare(const Expr& expr) {
  Value left = eval(*expr.object);
  for (size_t i = 0; i < expr.ops.size(); ++i) {
    Value right = eval(*expr.items[i]);
    const std::string& op = expr.ops[i];
    bool ok;
    if (op == "==") ok = left.equals(right);
    else if (op == "!=") ok = !left.equals(right);
    else if (op == "in") ok = python_contains(right, left);
    else if (op == "notin") ok = !python_contains(right, left);
    else {
      const int c = python_compare(left, right);
      ok = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    }
    if (!ok) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Renderer::eval(const Expr& expr) {
  switch (expr.kind) {
    case ExprKind::Literal: return expr.value;
    case ExprKind::Name: return lookup(expr.name);
    case ExprKind::ListLit:
    case ExprKind::TupleLit: {
      List items;
      items.reserve(expr.items.size());
      for (const auto& e : expr.items) items.push_back(eval(*e));
      return expr.kind == ExprKind::ListLit ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::DictLit: {
      Dict d;
      for (size_t i = 0; i + 1 < expr.items.size(); i += 2) d.set(eval(*expr.items[i]), eval(*expr.items[i + 1]));
      return Value::dict(std::move(d));
    }
    case ExprKind::Attribute: {
      Value object = eval(*expr.object);
      line_ = expr.line;
      return attribute(object, expr.name);
    }
    case ExprKind::Item: {
      Value object = eval(*expr.object);
      Value key = eval(*expr.right);
      line_ = expr.line;
      return item(object, key);
    }
    case ExprKind::Slice: return eval_slice(expr);
    case ExprKind::Call: return eval_call(expr);
    case ExprKind::Filter: {
      Value input = expr.object ? eval(*expr.object) : Value();
      CallArgs args;
      eval_args(expr.args, args);
      line_ = expr.line;
      return apply_filter(expr.name, std::move(input), args);
    }
    case ExprKind::Test: {
      Value input = eval(*expr.object);
      CallArgs args;
      eval_args(expr.args, args);
      line_ = expr.line;
      return Value::boolean(apply_test(expr.name, input, args) != expr.negated);
    }
    case ExprKind::Unary: {
      Value v = eval(*expr.object);
      line_ = expr.line;
      if (expr.name == "not") return Value::boolean(!v.truthy());
      if (expr.name == "-") return negate(v);
      if (!v.is_number()) raise("TypeError", fmt::format("bad operand type for unary +: '{}'", python_type_name(v)));
      return v.kind() == Kind::Bool ? Value::integer(v.as_int()) : v;
    }
    case ExprKind::Binary: {
      Value a = eval(*expr.left);
      Value b = eval(*expr.right);
      line_ = expr.line;
      return binary_operation(*this, expr.name, a, b);
    }
    case ExprKind::And: {
      Value a = eval(*expr.left);
      return a.truthy() ? eval(*expr.right) : a;
    }
    case ExprKind::Or: {
      Value a = eval(*expr.left);
      return a.truthy() ? a : eval(*expr.right);
    }
    case ExprKind::Compare: return eval_compare(expr);
    case ExprKind::Conditional:
      if (eval(*expr.object).truthy()) return eval(*expr.left);
      if (expr.right) return eval(*expr.right);
      return Value::undefined("the conditional expression had no else branch");
  }
  return Value();
}

}  // namespace slmtune::jinja
