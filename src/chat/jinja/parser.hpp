#pragma once
// Turns lexer tokens into the statement tree, with Jinja2's operator precedence. Syntax errors
// are TemplateErrors whose location is "<origin>:<line>:<column>".
#include <string>
#include <vector>

#include "chat/jinja/ast.hpp"
#include "chat/jinja/lexer.hpp"

namespace slmtune::jinja {

// Nesting deeper than this (brackets, unary operators, blocks) is refused so that a hostile template
// cannot exhaust the stack while being parsed.
inline constexpr int kMaxParseDepth = 200;

Body parse(const std::vector<Token>& tokens, const std::string& origin);

}  // namespace slmtune::jinja
