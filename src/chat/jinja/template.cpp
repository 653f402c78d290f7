#include "chat/jinja/template.hpp"

#include <fmt/format.h>

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/lexer.hpp"
#include "chat/jinja/parser.hpp"
#include "chat/jinja/template_error.hpp"

namespace slmtune::jinja {
namespace {

// Jinja2 refuses, when compiling, a filter or test name it does not know, unless the use sits inside
// an {% if %} or a conditional expression (where it may be guarded by a check and is refused only
// when reached). We do the same so that such templates fail up front, as they do in Python.
class UnknownNameCheck {
 public:
  explicit UnknownNameCheck(const std::string& origin) : origin_(origin) {}

  void body(const Body& b, bool soft) {
    for (const auto& s : b) stmt(*s, soft);
  }

 private:
  void stmt(const Stmt& s, bool soft) {
    if (s.kind == StmtKind::If) soft = true;
    if (s.expr) expr(*s.expr, soft);
    if (s.condition) expr(*s.condition, soft);
    for (const auto& c : s.conditions) expr(*c, soft);
    for (const auto& f : s.filters) expr(*f, soft);
    for (const auto& p : s.params)
      if (p.default_value) expr(*p.default_value, soft);
    for (const auto& [n, e] : s.assignments) expr(*e, soft);
    for (const auto& b : s.bodies) body(b, soft);
    body(s.body, soft);
    body(s.else_body, soft);
  }

  void expr(const Expr& e, bool soft) {
    if (e.kind == ExprKind::Conditional) soft = true;
    if (!soft && e.kind == ExprKind::Filter && !filter_exists(e.name))
      throw TemplateError("TemplateAssertionError", fmt::format("No filter named '{}'.", e.name),
                          fmt::format("{}:{}", origin_, e.line));
    if (!soft && e.kind == ExprKind::Test && !test_exists(e.name))
      throw TemplateError("TemplateAssertionError", fmt::format("No test named '{}'.", e.name),
                          fmt::format("{}:{}", origin_, e.line));
    for (const ExprPtr* child : {&e.object, &e.left, &e.right})
      if (*child) expr(**child, soft);
    for (const auto& item : e.items)
      if (item) expr(*item, soft);
    for (const auto& a : e.args.positional) expr(*a, soft);
    for (const auto& [n, a] : e.args.named) expr(*a, soft);
  }

  const std::string& origin_;
};

}  // namespace

Dict context_from_json(const Json& context) {
  if (!context.is_object()) throw TemplateError("TypeError", "the template context must be a JSON object");
  Dict d;
  d.items.reserve(context.size());
  for (const auto& [key, value] : context.items()) d.items.emplace_back(Value::string(key), Value::from_json(value));
  return d;
}

Template::Template(std::string_view source, std::string origin) : origin_(std::move(origin)) {
  auto body = std::make_shared<Body>(parse(tokenize(source, origin_), origin_));
  UnknownNameCheck(origin_).body(*body, false);
  body_ = std::move(body);
}

RenderResult Template::render_values(const Dict& context, const RenderOptions& options) const {
  RenderResult result;
  Renderer renderer(origin_, options);
  result.text = renderer.render(*body_, context, &result.generation);
  return result;
}

RenderResult Template::render_with_spans(const Json& context, const RenderOptions& options) const {
  return render_values(context_from_json(context), options);
}

std::string Template::render(const Json& context, const RenderOptions& options) const {
  return render_values(context_from_json(context), options).text;
}

}  // namespace slmtune::jinja
