// libFuzzer target for reading calls out of generated text (eval/call_parser.hpp), scoring them
// against the maritime functions (eval/call_matching.hpp) and turning them into assist's output
// (eval/assist_reply.hpp): any text a model may write. The parser
// reports malformed calls in its result, so nothing here should throw; a slmtune::Error is tolerated
// as the documented failure mode, anything else (or a crash, or an invariant below failing) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.hpp"
#include "eval/assist_reply.hpp"
#include "eval/call_matching.hpp"
#include "eval/call_parser.hpp"
#include "eval/radio_message.hpp"

using namespace slmtune;

namespace {

const std::vector<functions::FunctionDefinition>& maritime_functions() {
  static const auto functions = functions::parse_function_definitions(Json::parse(R"([
    {"name": "categorize_emergency", "parameters": {"type": "object", "properties": {
      "emergency_detail": {"type": "string", "enum": ["Fire", "Flooding", "Man Overboard", "Medical Emergency",
                                                      "Engine Failure", "Lost Navigation", "Adrift"]}},
      "required": ["emergency_detail"]}},
    {"name": "broadcast_emergency_message", "parameters": {"type": "object", "properties": {
      "location": {"type": "string"},
      "emergency_detail": {"type": "string", "enum": ["Fire", "Flooding", "Man Overboard", "Medical Emergency",
                                                      "Engine Failure", "Lost Navigation", "Adrift"]},
      "emergency_type": {"type": "string", "enum": ["Mayday", "PAN-PAN", "Securité"]}},
      "required": ["location", "emergency_detail", "emergency_type"]}}])"), "maritime");
  return functions;
}

const std::vector<functions::FunctionCall>& expected_calls() {
  static const std::vector<functions::FunctionCall> calls = {
      {"categorize_emergency", Json::parse(R"({"emergency_detail": "Flooding"})")},
      {"broadcast_emergency_message",
       Json::parse(R"({"location": "1N, 2W", "emergency_detail": "Flooding", "emergency_type": "Mayday"})")}};
  return calls;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    eval::ParsedOutput out = eval::parse_model_output(text);
    if (!out.json_valid && !out.attempted_call) std::abort();  // a malformed call is a call attempt
    if (out.json_valid != out.error.empty()) std::abort();
    for (const auto& call : out.calls)
      if (call.name.empty() || !call.arguments.is_object()) std::abort();
    eval::TurnScore with_calls = eval::score_turn(expected_calls(), out, maritime_functions(), "emergency_type");
    eval::TurnScore without = eval::score_turn({}, out, maritime_functions(), "emergency_type");
    if (with_calls.arguments.size() != 4) std::abort();
    if (without.exact_match == out.attempted_call) std::abort();
    for (const auto& call : out.calls)
      if (call.name == eval::kBroadcastFunction) eval::format_radio_message(call, "Fuzz");
  } catch (const Error&) {
  }
  try {
    eval::assist_output(std::string(text), maritime_functions(), "1N, 2W", "Fuzz");
  } catch (const Error&) {
  }
  return 0;
}
