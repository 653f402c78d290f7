#include "chat/jinja/parser.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <initializer_list>

#include "chat/jinja/template_error.hpp"

namespace slmtune::jinja {
namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::string& origin) : tokens_(tokens), origin_(origin) {}

  Body parse_template() {
    Body body = subparse({});
    if (current().type != TokenType::End) fail(fmt::format("unexpected '{}'", current().value));
    return body;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxParseDepth) parser.fail("template nesting is too deep");
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  const Token& current() const { return tokens_[pos_]; }
  const Token& peek(size_t ahead = 1) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  void advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool is_op(std::string_view op) const { return current().type == TokenType::Operator && current().value == op; }
  bool is_name(std::string_view name) const { return current().type == TokenType::Name && current().value == name; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }

  [[noreturn]] void fail(const std::string& message) const {
    const Token& t = current();
    throw TemplateError("TemplateSyntaxError", message, fmt::format("{}:{}:{}", origin_, t.line, t.column));
  }
  std::string describe(const Token& t) const {
    switch (t.type) {
      case TokenType::End: return "end of template";
      case TokenType::BlockEnd: return "end of statement block";
      case TokenType::VariableEnd: return "end of print statement";
      case TokenType::Text: return "template data";
      default: return "'" + t.value + "'";
    }
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail(fmt::format("expected '{}', got {}", op, describe(current())));
  }
  std::string expect_name() {
    if (current().type != TokenType::Name) fail(fmt::format("expected a name, got {}", describe(current())));
    std::string name = current().value;
    advance();
    return name;
  }
  void expect_block_end() {
    if (current().type != TokenType::BlockEnd) fail(fmt::format("expected end of statement block, got {}", describe(current())));
    advance();
  }

  ExprPtr node(ExprKind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = current().line;
    return e;
  }

  // ---- statements ----

  // Parses until a block tag whose name is in `ends`; leaves the stream on that name.
  Body subparse(std::initializer_list<std::string_view> ends) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = current();
      if (t.type == TokenType::End) {
        if (ends.size() == 0) return body;
        fail(fmt::format("unexpected end of template; expected '{}'", *ends.begin()));
      }
      if (t.type == TokenType::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Text;
        s->line = t.line;
        s->text = t.value;
        body.push_back(std::move(s));
        advance();
      } else if (t.type == TokenType::VariableBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->line = t.line;
        advance();
        s->expr = parse_tuple(true);
        if (current().type != TokenType::VariableEnd) fail(fmt::format("expected end of print statement, got {}", describe(current())));
        advance();
        body.push_back(std::move(s));
      } else if (t.type == TokenType::BlockBegin) {
        advance();
        if (current().type != TokenType::Name) fail("tag name expected");
        for (auto end : ends)
          if (current().value == end) return body;
        body.push_back(parse_statement());
      } else {
        fail(fmt::format("unexpected {}", describe(t)));
      }
    }
  }

  StmtPtr make_stmt(StmtKind kind) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = current().line;
    return s;
  }

  StmtPtr parse_statement() {
    const std::string tag = current().value;
    if (tag == "if") return parse_if();
    if (tag == "for") return parse_for();
    if (tag == "set") return parse_set();
    if (tag == "macro") return parse_macro();
    if (tag == "call") return parse_call_block();
    if (tag == "filter") return parse_filter_block();
    if (tag == "generation") return parse_simple_block(StmtKind::Generation, "endgeneration");
    if (tag == "with") return parse_with();
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) fail(fmt::format("'{}' outside of a loop", tag));
      auto s = make_stmt(tag == "break" ? StmtKind::Break : StmtKind::Continue);
      advance();
      expect_block_end();
      return s;
    }
    static constexpr std::string_view ends[] = {"endif", "endfor", "endset", "endmacro", "endcall", "endfilter",
                                                "endgeneration", "endwith", "else", "elif", "endraw"};
    for (auto end : ends)
      if (tag == end) fail(fmt::format("unexpected '{}' without a matching opening tag", tag));
    fail(fmt::format("encountered unknown tag '{}'", tag));
  }

  // Closes a block: the stream is on the end tag's name.
  void end_block(std::string_view name) {
    if (!skip_name(name)) fail(fmt::format("expected '{}'", name));
    expect_block_end();
  }

  StmtPtr parse_if() {
    auto s = make_stmt(StmtKind::If);
    advance();
    while (true) {
      s->conditions.push_back(parse_tuple(false));
      expect_block_end();
      s->bodies.push_back(subparse({"elif", "else", "endif"}));
      if (skip_name("elif")) continue;
      if (skip_name("else")) {
        expect_block_end();
        s->else_body = subparse({"endif"});
      }
      end_block("endif");
      return s;
    }
  }

  // Assignment targets: `a`, `a, b`, `(a, b)`; with `allow_attribute`, `ns.attr`.
  void parse_targets(Stmt& s, bool allow_attribute) {
    const bool paren = skip_op("(");
    while (true) {
      s.targets.push_back(expect_name());
      if (allow_attribute && s.targets.size() == 1 && !paren && is_op(".")) {
        advance();
        s.attribute = expect_name();
        return;
      }
      if (!skip_op(",")) break;
      s.targets_tuple = true;
      if (paren && is_op(")")) break;
      if (current().type != TokenType::Name) break;
    }
    if (paren) {
      s.targets_tuple = true;
      expect_op(")");
    }
  }

  StmtPtr parse_for() {
    auto s = make_stmt(StmtKind::For);
    advance();
    parse_targets(*s, false);
    if (!skip_name("in")) fail(fmt::format("expected 'in', got {}", describe(current())));
    s->expr = parse_tuple(false, /*stop_at_if=*/true);
    if (skip_name("if")) s->condition = parse_expression(true);
    if (is_name("recursive")) fail("recursive loops are not supported");
    expect_block_end();
    ++loop_depth_;
    s->body = subparse({"endfor", "else"});
    --loop_depth_;
    if (skip_name("else")) {
      expect_block_end();
      s->else_body = subparse({"endfor"});
    }
    end_block("endfor");
    return s;
  }

  StmtPtr parse_set() {
    auto s = make_stmt(StmtKind::Set);
    advance();
    parse_targets(*s, true);
    if (skip_op("=")) {
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (!s->attribute.empty()) fail("a block set cannot assign to an attribute");
    s->kind = StmtKind::SetBlock;
    while (skip_op("|")) s->filters.push_back(parse_filter(nullptr));
    expect_block_end();
    s->body = subparse({"endset"});
    end_block("endset");
    return s;
  }

  void parse_params(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      if (is_op(")")) break;
      Param p;
      p.name = expect_name();
      if (skip_op("=")) p.default_value = parse_expression(true);
      s.params.push_back(std::move(p));
    }
    advance();
  }

  StmtPtr parse_macro() {
    auto s = make_stmt(StmtKind::Macro);
    advance();
    s->text = expect_name();
    parse_params(*s);
    expect_block_end();
    const int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = subparse({"endmacro"});
    loop_depth_ = saved;
    end_block("endmacro");
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = make_stmt(StmtKind::CallBlock);
    advance();
    if (is_op("(")) parse_params(*s);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::Call) fail("expected a call after 'call'");
    expect_block_end();
    const int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = subparse({"endcall"});
    loop_depth_ = saved;
    end_block("endcall");
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = make_stmt(StmtKind::FilterBlock);
    advance();
    do {
      s->filters.push_back(parse_filter(nullptr));
    } while (skip_op("|"));
    expect_block_end();
    s->body = subparse({"endfilter"});
    end_block("endfilter");
    return s;
  }

  StmtPtr parse_simple_block(StmtKind kind, std::string_view end) {
    auto s = make_stmt(kind);
    advance();
    expect_block_end();
    s->body = subparse({end});
    end_block(end);
    return s;
  }

  StmtPtr parse_with() {
    auto s = make_stmt(StmtKind::With);
    advance();
    while (current().type != TokenType::BlockEnd) {
      if (!s->assignments.empty()) expect_op(",");
      std::string name = expect_name();
      expect_op("=");
      s->assignments.emplace_back(std::move(name), parse_expression(true));
    }
    expect_block_end();
    s->body = subparse({"endwith"});
    end_block("endwith");
    return s;
  }

  // ---- expressions ----

  // An expression, or a tuple when commas follow (`{{ a, b }}`, `for x in a, b`).
  ExprPtr parse_tuple(bool with_conditional, bool stop_at_if = false) {
    auto first = parse_expression(with_conditional);
    if (!is_op(",")) return first;
    auto tuple = node(ExprKind::TupleLit);
    tuple->items.push_back(std::move(first));
    while (skip_op(",")) {
      if (current().type == TokenType::BlockEnd || current().type == TokenType::VariableEnd ||
          (stop_at_if && is_name("if")))
        break;
      tuple->items.push_back(parse_expression(with_conditional));
    }
    return tuple;
  }

  ExprPtr parse_expression(bool with_conditional) {
    DepthGuard guard(*this);
    auto expr = parse_or();
    if (!with_conditional) return expr;
    while (is_name("if")) {
      advance();
      auto cond = node(ExprKind::Conditional);
      cond->object = parse_or();
      cond->left = std::move(expr);
      if (skip_name("else")) cond->right = parse_expression(true);
      expr = std::move(cond);
    }
    return expr;
  }

  ExprPtr parse_or() {
    auto left = parse_and();
    while (is_name("or")) {
      auto n = node(ExprKind::Or);
      advance();
      n->left = std::move(left);
      n->right = parse_and();
      left = std::move(n);
    }
    return left;
  }

  ExprPtr parse_and() {
    auto left = parse_not();
    while (is_name("and")) {
      auto n = node(ExprKind::And);
      advance();
      n->left = std::move(left);
      n->right = parse_not();
      left = std::move(n);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto n = node(ExprKind::Unary);
      advance();
      n->name = "not";
      n->object = parse_not();
      return n;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    auto first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (current().type == TokenType::Operator &&
          (is_op("==") || is_op("!=") || is_op("<") || is_op(">") || is_op("<=") || is_op(">="))) {
        op = current().value;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().type == TokenType::Name && peek().value == "in") {
        op = "notin";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::Compare);
        cmp->object = std::move(first);
      }
      cmp->ops.push_back(op);
      cmp->items.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, int line) {
    auto n = std::make_unique<Expr>();
    n->kind = ExprKind::Binary;
    n->line = line;
    n->name = std::move(op);
    n->left = std::move(left);
    n->right = std::move(right);
    return n;
  }

  ExprPtr parse_math1() {
    auto left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = current().value;
      const int line = current().line;
      advance();
      left = binary(op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    auto left = parse_math2();
    while (is_op("~")) {
      const int line = current().line;
      advance();
      left = binary("~", std::move(left), parse_math2(), line);
    }
    return left;
  }

  ExprPtr parse_math2() {
    auto left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = current().value;
      const int line = current().line;
      advance();
      left = binary(op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    auto left = parse_unary(true);
    while (is_op("**")) {
      const int line = current().line;
      advance();
      left = binary("**", std::move(left), parse_unary(true), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr n;
    if (is_op("-") || is_op("+")) {
      n = node(ExprKind::Unary);
      n->name = current().value;
      advance();
      n->object = parse_unary(false);
    } else {
      n = parse_primary();
    }
    n = parse_postfix(std::move(n));
    if (with_filter) n = parse_filter_expr(std::move(n));
    return n;
  }

  ExprPtr parse_primary() {
    const Token& t = current();
    switch (t.type) {
      case TokenType::Name: {
        auto n = node(ExprKind::Literal);
        if (t.value == "true" || t.value == "True") n->value = Value::boolean(true);
        else if (t.value == "false" || t.value == "False") n->value = Value::boolean(false);
        else if (t.value == "none" || t.value == "None") n->value = Value::none();
        else {
          n->kind = ExprKind::Name;
          n->name = t.value;
        }
        advance();
        return n;
      }
      case TokenType::String: {
        auto n = node(ExprKind::Literal);
        std::string s;
        while (current().type == TokenType::String) {  // adjacent literals concatenate
          s += current().value;
          advance();
        }
        n->value = Value::string(std::move(s));
        return n;
      }
      case TokenType::Integer: {
        auto n = node(ExprKind::Literal);
        int64_t v = 0;
        const auto r = std::from_chars(t.value.data(), t.value.data() + t.value.size(), v);
        if (r.ec != std::errc()) fail("integer literal out of range");
        n->value = Value::integer(v);
        advance();
        return n;
      }
      case TokenType::Float: {
        auto n = node(ExprKind::Literal);
        n->value = Value::number(std::strtod(t.value.c_str(), nullptr));
        advance();
        return n;
      }
      case TokenType::Operator:
        if (t.value == "(") {
          advance();
          if (skip_op(")")) {
            auto n = node(ExprKind::TupleLit);
            return n;
          }
          auto first = parse_expression(true);
          if (skip_op(")")) return first;
          auto tuple = node(ExprKind::TupleLit);
          tuple->items.push_back(std::move(first));
          while (skip_op(",")) {
            if (is_op(")")) break;
            tuple->items.push_back(parse_expression(true));
          }
          expect_op(")");
          return tuple;
        }
        if (t.value == "[") {
          auto n = node(ExprKind::ListLit);
          advance();
          while (!is_op("]")) {
            if (!n->items.empty()) expect_op(",");
            if (is_op("]")) break;
            n->items.push_back(parse_expression(true));
          }
          advance();
          return n;
        }
        if (t.value == "{") {
          auto n = node(ExprKind::DictLit);
          advance();
          while (!is_op("}")) {
            if (!n->items.empty()) expect_op(",");
            if (is_op("}")) break;
            n->items.push_back(parse_expression(true));
            expect_op(":");
            n->items.push_back(parse_expression(true));
          }
          advance();
          return n;
        }
        break;
      default: break;
    }
    fail(fmt::format("unexpected {}", describe(t)));
  }

  ExprPtr parse_postfix(ExprPtr n) {
    while (true) {
      if (is_op(".")) {
        advance();
        auto a = node(ExprKind::Attribute);
        if (current().type == TokenType::Name) {
          a->name = current().value;
        } else if (current().type == TokenType::Integer) {
          // `x.0` is x[0] when x has no attribute "0", which no Python object has.
          a->kind = ExprKind::Item;
          a->right = node(ExprKind::Literal);
          a->right->value = Value::index_from_digits(current().value);
        } else {
          fail(fmt::format("expected an attribute name, got {}", describe(current())));
        }
        advance();
        a->object = std::move(n);
        n = std::move(a);
      } else if (is_op("[")) {
        n = parse_subscript(std::move(n));
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        return n;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    auto n = node(ExprKind::Item);
    advance();
    ExprPtr parts[3];
    int index = 0;
    bool is_slice = false;
    while (!is_op("]")) {
      if (is_op(":")) {
        is_slice = true;
        if (++index > 2) fail("too many ':' in slice");
        advance();
        continue;
      }
      if (parts[index]) fail(fmt::format("expected ']', got {}", describe(current())));
      parts[index] = parse_expression(true);
      if (is_op(",")) fail("tuple subscripts are not supported");
    }
    advance();
    n->object = std::move(object);
    if (is_slice) {
      n->kind = ExprKind::Slice;
      for (auto& p : parts) n->items.push_back(std::move(p));
    } else {
      if (!parts[0]) fail("empty subscript");
      n->right = std::move(parts[0]);
    }
    return n;
  }

  void parse_args(Arguments& args) {
    expect_op("(");
    while (!is_op(")")) {
      if (!args.positional.empty() || !args.named.empty()) expect_op(",");
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
      if (current().type == TokenType::Name && peek().type == TokenType::Operator && peek().value == "=") {
        std::string name = current().value;
        advance();
        advance();
        args.named.emplace_back(std::move(name), parse_expression(true));
      } else {
        if (!args.named.empty()) fail("positional argument follows keyword argument");
        args.positional.push_back(parse_expression(true));
      }
    }
    advance();
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto n = node(ExprKind::Call);
    n->object = std::move(callee);
    parse_args(n->args);
    return n;
  }

  ExprPtr parse_filter(ExprPtr object) {
    auto n = node(ExprKind::Filter);
    n->name = expect_name();
    while (is_op(".")) {  // dotted filter names
      advance();
      n->name += "." + expect_name();
    }
    n->object = std::move(object);
    if (is_op("(")) parse_args(n->args);
    return n;
  }

  ExprPtr parse_filter_expr(ExprPtr n) {
    while (true) {
      if (is_op("|")) {
        advance();
        n = parse_filter(std::move(n));
      } else if (is_name("is")) {
        advance();
        auto t = node(ExprKind::Test);
        if (skip_name("not")) t->negated = true;
        t->name = expect_name();
        while (is_op(".")) {
          advance();
          t->name += "." + expect_name();
        }
        t->object = std::move(n);
        if (is_op("(")) {
          parse_args(t->args);
        } else if ((current().type == TokenType::Name || current().type == TokenType::String ||
                    current().type == TokenType::Integer || current().type == TokenType::Float || is_op("[") ||
                    is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          if (is_name("is")) fail("you cannot chain multiple tests with is");
          t->args.positional.push_back(parse_postfix(parse_primary()));
        }
        n = std::move(t);
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        return n;
      }
    }
  }

  const std::vector<Token>& tokens_;
  const std::string& origin_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const std::string& origin) {
  return Parser(tokens, origin).parse_template();
}

}  // namespace slmtune::jinja
