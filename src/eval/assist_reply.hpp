#pragma once
// What `slmtune assist` prints for a model's reply: each call as one JSON line, then the radio message
// of every broadcast_emergency_message call (eval/radio_message.hpp); a reply without calls is printed
// as the answer. Kept out of the command so the whole reply → output path is tested without a model.
#include <string>
#include <vector>

#include "functions/function_schema.hpp"

namespace slmtune::eval {

struct AssistOutput {
  std::string text;                   // for stdout
  std::vector<std::string> warnings;  // for stderr
};

// Fails with one line (and no output) when the reply holds a malformed call or calls that do not fit
// `functions` (undefined function, argument outside its schema). A broadcast whose location differs
// from `gps` is spoken as the call gives it, with a warning.
AssistOutput assist_output(const std::string& reply, const std::vector<functions::FunctionDefinition>& functions,
                           const std::string& gps, const std::string& vessel);

}  // namespace slmtune::eval
