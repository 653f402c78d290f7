#pragma once
#include <atomic>
#include <memory>
// Applying a model's chat template to a conversation, as transformers' apply_chat_template does:
// the template sees `messages`, `tools`, `documents`, `add_generation_prompt`, the tokenizer's
// special tokens (`bos_token`, `eos_token`, `pad_token`, `unk_token`) and any extra variables.
//
// Two things go beyond a plain render:
//  * a template that writes {{ bos_token }} for a tokenizer that also adds BOS itself would give a
//    doubled BOS; we drop the template's one (and say so in the log);
//  * a template that knows nothing of tools gets slmtune's documented fallback: the tool schemas go
//    into the system message as JSON, tool calls and results become tagged text
//    (docs/chat-templates.md).
#include <optional>
#include <string>
#include <vector>

#include "chat/jinja/template.hpp"
#include "formats/json.hpp"

namespace slmtune::chat {

struct SpecialTokens {
  std::optional<std::string> bos, eos, pad, unk;
};

struct ApplyOptions {
  bool add_generation_prompt = false;
  Json tools;      // null, or an array of tool schemas
  Json documents;  // null, or an array
  Json extra = Json::object();  // further variables (enable_thinking, ...), passed as given
  // The tokenizer prepends BOS when encoding (add_bos_token): a leading BOS in the text is doubled.
  bool tokenizer_adds_bos = false;
  jinja::RenderOptions render;
};

struct Rendered {
  std::string text;
  std::vector<jinja::GenerationSpan> generation;  // spans of {% generation %} output in `text`
  bool dropped_leading_bos = false;
  bool used_tool_fallback = false;
};

class ChatTemplate {
 public:
  ChatTemplate(std::string source, SpecialTokens tokens, std::string origin = "chat_template");

  // `messages` is a JSON array of {role, content, ...}.
  Rendered apply(const Json& messages, const ApplyOptions& options = {}) const;

  // Whether the template reads the `tools` variable itself.
  bool supports_tools() const { return supports_tools_; }
  const std::string& source() const { return source_; }
  const SpecialTokens& special_tokens() const { return tokens_; }

 private:
  Rendered render(const Json& messages, const ApplyOptions& options, bool pass_tools) const;

  std::string source_;
  SpecialTokens tokens_;
  jinja::Template template_;
  bool supports_tools_;
  // Training renders every example several times: say once per template that its BOS is dropped.
  std::shared_ptr<std::atomic<bool>> bos_note_logged_ = std::make_shared<std::atomic<bool>>(false);
};

// slmtune's fallback for templates without tool support (docs/chat-templates.md): returns the
// messages with the tool schemas in the system message (or, with `into_first_user`, at the start of
// the first user message) and tool calls / tool results as tagged text.
Json messages_with_tool_fallback(const Json& messages, const Json& tools, bool into_first_user);

}  // namespace slmtune::chat
