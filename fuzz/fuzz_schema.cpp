// libFuzzer target for function definitions, argument validation and call parsing. The input is a JSON
// list of definitions, a NUL byte, then a JSON list of calls (without the NUL, the input is tried as
// both). Bad input must end in slmtune::Error; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.hpp"
#include "functions/function_call.hpp"
#include "functions/function_schema.hpp"

using namespace slmtune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view defs_text = input.substr(0, nul);
  std::string_view calls_text = nul == std::string_view::npos ? input : input.substr(nul + 1);
  std::vector<functions::FunctionDefinition> defs;
  try {
    Json defs_json = parse_json(defs_text, "defs");
    defs = functions::parse_function_definitions(defs_json, "defs");
    for (const auto& def : defs) functions::validate_value(def.parameters, defs_json, "");
  } catch (const Error&) {
  }
  try {
    auto calls = functions::parse_calls_text(calls_text, "calls");
    functions::check_calls(calls, defs);
    functions::format_calls(calls);
  } catch (const Error&) {
  }
  return 0;
}
