// The generation loop driven by scripted fake models: what is fed to the model (prompt once, then one
// token at a time), each stop condition, stop strings cut from the output and never streamed, UTF-8
// characters split across tokens (with the Llama-2 vocabulary's byte-fallback tokens), bad prompts.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "infer/generate.hpp"
#include "support/test_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::infer {
namespace {

// Emits `script` in order (as one-hot logits), records every call's tokens.
class ScriptedModel final : public LanguageModel {
 public:
  ScriptedModel(int64_t vocab, std::vector<int32_t> script, int64_t context = 0)
      : vocab_(vocab), script_(std::move(script)), context_(context) {}
  int64_t vocab_size() const override { return vocab_; }
  int64_t context_length() const override { return context_; }
  void reset(int64_t max_length) override {
    ++resets;
    reserved = max_length;
    step_ = 0;
    fed.clear();
  }
  std::vector<float> next_logits(std::span<const int32_t> new_tokens) override {
    fed.emplace_back(new_tokens.begin(), new_tokens.end());
    std::vector<float> logits(static_cast<size_t>(vocab_) + extra_logits, 0.0f);
    logits[script_.at(step_++)] = 10.0f;
    return logits;
  }
  std::vector<std::vector<int32_t>> fed;
  int resets = 0;
  int64_t reserved = 0;
  size_t extra_logits = 0;

