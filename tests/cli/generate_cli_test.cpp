// `slmtune generate` end to end on the tiny GGUF models: greedy decoding picks the top logit that
// `slmtune logits` reports, the KV cache gives the same text as re-running the whole sequence, stop
// strings cut the output where they first appear, seeds reproduce, and bad settings are one line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "support/test_support.hpp"

using slmtune::testing::shell_quote;

using slmtune::testing::expect_one_line_error;

using slmtune::testing::run_slmtune;
using slmtune::testing::testdata;

namespace {

const std::string kLlama = shell_quote(testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"));
const std::string kQwen2 = shell_quote(testdata("models/tiny-random-gguf/tiny-random-qwen2.gguf"));
const std::string kPhi3 = shell_quote(testdata("models/tiny-random-gguf/tiny-random-phi3.gguf"));

std::string generate(const std::string& model, const std::string& args) {
  const auto result = run_slmtune("generate " + model + " " + args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(result.out.empty());
  EXPECT_EQ(result.out.back(), '\n');
  return result.out;
}

class GenerateEachModel : public ::testing::TestWithParam<std::string> {};

TEST_P(GenerateEachModel, GreedyFirstTokenIsTheTopLogit) {
  const std::string& model = GetParam();
  const auto logits = run_slmtune("logits " + model + " --text 'The weather today' --top 1 --json");
  ASSERT_EQ(logits.exit_code, 0) << logits.err;
  const int top_id = nlohmann::json::parse(logits.out)["top"][0]["id"].get<int>();
  const auto detok = run_slmtune("detokenize " + model + " " + std::to_string(top_id));
  ASSERT_EQ(detok.exit_code, 0) << detok.err;
  EXPECT_EQ(generate(model, "--prompt 'The weather today' --max-tokens 1"), detok.out);
}

TEST_P(GenerateEachModel, KvCacheGivesTheSameTextAsFullForwards) {
  const std::string& model = GetParam();
  const std::string cached = generate(model, "--prompt 'Once upon a time' --max-tokens 24");
  const std::string full = generate(model, "--prompt 'Once upon a time' --max-tokens 24 --no-kv-cache");
  EXPECT_EQ(cached, full);
  const std::string sampled = generate(model, "--prompt 'Once upon a time' --max-tokens 24 --temperature 0.9 --top-k 50 --seed 3");
  EXPECT_EQ(sampled, generate(model, "--prompt 'Once upon a time' --max-tokens 24 --temperature 0.9 --top-k 50 --seed 3 --no-kv-cache"));
}

INSTANTIATE_TEST_SUITE_P(TinyGguf, GenerateEachModel, ::testing::Values(kLlama, kQwen2, kPhi3));

TEST(GenerateCli, StopStringCutsTheOutputWhereItFirstAppears) {
  const std::string full = generate(kQwen2, "--prompt 'Hello' --max-tokens 40");
  const std::string text = full.substr(0, full.size() - 1);
  ASSERT_GE(text.size(), 12u) << text;
  // A stop string from the middle of the greedy text, free of quotes for the shell.
  size_t start = text.size() / 2;
  while (start + 4 < text.size() && (text.substr(start, 4).find_first_of("'\\\n") != std::string::npos ||
                                     (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80))
    ++start;
  std::string stop = text.substr(start, 4);
  while (!stop.empty() && (static_cast<unsigned char>(stop.back()) & 0x80)) stop.pop_back();  // whole characters only
  ASSERT_FALSE(stop.empty());
  const std::string expected = text.substr(0, text.find(stop)) + "\n";
  EXPECT_EQ(generate(kQwen2, "--prompt 'Hello' --max-tokens 40 --stop '" + stop + "'"), expected) << "stop: " << stop;
}

TEST(GenerateCli, SeedReproducesAndSamplingDiffersFromGreedy) {
  const std::string a = generate(kLlama, "--prompt 'Hello' --max-tokens 16 --temperature 1.5 --seed 11");
  EXPECT_EQ(a, generate(kLlama, "--prompt 'Hello' --max-tokens 16 --temperature 1.5 --seed 11"));
  // Over a 32000-token vocabulary of a random model, two seeds or greedy agreeing on 16 tokens is
  // essentially impossible.
  EXPECT_NE(a, generate(kLlama, "--prompt 'Hello' --max-tokens 16 --temperature 1.5 --seed 12"));
  EXPECT_NE(a, generate(kLlama, "--prompt 'Hello' --max-tokens 16"));
}

TEST(GenerateCli, ReportsSpeedAndStopReason) {
  const auto result = run_slmtune("generate " + kPhi3 + " --prompt 'Hi' --max-tokens 3 --check-numerics");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("generated in"), std::string::npos) << result.err;
  EXPECT_TRUE(result.err.find("stop: max_tokens") != std::string::npos || result.err.find("stop: eos") != std::string::npos)
      << result.err;
}

TEST(GenerateCli, BadInputsAreOneLine) {
  expect_one_line_error(run_slmtune("generate " + kLlama + " --prompt Hi --temperature -1"), "--temperature");
  expect_one_line_error(run_slmtune("generate " + kLlama + " --prompt Hi --temperature 1 --top-p 0"), "--top-p");
  expect_one_line_error(run_slmtune("generate " + kLlama + " --prompt Hi --min-p 2"), "--min-p");
  expect_one_line_error(run_slmtune("generate " + kLlama + " --prompt Hi --max-tokens 0"), "max new tokens");
  std::string long_prompt;
  for (int i = 0; i < 4200; ++i) long_prompt += " a";
  expect_one_line_error(run_slmtune("generate " + kQwen2 + " --prompt '" + long_prompt + "'"),
                        "more than the model's context of 4096");
}

}  // namespace
