#pragma once
// Chat training data as JSON Lines: one object per line, {"messages": [{role, content, ...}, ...]}
// with an optional "tools" array of tool schemas. Blank lines are skipped; every error names the
// file and line.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "formats/json.hpp"

namespace slmtune::train {

struct ChatExample {
  Json messages;  // array of message objects
  Json tools;     // null or an array
  std::string origin;  // "file:line", for messages about this example
};

std::vector<ChatExample> read_chat_jsonl(const std::filesystem::path& path);
// The same from text; `origin` stands for the file name in errors.
std::vector<ChatExample> parse_chat_jsonl(std::string_view text, const std::string& origin);

}  // namespace slmtune::train
