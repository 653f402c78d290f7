// Constrained decoding of function calls (infer/call_grammar.hpp), judged by what reads the replies:
// eval/call_parser.hpp (does the call parse?) and functions::check_calls (does it fit the schema?).
// Hand-picked replies for each rule; a property over one-byte edits of valid replies; and the logits
// processor driving generation with a noisy fake model over the bundled model's real tokenizer, where
// the same model without the grammar writes malformed calls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "eval/call_parser.hpp"
#include "functions/function_call.hpp"
#include "functions/function_schema.hpp"
#include "infer/call_grammar.hpp"
#include "infer/generate.hpp"
#include "infer/language_model.hpp"
#include "support/test_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::eval {
namespace {

using infer::CallGrammar;
using infer::CallGrammarState;

std::vector<functions::FunctionDefinition> maritime_functions() {
  return functions::parse_function_definitions(read_json_file(testing::source_dir() / "examples/maritime/functions.json"),
                                               "functions.json");
}

// Whether the grammar takes the whole reply and lets it end there.
bool accepts(const CallGrammar& grammar, const std::string& reply) {
  CallGrammarState state(&grammar);
  return state.feed(reply) && state.can_end();
}

// What the reader of replies says: the calls parse and fit the functions.
bool readable(const std::string& reply, const std::vector<functions::FunctionDefinition>& defs) {
  const ParsedOutput parsed = parse_model_output(reply);
  return parsed.json_valid && functions::check_calls(parsed.calls, defs).empty();
}

const std::string kCategorize = R"({"emergency_detail": "Fire"})";
const std::string kBroadcast =
    R"({"location": "42.3541N, 71.0654W", "emergency_detail": "Fire", "emergency_type": "Mayday"})";

auto block(const std::string& name, const std::string& arguments) {
  return "<tool_call>\n{\"name\": \"" + name + "\", \"arguments\": " + arguments + "}\n</tool_call>";
}

TEST(CallGrammar, FunctionalTokensTakeCallsAndFreeTextRefuseWhatTheParserWouldMisread) {
  const auto defs = maritime_functions();
  const CallGrammar grammar(defs);
  const std::vector<std::string> good = {
      "<fn_categorize_emergency>" + kCategorize + "\n<fn_broadcast_emergency_message>" + kBroadcast,
      "Sending the alert now.\n<fn_broadcast_emergency_message> " + kBroadcast + "\nStay calm.",
      "Glad everyone is safe. No alert has been sent.",
      "a < b and c <f d <fn",  // angle brackets that open no call
      "",
  };
  for (const auto& reply : good) {
    EXPECT_TRUE(accepts(grammar, reply)) << reply;
    EXPECT_TRUE(readable(reply, defs)) << reply;
  }
  const std::vector<std::string> bad = {
      "<fn_send_flare>{}",                                                       // no such function
      "<fn_categorize_emergency>{\"emergency_detail\": \"Smoke\"}",             // outside the enum
      "<fn_categorize_emergency>{\"emergency_detail\", \"Fire\"}",              // the comma for a colon
      "<fn_categorize_emergency>",                                              // cut before the arguments
      "<fn_categorize_emergency>{\"emergency_detail\": \"Fire\"",               // cut inside them
      // after a <fn_NAME> call, a tool-call block (the parser would read only the blocks)
      "<fn_categorize_emergency>" + kCategorize + "\n" + block("categorize_emergency", kCategorize),
      "  " + kCategorize,                                                       // bare arguments, no call
      "```json\n" + kCategorize + "\n```",
      "[" + kCategorize + "]",
      // a tag inside a string: the parser would read the reply as tool-call blocks
      "<fn_broadcast_emergency_message>{\"location\": \"<tool_call>\", \"emergency_detail\": \"Fire\", \"emergency_type\": \"Mayday\"}",
  };
  for (const auto& reply : bad) EXPECT_FALSE(accepts(grammar, reply)) << reply;
  // Inside a call the reply cannot end; after it, it can.
  CallGrammarState state(&grammar);
  ASSERT_TRUE(state.feed("<fn_categorize_emergency>{\"emergency_detail\": \"Fi"));
  EXPECT_TRUE(state.in_call());
  EXPECT_FALSE(state.can_end());
  ASSERT_TRUE(state.feed("re\"}"));
  EXPECT_TRUE(state.can_end());
}

TEST(CallGrammar, ToolCallTagsHoldTheArgumentsToTheNamedFunction) {
  const auto defs = maritime_functions();
  const CallGrammar grammar(defs);
  const std::vector<std::string> good = {
      block("categorize_emergency", kCategorize) + "\n" + block("broadcast_emergency_message", kBroadcast),
      "Calling for help.\n" + block("broadcast_emergency_message", kBroadcast),
      "{\"name\": \"categorize_emergency\", \"arguments\": " + kCategorize + "}\n",  // bare, as Llama 3.2 writes
      "All fine, no call needed.",
  };
  for (const auto& reply : good) {
    EXPECT_TRUE(accepts(grammar, reply)) << reply;
    EXPECT_TRUE(readable(reply, defs)) << reply;
  }
  const std::vector<std::string> bad = {
      block("categorize_emergency", kBroadcast),     // another function's arguments
      block("send_flare", "{}"),
      "<tool_call>\n{\"arguments\": " + kCategorize + ", \"name\": \"categorize_emergency\"}\n</tool_call>",
      "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": " + kCategorize + "}",  // never closed
      "{\"name\": \"categorize_emergency\", \"arguments\": " + kCategorize + "} and more",
      block("categorize_emergency", kCategorize) + "<fn_categorize_emergency>" + kCategorize,  // the other shape
      "[{\"name\": \"categorize_emergency\", \"arguments\": " + kCategorize + "}]",
      block("broadcast_emergency_message",
            "{\"location\": \"a </tool_call> b\", \"emergency_detail\": \"Fire\", \"emergency_type\": \"Mayday\"}"),
  };
  for (const auto& reply : bad) EXPECT_FALSE(accepts(grammar, reply)) << reply;
}

