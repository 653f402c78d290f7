// A hostile template must fail with an error, never hang, crash or eat memory; bad syntax must be
// reported with its line and column.
#include <gtest/gtest.h>

#include "chat/jinja/template.hpp"
#include "chat/jinja/template_error.hpp"

using namespace slmtune;
using jinja::Template;
using jinja::TemplateError;

namespace {

std::string error_of(const std::string& source, const jinja::RenderOptions& options = {}) {
  try {
    Template(source, "t.jinja").render(Json::object(), options);
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "";
}

jinja::RenderOptions small_limits() {
  jinja::RenderOptions o;
  o.limits.max_output_bytes = 1 << 20;
  o.limits.max_string_bytes = 1 << 20;
  o.limits.max_list_items = 100000;
  o.limits.max_loop_iterations = 100000;
  o.limits.max_call_depth = 50;
  return o;
}

TEST(Sandbox, BoundsTheOutput) {
  const auto e = error_of("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", small_limits());
  EXPECT_NE(e.find("SecurityError: output exceeds the limit"), std::string::npos) << e;
}

TEST(Sandbox, BoundsLoopIterations) {
  const auto e = error_of("{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}", small_limits());
  EXPECT_NE(e.find("SecurityError: loop iterations exceed"), std::string::npos) << e;
}

TEST(Sandbox, BoundsRecursion) {
  const auto e = error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", small_limits());
  EXPECT_NE(e.find("SecurityError: macro calls nest deeper than 50"), std::string::npos) << e;
  // The default limit also stops unbounded recursion well before the C++ stack runs out.
  EXPECT_NE(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("SecurityError"), std::string::npos);
}

TEST(Sandbox, BoundsStringAndListGrowth) {
  const auto strings = error_of(
      "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", small_limits());
  EXPECT_NE(strings.find("SecurityError: a string exceeds"), std::string::npos) << strings;
  const auto lists = error_of(
      "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", small_limits());
  EXPECT_NE(lists.find("SecurityError: a list exceeds"), std::string::npos) << lists;
  EXPECT_NE(error_of("{{ 'x' * 1000000000000 }}").find("SecurityError"), std::string::npos);
  EXPECT_NE(error_of("{{ [1] * 1000000000000 }}").find("SecurityError"), std::string::npos);
}

TEST(Sandbox, BoundsHowDeeplyValuesNest) {
  const auto e = error_of("{% set ns = namespace(l=[]) %}{% for i in range(5000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l }}");
  EXPECT_NE(e.find("SecurityError: values nest deeper than 1000 levels"), std::string::npos) << e;
  const auto cycle = error_of("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}");
  EXPECT_NE(cycle.find("RecursionError"), std::string::npos) << cycle;
  std::string deep_json(3000, '[');
  deep_json += std::string(3000, ']');
  EXPECT_THROW(Template("{{ x }}").render(Json{{"x", Json::parse(deep_json)}}), TemplateError);
}

TEST(Sandbox, RepeatingNothingAnyNumberOfTimesIsInstant) {
  EXPECT_EQ(Template("[{{ '' * 1000000000000 }}{{ [] * 1000000000000 }}]").render(Json::object()), "[[]]");
}

TEST(Sandbox, RefusesPythonInternalsAndFileAccess) {
  EXPECT_NE(error_of("{{ ''.__class__ }}").find("SecurityError"), std::string::npos);
  EXPECT_NE(error_of("{% include '/etc/passwd' %}").find("unknown tag 'include'"), std::string::npos);
  EXPECT_NE(error_of("{% import 'x' as y %}").find("unknown tag 'import'"), std::string::npos);
  EXPECT_NE(error_of("{% extends 'base' %}").find("unknown tag 'extends'"), std::string::npos);
}

TEST(Sandbox, DeepNestingIsASyntaxErrorNotAStackOverflow) {
  const std::string parens = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_NE(error_of(parens).find("too deep"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  EXPECT_NE(error_of(ifs).find("too deep"), std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(5000, '-') + "1 }}").find("too deep"), std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(3000, '[') + std::string(3000, ']') + " }}").find("too deep"), std::string::npos);
}

TEST(SyntaxErrors, NameTheTemplateLineAndColumn) {
  EXPECT_EQ(error_of("Hello\n{% if x %}\n  {{ 1 + }}\n{% endif %}"),
            "t.jinja:3:10: TemplateSyntaxError: unexpected end of print statement");
  EXPECT_EQ(error_of("{% for x in y %}\n{% endif %}"),
            "t.jinja:2:4: TemplateSyntaxError: unexpected 'endif' without a matching opening tag");
  EXPECT_EQ(error_of("a\n\n{{ 'unterminated }}"), "t.jinja:3:4: TemplateSyntaxError: unexpected end of string");
  EXPECT_EQ(error_of("{% if true %}open"), "t.jinja:1:18: TemplateSyntaxError: unexpected end of template; expected 'elif'");
  EXPECT_EQ(error_of("x {# never closed"), "t.jinja:1:3: TemplateSyntaxError: missing end of comment tag");
  EXPECT_EQ(error_of("{{ a ! b }}"), "t.jinja:1:6: TemplateSyntaxError: unexpected character '!'");
}

TEST(RuntimeErrors, NameTheTemplateAndLine) {
  EXPECT_EQ(error_of("line one\n{{ missing.attr }}"), "t.jinja:2: UndefinedError: 'missing' is undefined");
  EXPECT_EQ(error_of("\n\n{{ raise_exception('no system role') }}"), "t.jinja:3: TemplateError: no system role");
}

}  // namespace
