// What constrained decoding adds to each generated token: the time the call grammar takes to mark the
// tokens it allows (CallGrammarProcessor::process), at the kinds of places a reply passes through,
// on vocabularies of three sizes (the bundled model's 2k, GPT-2's 50k, Llama-3.2's 128k), and the
// one-off cost of reading the vocabulary's token bytes. Compare with the decode step it rides on:
// ~15–60 ms per token for the models slmtune targets on 2 cores (bench/README.md).
//
//   build/grammar_bench [TESTDATA]
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "formats/json.hpp"
#include "functions/function_schema.hpp"
#include "infer/call_grammar.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace slmtune;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string testdata = argc > 1 ? argv[1] : "../shared/testdata";
  const auto functions = functions::parse_function_definitions(read_json_file("examples/maritime/functions.json"),
                                                               "examples/maritime/functions.json");
  const std::vector<std::pair<std::string, std::string>> vocabularies = {
      {"bundled (2k)", "models/maritime-lm"},
      {"GPT-2 (50k)", testdata + "/llama.cpp-vocab/ggml-vocab-gpt-2.gguf"},
      {"Llama-3.2 (128k)", testdata + "/tokenizers/llama3.2-bpe-ollama"},
  };
  // Where a reply can stand, as the text written so far (functional-token format).
  const std::vector<std::pair<std::string, std::string>> places = {
      {"start of the reply", ""},
      {"free text", "Glad you are safe, "},
      {"inside a free string", "<fn_broadcast_emergency_message>{\"location\": \"42.35"},
      {"inside an enum value", "<fn_categorize_emergency>{\"emergency_detail\": \"Man "},
      {"between arguments", "<fn_broadcast_emergency_message>{\"location\": \"x\","},
  };
  fmt::print("{:<18} {:>10} | {}\n", "vocabulary", "bytes (s)", "time to mark the allowed tokens, per generated token");
  for (const auto& [name, path] : vocabularies) {
    tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(path);
    for (const auto& f : functions) tok.add_token("<fn_" + f.name + ">", true);
    auto start = std::chrono::steady_clock::now();
    const auto tokens = std::make_shared<const infer::TokenBytes>(tok);
    const double build = seconds_since(start);
    const auto grammar = std::make_shared<const infer::CallGrammar>(functions);
    for (const auto& [place, text] : places) {
      // A processor that has followed the reply up to `text` (its first call notes the prompt).
      const std::vector<int32_t> history = {0};
      std::vector<int32_t> reply = history;
      for (int32_t id : tok.encode(text, false, true)) reply.push_back(id);
      std::vector<float> logits(tok.vocab_size());
      infer::CallGrammarProcessor processor(grammar, tokens, {});
      processor.process(logits, history);
      processor.process(logits, reply);
      std::vector<uint8_t> allowed(tok.vocab_size());
      int n = 0;
      start = std::chrono::steady_clock::now();
      while (n < 5 || seconds_since(start) < 0.3) {
        processor.allowed_tokens(allowed);
        ++n;
      }
      const double ms = seconds_since(start) / n * 1000.0;
      size_t offered = 0;
      for (uint8_t a : allowed) offered += a;
      fmt::print("{:<18} {:>10.2f} | {:<22} {:>8.3f} ms  ({} tokens allowed)\n", name, build, place, ms, offered);
    }
  }
  return 0;
}
