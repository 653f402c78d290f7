#pragma once
// One training/evaluation example, whatever file format it came from: the conversation, the tools the
// model may call, the calls expected on each assistant turn, and the variables (extra CSV columns such
// as `gps`) that fill the system-message template.
#include <map>
#include <string>
#include <vector>

#include "functions/function_call.hpp"
#include "functions/function_schema.hpp"

namespace slmtune::data {

struct Message {
  std::string role;     // system, user, assistant, tool
  std::string content;  // may be empty for an assistant turn that only calls functions
  std::vector<functions::FunctionCall> calls;  // assistant turns: the expected calls (empty: plain answer)
  std::string tool_call_id;  // tool turns: the call they answer, when the dataset gives one
};

struct Example {
  std::string source;  // file name, for messages
  size_t line = 0;     // where the example starts in its file
  std::vector<Message> messages;
  std::vector<functions::FunctionDefinition> tools;
  std::map<std::string, std::string> variables;

  // The calls expected on each assistant turn, in order (an empty list for a plain-text turn).
  std::vector<std::vector<functions::FunctionCall>> expected_calls() const;
  // The set of functions called anywhere in the example, sorted, joined with "+"; "(no call)" when
  // none. Splits are stratified by it.
  std::string called_function_set() const;
};

}  // namespace slmtune::data
