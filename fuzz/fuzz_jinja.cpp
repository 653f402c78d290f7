// libFuzzer target for the Jinja engine: the input is a template source, optionally followed by a NUL
// byte and a JSON object of variables (without one, a small chat conversation is used). Bad syntax,
// failed renders and refused contexts must end in slmtune::Error; a crash, a sanitizer report, a
// hang or unbounded memory is a bug. The sandbox limits are set low so hostile loops end quickly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "chat/jinja/template.hpp"
#include "core/error.hpp"
#include "formats/json.hpp"

using namespace slmtune;

namespace {

const Json& default_context() {
  static const Json context = Json::parse(R"({
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Mayday \"now\" ☃"},
                 {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"a": [1, 2.5, null]}}}]},
                 {"role": "tool", "content": "ok"}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "n": 3, "s": "text"})");
  return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string_view source = input.substr(0, split);
  jinja::RenderOptions options;
  options.limits.max_output_bytes = 1 << 20;
  options.limits.max_string_bytes = 1 << 20;
  options.limits.max_list_items = 100000;
  options.limits.max_loop_iterations = 100000;
  options.limits.max_call_depth = 64;
  options.clock = [] { return std::tm{}; };
  try {
    Json context = default_context();
    if (split != std::string_view::npos) {
      context = parse_json(input.substr(split + 1), "context");
      if (!context.is_object()) return 0;
    }
    const jinja::Template tmpl(source, "fuzz");
    (void)tmpl.render_with_spans(context, options);
  } catch (const slmtune::Error&) {
  }
  return 0;
}
