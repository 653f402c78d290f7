#pragma once
// Splits template source into text and the tokens inside {{ }} and {% %}, applying Jinja2's
// whitespace rules as Hugging Face configures them: trim_blocks, lstrip_blocks, the `-`/`+`
// modifiers, {% raw %} and {# comments #}, and no trailing newline kept.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slmtune::jinja {

enum class TokenType : uint8_t {
  Text,
  VariableBegin,
  VariableEnd,
  BlockBegin,
  BlockEnd,
  Name,
  String,
  Integer,
  Float,
  Operator,
  End,
};

struct Token {
  TokenType type;
  std::string value;  // text, name, decoded string literal, number text or operator
  int line = 1;
  int column = 1;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws TemplateError ("TemplateSyntaxError") naming `origin`, line and column.
std::vector<Token> tokenize(std::string_view source, const std::string& origin, const LexerOptions& options = {});

}  // namespace slmtune::jinja
