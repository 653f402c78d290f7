#pragma once
// The two prompt formats of issue 7: how an Example becomes the input of a chat template.
//
//  * definitions_in_prompt: the function definitions go to the template's `tools` (the template, or
//    slmtune's documented fallback, renders them) and expected calls become OpenAI-style `tool_calls`.
//    The model sees the schemas on every request, so it can call functions it was not trained on.
//  * functional_tokens (the "Octopus" approach): no definitions in the prompt; each function gets one
//    special token `<fn_NAME>` and a call is that token followed by the JSON arguments. Shorter
//    prompts, but only the functions whose tokens were trained can be called.
#include <string>
#include <vector>

#include "data/example.hpp"
#include "formats/json.hpp"

namespace slmtune::data {

enum class PromptFormat { definitions_in_prompt, functional_tokens };

// "definitions_in_prompt" or "functional_tokens"; anything else is a one-line error.
PromptFormat parse_prompt_format(const std::string& name);
const char* prompt_format_name(PromptFormat format);

// What ChatTemplate::apply takes: `messages` an array of {role, content, ...}; `tools` an array of
// {"type": "function", "function": {...}}, or null when the prompt carries no definitions.
struct ChatMessages {
  Json messages;
  Json tools;
};

// The whole conversation of `example` (system message included, as the loader filled it), every
// assistant turn with its expected calls written in `format`.
ChatMessages to_chat_messages(const Example& example, PromptFormat format);

// "<fn_categorize_emergency>": the special token that stands for one function.
std::string functional_token(const std::string& function_name);
// One token per function, in definition order.
std::vector<std::string> functional_token_names(const std::vector<functions::FunctionDefinition>& functions);
// The tokens of every function defined in any of `examples`, each once, in order of first appearance.
std::vector<std::string> functional_token_names(const std::vector<Example>& examples);

// An assistant turn in the functional-token format: its text (if any), a newline, then one line per
// call: `<fn_NAME>` immediately followed by the arguments as json.dumps prints them.
std::string functional_tokens_text(const std::string& content, const std::vector<functions::FunctionCall>& calls);

}  // namespace slmtune::data
