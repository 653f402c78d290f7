#pragma once
// Reading function calls back out of a model's generated text. Three shapes are understood:
//   * Hermes / Qwen2.5: `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks (the body may
//     also be a list of calls; a block cut off before its closing tag is read to the end of the text);
//   * a bare JSON object or array of {"name", "arguments"} (optionally inside a ``` fence);
//   * functional tokens (the "Octopus" format of data/chat_format.hpp): `<fn_NAME>` then a JSON object.
// Text with none of these is a plain answer. Text that is shaped like a call but does not parse (bad
// JSON, a call without a name, arguments that are not an object) is a malformed call: json_valid false.
#include <string>
#include <string_view>
#include <vector>

#include "functions/function_call.hpp"

namespace slmtune::eval {

struct ParsedOutput {
  std::vector<functions::FunctionCall> calls;  // the calls that parsed, in order
  std::string answer;                          // the text outside any call, trimmed
  bool attempted_call = false;  // something call-shaped was found (parsed or not)
  bool json_valid = true;       // every call-shaped part parsed
  std::string error;            // the first problem, when !json_valid
};

ParsedOutput parse_model_output(std::string_view text);

}  // namespace slmtune::eval
