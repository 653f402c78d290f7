// Constrained decoding at the level of tokens, on real vocabularies from ../shared/testdata (Llama 2's
// SentencePiece with byte fallback, GPT-2's byte-level BPE): the bytes TokenBytes gives each token add
// up to the tokenizer's own decoding, and the processor's trie walk offers exactly the tokens that a
// token-by-token check of the grammar accepts.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "formats/json.hpp"
#include "functions/function_schema.hpp"
#include "infer/call_grammar.hpp"
#include "support/test_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::infer {
namespace {

std::vector<std::filesystem::path> vocabularies() {
  return {testing::testdata("tokenizers/llama-2"), testing::testdata("llama.cpp-vocab/ggml-vocab-gpt-2.gguf")};
}

std::vector<functions::FunctionDefinition> maritime_functions() {
  return functions::parse_function_definitions(read_json_file(testing::source_dir() / "examples/maritime/functions.json"),
                                               "functions.json");
}

TEST(TokenBytes, PiecesAddUpToTheDecodedText) {
  const std::string text =
      "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Man Overboard\"}}\n"
      "</tool_call> and  some text, with \"quotes\" and a\ttab";
  for (const auto& path : vocabularies()) {
    const auto tok = tokenizer::Tokenizer::load(path);
    const TokenBytes tokens(tok);
    const std::vector<int32_t> ids = tok.encode(text);
    std::string joined;
    for (int32_t id : ids) joined += tokens.piece(id);
    // SentencePiece drops the space it puts before a text's first word; that is all that differs.
    const std::string decoded = tok.decode(ids);
    EXPECT_TRUE(joined == decoded || joined == " " + decoded) << path << "\n" << joined << "\n" << decoded;
  }
}

// The processor's mask against brute force: feed every token's bytes to a copy of the state.
TEST(CallGrammarProcessor, TrieWalkOffersExactlyTheTokensTheGrammarTakes) {
  const auto defs = maritime_functions();
  const std::vector<std::string> prefixes = {
      "",
      "<tool_call>\n{\"name\": \"",
      "<tool_call>\n{\"name\": \"broadcast_emergency_message\", \"arguments\": {\"emergency_type\": \"P",
      "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Fire\"}}",
      "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Fire\"}}\n</tool_call>\n",
      "Text <f",
      "<fn_broadcast_emergency_message>{\"location\": \"42.1N",
      "<fn_categorize_emergency>{\"emergency_detail\": \"Lost Navigation\"}",
      "<fn_categorize_emergency>{\"emergency_detail\": \"Lost Navigation\"}\n<",
  };
  for (const auto& path : vocabularies()) {
    auto tok = tokenizer::Tokenizer::load(path);
    for (const auto& f : defs) tok.add_token("<fn_" + f.name + ">", true);
    const auto tokens = std::make_shared<const TokenBytes>(tok);
    const int32_t eos = 2;
    for (const auto& prefix : prefixes) {
      const auto grammar = std::make_shared<const CallGrammar>(defs);
      CallGrammarProcessor processor(grammar, tokens, {eos});
      // Feed the prefix as the history of one generation: first the prompt, then the prefix's tokens.
      std::vector<int32_t> history = {1};
      std::vector<float> logits(tok.vocab_size(), 0.0f);
      processor.process(logits, history);
      for (int32_t id : tok.encode(prefix, false, true)) history.push_back(id);
      std::fill(logits.begin(), logits.end(), 0.0f);
      processor.process(logits, history);

      CallGrammarState state(grammar.get());
      ASSERT_TRUE(state.feed(tok.decode(std::span<const int32_t>(history).subspan(1)))) << prefix;
      size_t offered = 0;
      for (size_t id = 0; id < logits.size(); ++id) {
        bool expected = false;
        if (static_cast<int32_t>(id) == eos) {
          expected = state.can_end();
        } else if (tokens->piece(static_cast<int32_t>(id)).empty()) {
          expected = state.can_end();
        } else {
          CallGrammarState next = state;
          expected = next.feed(tokens->piece(static_cast<int32_t>(id)));
        }
        ASSERT_EQ(!std::isinf(logits[id]), expected)
            << path << " after \"" << prefix << "\": token " << id << " \"" << tokens->piece(static_cast<int32_t>(id)) << "\"";
        offered += expected;
      }
      EXPECT_GT(offered, 0u) << prefix;
    }
  }
}

}  // namespace
}  // namespace slmtune::infer
