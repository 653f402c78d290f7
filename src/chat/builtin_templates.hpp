#pragma once
// Chat templates for models that ship none (phi-2, base models), selectable by name with
// --chat-template NAME. Each reproduces its family's published prompt format.
#include <string>
#include <string_view>
#include <vector>

namespace slmtune::chat {

std::vector<std::string> builtin_template_names();  // chatml, llama-2, llama-3, phi-3, zephyr
// The Jinja source of a built-in; throws slmtune::Error listing the names for an unknown one.
const std::string& builtin_template(std::string_view name);

}  // namespace slmtune::chat