 private:
  int64_t vocab_;
  std::vector<int32_t> script_;
  int64_t context_;
  size_t step_ = 0;
};

Sampler greedy() {
  SamplingConfig config;
  config.temperature = 0.0f;
  return Sampler(config);
}

// A decoder over a table of byte strings that renders an incomplete UTF-8 sequence as U+FFFD, as the
// Hugging Face byte-fallback decoders do.
TokenDecoder table_decoder(std::map<int32_t, std::string> pieces) {
  return [pieces = std::move(pieces)](std::span<const int32_t> ids) {
    std::string bytes;
    for (int32_t id : ids) bytes += pieces.at(id);
    std::string out;
    for (size_t i = 0; i < bytes.size();) {
      const auto lead = static_cast<unsigned char>(bytes[i]);
      const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      if (i + length > bytes.size()) {
        out += "\xEF\xBF\xBD";
        break;
      }
      out.append(bytes, i, length);
      i += length;
    }
    return out;
  };
}

struct Stream {
  std::vector<std::string> pieces;
  std::string joined() const {
    std::string out;
    for (const auto& p : pieces) out += p;
    return out;
  }
  TextCallback callback() {
    return [this](std::string_view piece) { pieces.emplace_back(piece); };
  }
};

const std::map<int32_t, std::string> kWords = {{0, "<eos>"}, {1, "Hel"}, {2, "lo "}, {3, "Wor"}, {4, "ld"}, {5, "!"}};

TEST(Generate, FeedsPromptOnceThenOneTokenAndStopsOnEos) {
  ScriptedModel model(6, {1, 2, 3, 4, 0, 5});
  Sampler sampler = greedy();
  GenerationOptions options;
  options.eos_ids = {0};
  Stream stream;
  const std::vector<int32_t> prompt = {5, 5, 1};
  const GenerationResult result = generate(model, sampler, table_decoder(kWords), prompt, options, stream.callback());
  EXPECT_EQ(result.reason, StopReason::eos);
  EXPECT_EQ(result.tokens, (std::vector<int32_t>{1, 2, 3, 4, 0}));
  EXPECT_EQ(result.text, "Hello World");
  EXPECT_EQ(stream.joined(), "Hello World");
  EXPECT_EQ(result.prompt_tokens, 3);
  EXPECT_EQ(model.resets, 1);
  EXPECT_EQ(model.reserved, 3 + options.max_new_tokens);
  ASSERT_EQ(model.fed.size(), 5u);  // the prompt, then each generated token except the EOS
  EXPECT_EQ(model.fed[0], prompt);
  EXPECT_EQ(model.fed[1], (std::vector<int32_t>{1}));
  EXPECT_EQ(model.fed[4], (std::vector<int32_t>{4}));
}

TEST(Generate, AnyOfSeveralEosIdsEndsGeneration) {
  ScriptedModel model(6, {1, 5, 2});
  Sampler sampler = greedy();
  GenerationOptions options;
  options.eos_ids = {0, 5};
  const GenerationResult result = generate(model, sampler, table_decoder(kWords), std::vector<int32_t>{1}, options);
  EXPECT_EQ(result.reason, StopReason::eos);
  EXPECT_EQ(result.tokens, (std::vector<int32_t>{1, 5}));
  EXPECT_EQ(result.text, "Hel");
}

TEST(Generate, StopsAtMaxNewTokens) {
  ScriptedModel model(6, {1, 2, 3, 4, 5});
  Sampler sampler = greedy();
  GenerationOptions options;
  options.max_new_tokens = 3;
  const GenerationResult result = generate(model, sampler, table_decoder(kWords), std::vector<int32_t>{1}, options);
  EXPECT_EQ(result.reason, StopReason::max_tokens);
  EXPECT_EQ(result.tokens.size(), 3u);
  EXPECT_EQ(result.text, "Hello Wor");
  EXPECT_EQ(model.fed.size(), 3u);  // the third token is never fed back
}

TEST(Generate, StopStringAcrossTokensIsCutAndNeverStreamed) {
  ScriptedModel model(6, {1, 2, 3, 4, 5});
  Sampler sampler = greedy();
  GenerationOptions options;
  options.stop_strings = {"o W"};
  Stream stream;
  const GenerationResult result =
      generate(model, sampler, table_decoder(kWords), std::vector<int32_t>{1}, options, stream.callback());
  EXPECT_EQ(result.reason, StopReason::stop_string);
  EXPECT_EQ(result.text, "Hell");
  EXPECT_EQ(stream.joined(), "Hell");
  // "Hel" is settled at once; "lo " ends with "o ", a prefix of the stop string, held back.
  ASSERT_GE(stream.pieces.size(), 1u);
  EXPECT_EQ(stream.pieces[0], "Hel");
  EXPECT_EQ(result.tokens, (std::vector<int32_t>{1, 2, 3}));
}

TEST(Generate, HeldBackPrefixIsReleasedWhenTheStopStringDoesNotFollow) {
  ScriptedModel model(6, {1, 2, 4, 5});
  Sampler sampler = greedy();
  GenerationOptions options;
  options.stop_strings = {"o W"};
  options.max_new_tokens = 4;
  Stream stream;
  const GenerationResult result =
      generate(model, sampler, table_decoder(kWords), std::vector<int32_t>{1}, options, stream.callback());
  EXPECT_EQ(result.reason, StopReason::max_tokens);
  EXPECT_EQ(result.text, "Hello ld!");
  EXPECT_EQ(stream.joined(), "Hello ld!");
  EXPECT_EQ(stream.pieces, (std::vector<std::string>{"Hel", "l", "o ld", "!"}));
}

TEST(Generate, EarliestOfSeveralStopStringsWins) {
  ScriptedModel model(6, {1, 2, 3, 4, 5});
  Sampler sampler = greedy();
  GenerationOptions options;
  options.stop_strings = {"ld!", "rld"};
  const GenerationResult result = generate(model, sampler, table_decoder(kWords), std::vector<int32_t>{1}, options);
  EXPECT_EQ(result.text, "Hello Wo");
}

// "€" is E2 82 AC: three tokens of one byte each; "é" is C3 A9.
const std::map<int32_t, std::string> kBytes = {{0, "<eos>"}, {1, "a"}, {2, "\xE2"}, {3, "\x82"}, {4, "\xAC"},
                                               {5, "\xC3"},  {6, "\xA9"}};

TEST(Generate, Utf8CharacterSplitAcrossTokensIsStreamedWhole) {
  ScriptedModel model(7, {1, 2, 3, 4, 5, 6, 0});
  Sampler sampler = greedy();
  GenerationOptions options;
  options.eos_ids = {0};
  Stream stream;
  const GenerationResult result =
      generate(model, sampler, table_decoder(kBytes), std::vector<int32_t>{1}, options, stream.callback());
  EXPECT_EQ(result.text, "a\xE2\x82\xAC\xC3\xA9");
  EXPECT_EQ(stream.pieces, (std::vector<std::string>{"a", "\xE2\x82\xAC", "\xC3\xA9"}));
}

TEST(Generate, IncompleteCharacterAtTheEndIsFlushedAsTheDecoderRendersIt) {
  ScriptedModel model(7, {1, 2, 3});
  Sampler sampler = greedy();
  GenerationOptions options;
  options.max_new_tokens = 3;
  Stream stream;
  const GenerationResult result =
      generate(model, sampler, table_decoder(kBytes), std::vector<int32_t>{1}, options, stream.callback());
  EXPECT_EQ(result.text, "a\xEF\xBF\xBD");
  EXPECT_EQ(stream.joined(), result.text);
}

TEST(Generate, StopsWhenTheContextIsFull) {
  ScriptedModel model(6, {1, 2, 3, 4, 5}, /*context=*/4);
  Sampler sampler = greedy();
  GenerationOptions options;
  const GenerationResult result = generate(model, sampler, table_decoder(kWords), std::vector<int32_t>{1, 1}, options);
  EXPECT_EQ(result.reason, StopReason::context_full);
  EXPECT_EQ(result.tokens.size(), 2u);  // 2 prompt + 2 generated = 4
  EXPECT_EQ(model.reserved, 4);
}

TEST(Generate, RejectsBadPrompts) {
  Sampler sampler = greedy();
  GenerationOptions options;
  const auto decoder = table_decoder(kWords);
  {
    ScriptedModel model(6, {1}, /*context=*/2);
    try {
      generate(model, sampler, decoder, std::vector<int32_t>{1, 2, 3}, options);
      FAIL() << "a prompt longer than the context was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("3 tokens, more than the model's context of 2"), std::string::npos) << e.what();
    }
  }
  {
    ScriptedModel model(6, {1});
    try {
      generate(model, sampler, decoder, std::vector<int32_t>{1, 6}, options);
      FAIL() << "an id outside the vocabulary was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("token 6 (position 1)"), std::string::npos) << e.what();
    }
    EXPECT_THROW(generate(model, sampler, decoder, std::vector<int32_t>{-1}, options), Error);
    EXPECT_THROW(generate(model, sampler, decoder, std::vector<int32_t>{}, options), Error);
    GenerationOptions zero;
    zero.max_new_tokens = 0;
    EXPECT_THROW(generate(model, sampler, decoder, std::vector<int32_t>{1}, zero), Error);
  }
  {
    ScriptedModel model(6, {1});
    model.extra_logits = 1;
    EXPECT_THROW(generate(model, sampler, decoder, std::vector<int32_t>{1}, options), Error);
  }
}

TEST(UnsettledSuffix, HoldsReplacementTruncatedBytesAndStopPrefixes) {
  const std::vector<std::string> none;
  EXPECT_EQ(unsettled_suffix("abc", none), 0u);
  EXPECT_EQ(unsettled_suffix("ab\xEF\xBF\xBD", none), 3u);
  EXPECT_EQ(unsettled_suffix("ab\xEF\xBF\xBD\xEF\xBF\xBD", none), 6u);
  EXPECT_EQ(unsettled_suffix("ab\xE2\x82", none), 2u);
  EXPECT_EQ(unsettled_suffix("ab\xE2\x82\xAC", none), 0u);
  const std::vector<std::string> stops = {"</call>", "xyz"};
  EXPECT_EQ(unsettled_suffix("result </ca", stops), 4u);
  EXPECT_EQ(unsettled_suffix("result <", stops), 1u);
  EXPECT_EQ(unsettled_suffix("result xy", stops), 2u);
  EXPECT_EQ(unsettled_suffix("result x\xEF\xBF\xBD", stops), 4u);
  EXPECT_EQ(unsettled_suffix("result", stops), 0u);
}

// The Llama-2 vocabulary's byte-fallback tokens <0xE2> <0x82> <0xAC>, decoded by our tokenizer: "€"
// appears once, whole, after the third token.
TEST(Generate, LlamaByteFallbackTokensStreamAWholeCharacter) {
  const auto tok = tokenizer::Tokenizer::load(testing::testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"));
  const auto id = [&](const char* token) {
    const auto found = tok.token_to_id(token);
    EXPECT_TRUE(found.has_value()) << token;
    return found.value_or(0);
  };
  const std::vector<int32_t> script = {id("▁the"), id("<0xE2>"), id("<0x82>"), id("<0xAC>"), id("</s>")};
  ScriptedModel model(static_cast<int64_t>(tok.vocab_size()), script);
  Sampler sampler = greedy();
  GenerationOptions options;
  options.eos_ids = {id("</s>")};
  Stream stream;
  const TokenDecoder decode = [&](std::span<const int32_t> ids) { return tok.decode(ids); };
  const GenerationResult result =
      generate(model, sampler, decode, std::vector<int32_t>{id("<s>")}, options, stream.callback());
  EXPECT_EQ(result.text, "the\xE2\x82\xAC");
  EXPECT_EQ(stream.pieces, (std::vector<std::string>{"the", "\xE2\x82\xAC"}));
}

}  // namespace
}  // namespace slmtune::infer
