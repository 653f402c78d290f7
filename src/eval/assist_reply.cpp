#include "eval/assist_reply.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "eval/call_parser.hpp"
#include "eval/radio_message.hpp"

namespace slmtune::eval {
namespace {

// The reply quoted on one line, shortened, for an error message.
std::string quoted(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return "\"" + text + "\"";
}

}  // namespace

AssistOutput assist_output(const std::string& reply, const std::vector<functions::FunctionDefinition>& functions,
                           const std::string& gps, const std::string& vessel) {
  AssistOutput out;
  const ParsedOutput parsed = parse_model_output(reply);
  if (!parsed.json_valid) fail("the model's reply is a malformed call ({}): {}", parsed.error, quoted(reply));
  if (parsed.calls.empty()) {
    if (parsed.answer.empty()) out.warnings.push_back("the model gave an empty reply");
    else out.text = parsed.answer + "\n";
    return out;
  }
  const std::vector<std::string> problems = functions::check_calls(parsed.calls, functions);
  if (!problems.empty())
    fail("the model's calls do not fit the functions: {} ({})", problems.front(), functions::format_calls(parsed.calls));

  for (const auto& call : parsed.calls)
    out.text += python_json_dumps(Json{{"name", call.name}, {"arguments", call.arguments}}) + "\n";
  bool broadcast = false;
  for (const auto& call : parsed.calls) {
    if (call.name != kBroadcastFunction) continue;
    broadcast = true;
    const std::string location = call.arguments.value("location", "");
    if (location != gps)
      out.warnings.push_back(fmt::format("the model's location \"{}\" is not the GPS position \"{}\": check before you transmit",
                                         location, gps));
    out.text += '\n';
    out.text += format_radio_message(call, vessel);
  }
  if (!broadcast) out.warnings.push_back(fmt::format("the model made no {} call: no radio message", kBroadcastFunction));
  return out;
}

}  // namespace slmtune::eval
