// Rendering speed of a chat template: Microsoft's Phi-3-mini-4k template (from the shared test data)
// over a 20-message conversation with tool calls and tool definitions, through apply_chat_template
// (the fallback path, since that template has no tool support). The issue's target: under 100 µs.
// Not built by CMake; from the repository root, after building test_chat in build-chat, compile
//   g++ -O2 -std=c++20 -Isrc bench/template_bench.cpp build-chat/libslmtune_chat.a
//       build-chat/libslmtune_formats.a build-chat/libslmtune_core.a -lfmt -o build-chat/template_bench
// and run build-chat/template_bench [path/to/shared/testdata].
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <string>
#include <vector>

#include "chat/chat_template.hpp"
#include "core/atomic_file.hpp"

using namespace slmtune;

namespace {

Json conversation() {
  Json messages = Json::array();
  messages.push_back({{"role", "system"}, {"content", "You are a maritime emergency assistant. Answer briefly."}});
  for (int turn = 0; messages.size() < 20; ++turn) {
    messages.push_back({{"role", "user"}, {"content", "Vessel " + std::to_string(turn) + " reports water ingress near 59.9N 10.7E."}});
    if (turn % 2 == 0) {
      Json call = {{"type", "function"},
                   {"function", {{"name", "send_distress"}, {"arguments", {{"vessel", turn}, {"lat", 59.9}, {"lon", 10.7}}}}}};
      messages.push_back({{"role", "assistant"}, {"content", ""}, {"tool_calls", Json::array({call})}});
      messages.push_back({{"role", "tool"}, {"name", "send_distress"}, {"content", "{\"status\": \"sent\"}"}});
    } else {
      messages.push_back({{"role", "assistant"}, {"content", "Coast guard notified; keep pumps running."}});
    }
  }
  messages.erase(messages.begin() + 20, messages.end());
  return messages;
}

Json tools() {
  return Json::parse(R"([
    {"type": "function", "function": {"name": "send_distress", "description": "Send a distress call",
      "parameters": {"type": "object", "properties": {"vessel": {"type": "integer"}, "lat": {"type": "number"},
      "lon": {"type": "number"}}, "required": ["vessel", "lat", "lon"]}}},
    {"type": "function", "function": {"name": "get_weather", "description": "Marine forecast",
      "parameters": {"type": "object", "properties": {"area": {"type": "string"}}, "required": ["area"]}}}])");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data = argc > 1 ? argv[1] : "../shared/testdata";
  const std::string source = read_file(data + "/chat-templates/hf-tokenizer-configs/microsoft-Phi-3-mini-4k-instruct.jinja");
  const chat::ChatTemplate tmpl(source, chat::SpecialTokens{"<s>", "<|endoftext|>", "<|endoftext|>", "<unk>"}, "phi-3");
  chat::ApplyOptions options;
  options.tools = tools();
  options.add_generation_prompt = true;
  const Json messages = conversation();

  size_t bytes = tmpl.apply(messages, options).text.size();  // warm-up
  // Wall time and this process's CPU time: on a shared, loaded machine the CPU time is the honest one.
  std::vector<double> wall, cpu;
  const int iterations = 2000;
  for (int rep = 0; rep < 5; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    for (int i = 0; i < iterations; ++i) bytes += tmpl.apply(messages, options).text.size();
    const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
    wall.push_back(elapsed.count() / iterations);
    cpu.push_back(1e6 * static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC / iterations);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("phi-3 template, %zu messages with tools (%zu bytes out): %.1f us CPU per render, %.1f us wall "
              "(medians of 5 x %d)\n",
              messages.size(), tmpl.apply(messages, options).text.size(), cpu[2], wall[2], iterations);
  return bytes == 0;
}
