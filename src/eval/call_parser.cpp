#include "eval/call_parser.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace slmtune::eval {
namespace {

const std::string_view kOpenTag = "<tool_call>";
const std::string_view kCloseTag = "</tool_call>";
const std::string_view kFunctionalPrefix = "<fn_";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

void append_answer(std::string& answer, std::string_view piece) {
  piece = trim(piece);
  if (piece.empty()) return;
  if (!answer.empty()) answer += '\n';
  answer.append(piece);
}

void mark_malformed(ParsedOutput& out, std::string message) {
  out.attempted_call = true;
  if (out.json_valid) out.error = std::move(message);
  out.json_valid = false;
}

// Parses `body` as one call or a list of calls; a problem makes the output malformed.
// A bare `[]` is the dataset's spelling of "no call" and says so; an empty <tool_call> list does not.
void add_calls_from_json(ParsedOutput& out, std::string_view body, const std::string& origin, bool empty_list_is_no_call) {
  try {
    Json value = parse_json(body, origin);
    if (value.is_array() && value.empty() && empty_list_is_no_call) return;
    out.attempted_call = true;
    if (!value.is_object() && !value.is_array()) fail("{}: expected a call object or a list of calls, got {}", origin, value.type_name());
    if (value.is_array() && value.empty()) fail("{}: an empty list of calls", origin);
    for (auto& call : functions::parse_calls(value, origin)) out.calls.push_back(std::move(call));
  } catch (const Error& e) {
    mark_malformed(out, e.what());
  }
}

// ```json ... ``` around a bare JSON answer: the fence is not part of the call.
std::string_view strip_code_fence(std::string_view text) {
  if (text.substr(0, 3) != "```") return text;
  size_t first_line_end = text.find('\n');
  if (first_line_end == std::string_view::npos) return text;
  std::string_view inner = text.substr(first_line_end + 1);
  inner = trim(inner);
  if (inner.size() >= 3 && inner.substr(inner.size() - 3) == "```") inner.remove_suffix(3);
  return trim(inner);
}

void parse_hermes(std::string_view text, ParsedOutput& out) {
  size_t pos = 0, block = 0;
  while (pos < text.size()) {
    size_t open = text.find(kOpenTag, pos);
    if (open == std::string_view::npos) {
      append_answer(out.answer, text.substr(pos));
      break;
    }
    append_answer(out.answer, text.substr(pos, open - pos));
    size_t body_start = open + kOpenTag.size();
    size_t close = text.find(kCloseTag, body_start);
    size_t body_end = close == std::string_view::npos ? text.size() : close;
    std::string_view body = trim(text.substr(body_start, body_end - body_start));
    const std::string origin = fmt::format("tool_call {}", block++);
    if (body.empty()) mark_malformed(out, origin + ": empty <tool_call> block");
    else add_calls_from_json(out, body, origin, false);
    pos = close == std::string_view::npos ? text.size() : close + kCloseTag.size();
  }
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

// The length of the functional token `<fn_NAME>` at `pos`, or 0 when there is none.
size_t functional_token_length(std::string_view text, size_t pos) {
  if (text.substr(pos, kFunctionalPrefix.size()) != kFunctionalPrefix) return 0;
  size_t i = pos + kFunctionalPrefix.size();
  size_t name_start = i;
  while (i < text.size() && is_name_char(text[i])) ++i;
  if (i == name_start || i >= text.size() || text[i] != '>') return 0;
  return i + 1 - pos;
}

size_t find_functional_token(std::string_view text, size_t from) {
  for (size_t pos = text.find(kFunctionalPrefix, from); pos != std::string_view::npos;
       pos = text.find(kFunctionalPrefix, pos + 1))
    if (functional_token_length(text, pos) > 0) return pos;
  return std::string_view::npos;
}

void parse_functional_tokens(std::string_view text, ParsedOutput& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t token = find_functional_token(text, pos);
    if (token == std::string_view::npos) {
      append_answer(out.answer, text.substr(pos));
      break;
    }
    append_answer(out.answer, text.substr(pos, token - pos));
    size_t length = functional_token_length(text, token);
    std::string name(text.substr(token + kFunctionalPrefix.size(), length - kFunctionalPrefix.size() - 1));
    size_t args = token + length;
    while (args < text.size() && is_space(text[args])) ++args;
    const std::string origin = fmt::format("<fn_{}>", name);
    if (args >= text.size() || text[args] != '{') {
      mark_malformed(out, origin + ": expected a JSON object of arguments after the token");
      pos = args;
      continue;
    }
    size_t end = json_object_end(text, args);
    if (end == std::string_view::npos) {
      mark_malformed(out, origin + ": the arguments' JSON object is not closed");
      break;
    }
    try {
      Json arguments = parse_json(text.substr(args, end - args), origin);
      out.attempted_call = true;
      out.calls.push_back(functions::FunctionCall{name, std::move(arguments)});
    } catch (const Error& e) {
      mark_malformed(out, e.what());
    }
    pos = end;
  }
}

}  // namespace

ParsedOutput parse_model_output(std::string_view text) {
  ParsedOutput out;
  if (text.find(kOpenTag) != std::string_view::npos) {
    parse_hermes(text, out);
  } else if (find_functional_token(text, 0) != std::string_view::npos) {
    parse_functional_tokens(text, out);
  } else {
    std::string_view body = strip_code_fence(trim(text));
    if (!body.empty() && (body.front() == '{' || body.front() == '[')) add_calls_from_json(out, body, "output", true);
    else append_answer(out.answer, text);
  }
  return out;
}

}  // namespace slmtune::eval