// The property: a one-byte edit of a valid reply that the grammar takes whole reads back as valid calls.
TEST(CallGrammar, EveryReplyItAcceptsParsesAndFitsTheFunctions) {
  const auto defs = maritime_functions();
  const std::vector<std::string> seeds = {
      "ok <fn_categorize_emergency>" + kCategorize + "\n<fn_broadcast_emergency_message>" + kBroadcast,
      "<tool_call>\n{\"name\": \"broadcast_emergency_message\", \"arguments\": " + kBroadcast + "}\n</tool_call>",
      "{\"name\": \"categorize_emergency\", \"arguments\": " + kCategorize + "}",
  };
  const std::string alphabet = "{}[]\":,<>/_ abcfn\n`\\";
  Rng rng(11);
  int accepted = 0, edits = 0;
  const CallGrammar grammar(defs);
  for (const auto& seed : seeds) {
    ASSERT_TRUE(accepts(grammar, seed)) << seed;
    for (int trial = 0; trial < 4000; ++trial) {
      const std::string reply = testing::one_byte_edit(seed, rng, alphabet);
      ++edits;
      if (!accepts(grammar, reply)) continue;
      ++accepted;
      EXPECT_TRUE(readable(reply, defs)) << "accepted but unreadable: " << reply;
    }
  }
  EXPECT_GT(accepted, edits / 20);
  EXPECT_LT(accepted, edits / 2);
}

TEST(CallGrammar, ArgumentsAreAnObjectWhateverTheParametersSchemaAllows) {
  // Parameters that allow any value, or none that is an object: the parser reads only an object.
  for (const char* parameters : {"{}", "true", "{\"type\": [\"string\", \"object\"]}", "{\"type\": \"string\"}"}) {
    const std::vector<functions::FunctionDefinition> defs = {{"f", "", parse_json(parameters, "parameters")}};
    const CallGrammar grammar(defs);
    for (bool functional : {true, false}) {
      const std::string open = functional ? "<fn_f>" : "<tool_call>{\"name\": \"f\", \"arguments\": ";
      const std::string close = functional ? "" : "}</tool_call>";
      EXPECT_FALSE(accepts(grammar, open + "null" + close)) << parameters;
      EXPECT_FALSE(accepts(grammar, open + "\"x\"" + close)) << parameters;
      EXPECT_TRUE(accepts(grammar, open + "{}" + close)) << parameters;
      // Parses (json_valid); fits the schema unless the schema allows no object at all.
      EXPECT_TRUE(parse_model_output(open + "{}" + close).json_valid) << parameters;
      if (std::string(parameters) != "{\"type\": \"string\"}") {
        EXPECT_TRUE(readable(open + "{}" + close, defs)) << parameters;
      }
    }
  }
}

TEST(CallGrammar, NeedsFunctions) {
  try {
    CallGrammar grammar({});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no function definitions"), std::string::npos) << e.what();
  }
}

// A model that knows nothing: Gaussian logits, nudged to open a call with its first token, and
// towards quotes, braces and EOS so that it finishes. Seeded per generation.
class NoisyModel final : public infer::LanguageModel {
 public:
  NoisyModel(const tokenizer::Tokenizer& tokenizer, uint64_t seed, int32_t eos)
      : rng_(seed), bias_(tokenizer.vocab_size()), opening_(tokenizer.vocab_size()) {
    for (size_t id = 0; id < bias_.size(); ++id) {
      const std::string piece = tokenizer.decode(std::vector<int32_t>{static_cast<int32_t>(id)});
      if (piece.starts_with("<fn_")) opening_[id] = 8.0f;
      else if (piece.find_first_of("\"}") != std::string::npos) bias_[id] = 4.0f;
    }
    bias_[static_cast<size_t>(eos)] = 6.0f;
  }
  int64_t vocab_size() const override { return static_cast<int64_t>(bias_.size()); }
  int64_t context_length() const override { return 0; }
  void reset(int64_t) override { first_ = true; }
  std::vector<float> next_logits(std::span<const int32_t>) override {
    std::vector<float> logits(bias_.size());
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = rng_.normal() + (first_ ? opening_[i] : bias_[i]);
    first_ = false;
    return logits;
  }

