#include "chat/jinja/lexer.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "chat/jinja/template_error.hpp"
#include "chat/jinja/utf8.hpp"

#include <cctype>

namespace slmtune::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Jinja2 first turns \r\n and \r into \n and, without keep_trailing_newline, drops one final \n.
std::string normalize_newlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const std::string& origin, const LexerOptions& options)
      : src_(std::move(source)), origin_(origin), options_(options) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      const size_t tag = find_tag(pos_);
      if (tag == std::string::npos) {
        emit_text(src_.substr(pos_), pos_);
        pos_ = src_.size();
        break;
      }
      const char kind = src_[tag + 1];
      const char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
      std::string text = src_.substr(pos_, tag - pos_);
      strip_before_tag(text, sign, kind != '{', line_starting);
      emit_text(std::move(text), pos_);
      const size_t after_open = tag + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        line_starting = lex_comment(tag, after_open);
      } else if (kind == '%' && is_raw_begin(after_open)) {
        line_starting = lex_raw(tag);
      } else {
        line_starting = lex_tag(tag, after_open, kind == '%');
      }
    }
    tokens_.push_back(Token{TokenType::End, "", line_of(src_.size()), column_of(src_.size())});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail_at(size_t pos, const std::string& message) const {
    throw TemplateError("TemplateSyntaxError", message, fmt::format("{}:{}:{}", origin_, line_of(pos), column_of(pos)));
  }
  int line_of(size_t pos) const {
    return static_cast<int>(std::upper_bound(line_starts_.begin(), line_starts_.end(), pos) - line_starts_.begin());
  }
  int column_of(size_t pos) const {
    // In bytes: cheap enough to compute for every token of a long one-line template.
    return static_cast<int>(pos - line_starts_[static_cast<size_t>(line_of(pos) - 1)]) + 1;
  }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // The `-` modifier strips all whitespace before a tag; lstrip_blocks strips the spaces and tabs
  // between the start of a line and a block or comment tag, unless `+` asks to keep them.
  void strip_before_tag(std::string& text, char sign, bool block_like, bool line_starting) const {
    if (sign == '-') {
      size_t end = text.size();
      while (end > 0 && is_space(text[end - 1])) --end;
      text.resize(end);
    } else if (sign != '+' && block_like && options_.lstrip_blocks) {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
          std::all_of(text.begin() + static_cast<std::ptrdiff_t>(l_pos), text.end(), is_space))
        text.resize(l_pos);
    }
  }

  void emit_text(std::string text, size_t at) {
    if (text.empty()) return;
    tokens_.push_back(Token{TokenType::Text, std::move(text), line_of(at), column_of(at)});
  }

  // After a tag's closing delimiter: `-` eats all following whitespace, trim_blocks one newline.
  // Returns whether what was consumed ends a line (Jinja2's line_starting for lstrip_blocks).
  bool after_close(size_t close_end, char sign, bool trim_newline) {
    pos_ = close_end;
    if (sign == '-') {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
    } else if (sign != '+' && trim_newline && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
    return pos_ > close_end && src_[pos_ - 1] == '\n';
  }

  bool lex_comment(size_t tag, size_t content_start) {
    const size_t close = src_.find("#}", content_start);
    if (close == std::string::npos) fail_at(tag, "missing end of comment tag");
    const char sign = close > content_start && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : 0;
    return after_close(close + 2, sign, options_.trim_blocks);
  }

  // `{% raw %}` with optional modifiers; `after_open` is just past `{%` and its sign.
  bool is_raw_begin(size_t after_open) const {
    size_t p = after_open;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0 || (p + 3 < src_.size() && is_name_char(src_[p + 3]))) return false;
    return true;
  }

  bool lex_raw(size_t tag) {
    size_t p = src_.find("raw", tag) + 3;
    while (p < src_.size() && is_space(src_[p])) ++p;
    bool strip_after = false;
    if (src_.compare(p, 3, "-%}") == 0) {
      strip_after = true;
      p += 3;
    } else if (src_.compare(p, 2, "%}") == 0) {
      p += 2;
    } else {
      fail_at(p, "expected '%}' after 'raw'");
    }
    if (strip_after)
      while (p < src_.size() && is_space(src_[p])) ++p;
    // The body runs to the first {% endraw %}, whatever it contains.
    for (size_t q = src_.find("{%", p); q != std::string::npos; q = src_.find("{%", q + 2)) {
      size_t r = q + 2;
      const char sign = r < src_.size() && (src_[r] == '-' || src_[r] == '+') ? src_[r] : 0;
      if (sign) ++r;
      while (r < src_.size() && is_space(src_[r])) ++r;
      if (src_.compare(r, 6, "endraw") != 0) continue;
      r += 6;
      while (r < src_.size() && is_space(src_[r])) ++r;
      char end_sign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) end_sign = src_[r++];
      if (src_.compare(r, 2, "%}") != 0) continue;
      std::string body = src_.substr(p, q - p);
      strip_before_tag(body, sign, true, false);
      emit_text(std::move(body), p);
      return after_close(r + 2, end_sign, options_.trim_blocks);
    }
    fail_at(tag, "missing end of raw directive");
  }

  bool lex_tag(size_t tag, size_t p, bool block) {
    tokens_.push_back(Token{block ? TokenType::BlockBegin : TokenType::VariableBegin, "", line_of(tag), column_of(tag)});
    int depth = 0;
    const char close_char = block ? '%' : '}';
    while (true) {
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (p >= src_.size()) fail_at(tag, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      if (depth == 0) {
        char sign = 0;
        size_t q = p;
        if (src_[q] == '-' || src_[q] == '+') sign = src_[q++];
        if (q + 1 < src_.size() && src_[q] == close_char && src_[q + 1] == '}' && (block || sign != '+')) {
          tokens_.push_back(Token{block ? TokenType::BlockEnd : TokenType::VariableEnd, "", line_of(p), column_of(p)});
          return after_close(q + 2, sign, block && options_.trim_blocks);
        }
      }
      const size_t start = p;
      const char c = src_[p];
      if (is_name_start(c)) {
        while (p < src_.size() && is_name_char(src_[p])) ++p;
        push(TokenType::Name, src_.substr(start, p - start), start);
      } else if (is_digit(c)) {
        p = lex_number(p);
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        static constexpr std::string_view two[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (auto t : two)
          if (src_.compare(p, 2, t) == 0) op = std::string(t);
        if (op.empty()) {
          if (std::string_view("+-/*%~[](){}<>=.:|,;").find(c) == std::string_view::npos)
            fail_at(p, fmt::format("unexpected character '{}'", c));
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if (op == ")" || op == "]" || op == "}") {
          if (depth == 0) fail_at(p, fmt::format("unexpected '{}'", op));
          --depth;
        }
        p += op.size();
        push(TokenType::Operator, std::move(op), start);
      }
    }
  }

  void push(TokenType type, std::string value, size_t at) {
    tokens_.push_back(Token{type, std::move(value), line_of(at), column_of(at)});
  }

  size_t lex_number(size_t p) {
    const size_t start = p;
    auto digits = [&] {
      while (p < src_.size() && (is_digit(src_[p]) || (src_[p] == '_' && p + 1 < src_.size() && is_digit(src_[p + 1]))))
        ++p;
    };
    digits();
    bool is_float = false;
    // After `x.` a number is an attribute index (`x.0.1` is two lookups), never a float.
    const bool after_dot = !tokens_.empty() && tokens_.back().type == TokenType::Operator && tokens_.back().value == ".";
    if (!after_dot && p + 1 < src_.size() && src_[p] == '.' && is_digit(src_[p + 1])) {
      ++p;
      digits();
      is_float = true;
    }
    if (!after_dot && p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && is_digit(src_[q])) {
        p = q;
        digits();
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = start; i < p; ++i)
      if (src_[i] != '_') text += src_[i];
    push(is_float ? TokenType::Float : TokenType::Integer, std::move(text), start);
    return p;
  }

  // Python string literal escapes (Jinja2 decodes them with "unicode-escape").
  size_t lex_string(size_t p) {
    const size_t start = p;
    const char quote = src_[p++];
    std::string value;
    while (true) {
      if (p >= src_.size()) fail_at(start, "unexpected end of string");
      const char c = src_[p];
      if (c == quote) {
        ++p;
        break;
      }
      if (c != '\\') {
        value += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) fail_at(start, "unexpected end of string");
      const char e = src_[p + 1];
      p += 2;
      auto hex = [&](size_t count) {
        uint32_t cp = 0;
        for (size_t k = 0; k < count; ++k, ++p) {
          if (p >= src_.size() || !std::isxdigit(static_cast<unsigned char>(src_[p])))
            fail_at(p, "truncated \\x, \\u or \\U escape in string");
          const char h = src_[p];
          cp = cp * 16 + static_cast<uint32_t>(is_digit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
        }
        utf8::append(value, cp);
      };
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case 'a': value += '\a'; break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case '\n': break;
        case 'x': hex(2); break;
        case 'u': hex(4); break;
        case 'U': hex(8); break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++k, ++p)
              cp = cp * 8 + static_cast<uint32_t>(src_[p] - '0');
            utf8::append(value, cp);
          } else {
            value += '\\';
            value += e;
          }
      }
    }
    push(TokenType::String, std::move(value), start);
    return p;
  }

  std::string src_;
  const std::string& origin_;
  LexerOptions options_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const std::string& origin, const LexerOptions& options) {
  return Lexer(normalize_newlines(source, options.keep_trailing_newline), origin, options).run();
}

}  // namespace slmtune::jinja
