#include "chat/builtin_templates.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "core/error.hpp"

namespace slmtune::chat {
namespace {

// ChatML (<|im_start|>role\n...<|im_end|>), as Qwen and SmolLM2 use it.
const char* const kChatml =
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' ~ message['role'] ~ '\\n' ~ message['content'] ~ '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

// Phi-3: <|role|>\n...<|end|>\n per turn; the EOS token closes a conversation with no prompt.
const char* const kPhi3 =
    "{%- for message in messages -%}\n"
    "{%- if message['role'] in ['system', 'user', 'assistant'] -%}\n"
    "{{- '<|' ~ message['role'] ~ '|>\\n' ~ message['content'] ~ '<|end|>\\n' -}}\n"
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- else -%}{{- eos_token -}}{%- endif -%}\n";

// Llama 2 chat: [INST] turns, the system prompt folded into the first one inside <<SYS>>.
const char* const kLlama2 =
    "{%- if messages and messages[0]['role'] == 'system' -%}\n"
    "{%- set system_message = messages[0]['content'] -%}{%- set turns = messages[1:] -%}\n"
    "{%- else -%}{%- set system_message = none -%}{%- set turns = messages -%}{%- endif -%}\n"
    "{%- for message in turns -%}\n"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}\n"
    "{%- endif -%}\n"
    "{%- set content = message['content'] -%}\n"
    "{%- if loop.first and system_message is not none -%}\n"
    "{%- set content = '<<SYS>>\\n' ~ system_message ~ '\\n<</SYS>>\\n\\n' ~ content -%}\n"
    "{%- endif -%}\n"
    "{%- if message['role'] == 'user' -%}{{- bos_token ~ '[INST] ' ~ content | trim ~ ' [/INST]' -}}\n"
    "{%- else -%}{{- ' ' ~ content | trim ~ ' ' ~ eos_token -}}{%- endif -%}\n"
    "{%- endfor -%}\n";

// Llama 3 instruct: header-delimited turns ending in <|eot_id|>, BOS once at the start.
const char* const kLlama3 =
    "{{- bos_token -}}\n"
    "{%- for message in messages -%}\n"
    "{{- '<|start_header_id|>' ~ message['role'] ~ '<|end_header_id|>\\n\\n' ~ message['content'] | trim ~ '<|eot_id|>' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}\n";

// Zephyr: <|role|>\n...EOS per turn.
const char* const kZephyr =
    "{%- for message in messages -%}\n"
    "{{- '<|' ~ message['role'] ~ '|>\\n' ~ message['content'] ~ eos_token ~ '\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}\n";

const std::map<std::string, std::string, std::less<>>& table() {
  static const std::map<std::string, std::string, std::less<>> t = {
      {"chatml", kChatml}, {"llama-2", kLlama2}, {"llama-3", kLlama3}, {"phi-3", kPhi3}, {"zephyr", kZephyr}};
  return t;
}

}  // namespace

std::vector<std::string> builtin_template_names() {
  std::vector<std::string> names;
  for (const auto& [name, source] : table()) names.push_back(name);
  return names;
}

const std::string& builtin_template(std::string_view name) {
  const auto it = table().find(name);
  if (it == table().end())
    fail("unknown built-in chat template '{}'; expected one of: {}", name, fmt::join(builtin_template_names(), ", "));
  return it->second;
}

}  // namespace slmtune::chat
