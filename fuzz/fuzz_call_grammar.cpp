// libFuzzer target for constrained decoding's grammars (infer/json_schema_grammar.hpp,
// infer/call_grammar.hpp). The input is a JSON schema, a NUL byte, then a model's reply. Whatever the
// schema, two things must hold: a value the schema matcher takes whole is JSON that parses, and a reply
// the call grammar takes whole reads back with json_valid (eval/call_parser.hpp). A break is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.hpp"
#include "eval/call_parser.hpp"
#include "formats/json.hpp"
#include "infer/call_grammar.hpp"
#include "infer/json_schema_grammar.hpp"

using namespace slmtune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return 0;
  Json schema;
  try {
    schema = parse_json(input.substr(0, nul), "schema");
  } catch (const Error&) {
    return 0;
  }
  const std::string_view reply = input.substr(nul + 1);

  const infer::CompiledSchema compiled = infer::CompiledSchema::compile(schema);
  infer::SchemaMatcher matcher(&compiled);
  bool taken = true;
  for (char c : reply) taken = taken && matcher.feed(static_cast<unsigned char>(c));
  if (taken && matcher.complete()) {
    try {
      parse_json(reply, "reply");
    } catch (const Error&) {
      std::abort();  // the matcher took text that is not JSON
    }
  }

  const functions::FunctionDefinition function{"f", "", schema};
  const infer::CallGrammar grammar({function});
  infer::CallGrammarState state(&grammar);
  if (state.feed(reply) && state.can_end() && !eval::parse_model_output(reply).json_valid)
    std::abort();  // the grammar took a reply whose calls do not read back
  return 0;
}