 private:
  Rng rng_;
  std::vector<float> bias_, opening_;
  bool first_ = true;
};

TEST(CallGrammarProcessor, HoldsANoisyModelToValidCallsOverTheBundledTokenizer) {
  const auto defs = maritime_functions();
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(testing::source_dir() / "models/maritime-lm");
  for (const auto& f : defs) tok.add_token("<fn_" + f.name + ">", /*special=*/true);
  const auto eos = tok.token_to_id("<|im_end|>");
  ASSERT_TRUE(eos.has_value());
  const auto tokens = std::make_shared<const infer::TokenBytes>(tok);
  const auto grammar = std::make_shared<const CallGrammar>(defs);
  const auto decode = [&](std::span<const int32_t> ids) { return tok.decode(ids, /*skip_special=*/false); };
  const std::vector<int32_t> prompt = tok.encode("<|im_start|>assistant\n", false, true);

  int constrained_calls = 0, constrained_ended = 0, unconstrained_malformed = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    for (bool constrained : {true, false}) {
      NoisyModel model(tok, seed, *eos);
      infer::Sampler sampler(infer::SamplingConfig{.temperature = 1.0f, .seed = seed});
      if (constrained) sampler.add_processor(std::make_shared<infer::CallGrammarProcessor>(grammar, tokens, std::vector<int32_t>{*eos}));
      infer::GenerationOptions options;
      options.max_new_tokens = 120;
      options.eos_ids = {*eos};
      const infer::GenerationResult result = infer::generate(model, sampler, decode, prompt, options);
      const ParsedOutput parsed = parse_model_output(result.text);
      if (!constrained) {
        unconstrained_malformed += !readable(result.text, defs);
        continue;
      }
      // Every token the grammar let through is still in its language.
      CallGrammarState replay(grammar.get());
      EXPECT_TRUE(replay.feed(result.text)) << result.text;
      if (result.reason != infer::StopReason::eos) continue;  // cut at the token limit
      ++constrained_ended;
      constrained_calls += static_cast<int>(parsed.calls.size());
      EXPECT_TRUE(readable(result.text, defs)) << result.text;
    }
  }
  EXPECT_GT(constrained_ended, 12);
  EXPECT_GT(constrained_calls, 5);
  EXPECT_GT(unconstrained_malformed, 5);  // what the grammar prevents does happen without it
}

// A stop string that is not an EOS id (Phi-3's <|end|>, or <|im_end|> here) ends a reply all the same:
// passed as an end id, the token that spells it is kept out of a call and allowed after one.
TEST(CallGrammarProcessor, KeepsTokensThatSpellAStopStringOutOfACall) {
  const auto defs = maritime_functions();
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(testing::source_dir() / "models/maritime-lm");
  const auto tokens = std::make_shared<const infer::TokenBytes>(tok);
  const auto end = tok.token_to_id("<|im_end|>");
  ASSERT_TRUE(end.has_value());
  const std::vector<int32_t> stops = tokens->containing({"<|im_end|>"});
  EXPECT_NE(std::find(stops.begin(), stops.end(), *end), stops.end());
  const auto grammar = std::make_shared<const CallGrammar>(defs);
  for (const auto& [reply, allowed] : std::vector<std::pair<std::string, bool>>{
           // inside a free string, where the grammar alone would take "<|im_end|>" as text
           {"<tool_call>\n{\"name\": \"broadcast_emergency_message\", \"arguments\": {\"location\": \"4", false},
           {"<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": " + kCategorize + "}\n</tool_call>", true}}) {
    infer::CallGrammarProcessor processor(grammar, tokens, stops);
    std::vector<int32_t> history = {0};
    std::vector<float> logits(tok.vocab_size(), 0.0f);
    processor.process(logits, history);
    for (int32_t id : tok.encode(reply, false, true)) history.push_back(id);
    processor.process(logits, history);
    EXPECT_EQ(std::isinf(logits[static_cast<size_t>(*end)]), !allowed) << reply;
  }
}

// A schema no value satisfies (a required argument that may not be given) leaves no token to choose:
// one line that says so, not a sampler left with nothing.
TEST(CallGrammarProcessor, FailsInOneLineWhenNoTokenCanContinueTheCall) {
  const std::vector<functions::FunctionDefinition> defs = {
      {"f", "", parse_json(R"({"type": "object", "required": ["a"]})", "parameters")}};
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(testing::source_dir() / "models/maritime-lm");
  infer::CallGrammarProcessor processor(std::make_shared<const CallGrammar>(defs),
                                        std::make_shared<const infer::TokenBytes>(tok), {});
  std::vector<int32_t> history = {0};
  std::vector<float> logits(tok.vocab_size(), 0.0f);
  processor.process(logits, history);
  // After the key, only whitespace is left to write, up to its bound.
  for (int32_t id : tok.encode("<fn_f>{\"a\":" + std::string(infer::kMaxWhitespaceRun, ' '), false, true))
    history.push_back(id);
  try {
    processor.process(logits, history);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("no token of the vocabulary can continue the call"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace slmtune::eval
