#pragma once
// The entry point of the Jinja engine: parse a template once, render it many times.
//
//   jinja::Template t(source, "tokenizer_config.json");
//   std::string text = t.render(context_json);
//
// Rendering follows Python's Jinja2 3.1 as Hugging Face transformers configures it for chat
// templates: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True), loop controls,
// {% generation %}, tojson as json.dumps(ensure_ascii=False), raise_exception and strftime_now.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/ast.hpp"
#include "chat/jinja/renderer.hpp"
#include "formats/json.hpp"

namespace slmtune::jinja {

struct RenderResult {
  std::string text;
  std::vector<GenerationSpan> generation;  // output produced inside {% generation %} blocks
};

class Template {
 public:
  // Throws TemplateError (TemplateSyntaxError with line and column) on bad syntax.
  explicit Template(std::string_view source, std::string origin = "<template>");

  // `context` must be a JSON object: its keys become the template's variables.
  std::string render(const Json& context, const RenderOptions& options = {}) const;
  RenderResult render_with_spans(const Json& context, const RenderOptions& options = {}) const;
  // For callers that build values directly (no JSON round trip).
  RenderResult render_values(const Dict& context, const RenderOptions& options = {}) const;

  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  std::shared_ptr<const Body> body_;
};

// A JSON object as template variables (key order kept).
Dict context_from_json(const Json& context);

}  // namespace slmtune::jinja
