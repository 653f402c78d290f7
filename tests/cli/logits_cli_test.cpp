// `slmtune logits` end to end on the tiny GGUF models of ../shared/testdata/models: the JSON shape the
// issue specifies, the prompt tokenized with the special tokens the tokenizer config asks for (the
// ids of llama.cpp's Llama-2 vectors), descending order, and one-line errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
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

nlohmann::json logits_json(const std::string& model, const std::string& text, int top) {
  const auto result = run_slmtune("logits " + model + " --text '" + text + "' --top " + std::to_string(top) + " --json");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out);
}

void expect_descending_finite(const nlohmann::json& top, size_t count, int64_t vocab) {
  ASSERT_EQ(top.size(), count);
  for (size_t i = 0; i < top.size(); ++i) {
    const double logit = top[i].at("logit").get<double>();
    const int64_t id = top[i].at("id").get<int64_t>();
    EXPECT_TRUE(std::isfinite(logit));
    EXPECT_GE(id, 0);
    EXPECT_LT(id, vocab);
    if (i > 0) {
      EXPECT_LE(logit, top[i - 1].at("logit").get<double>()) << "position " << i;
    }
  }
}

TEST(LogitsCli, LlamaJsonAddsBosAsTheTokenizerConfigSays) {
  // ggml-vocab-llama-spm.gguf.out: " Hello world" → 29871 15043 3186; "Hello world" → 15043 3186; BOS = 1.
  const auto out = logits_json(kLlama, "Hello world", 5);
  EXPECT_EQ(out.at("tokens"), nlohmann::json::parse("[1, 15043, 3186]"));
  expect_descending_finite(out.at("top"), 5, 32000);
}

TEST(LogitsCli, Qwen2AddsNoBosAndPhi3Does) {
  // GPT-2 ids (ggml's gpt-2 prompts: "Hello World!" → 15496 2159 0); add_bos_token is false for this file.
  auto out = logits_json(kQwen2, "Hello World!", 3);
  EXPECT_EQ(out.at("tokens"), nlohmann::json::parse("[15496, 2159, 0]"));
  expect_descending_finite(out.at("top"), 3, 50257);
  out = logits_json(kPhi3, "Hello world", 4);
  EXPECT_EQ(out.at("tokens"), nlohmann::json::parse("[1, 15043, 3186]"));
  expect_descending_finite(out.at("top"), 4, 32064);
}

TEST(LogitsCli, TextListingMatchesJson) {
  const auto json = logits_json(kLlama, "Hello", 3);
  const auto result = run_slmtune("logits " + kLlama + " --text 'Hello' --top 3");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // One line per logit: id, logit, token (as a JSON string).
  size_t line_start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t end = result.out.find('\n', line_start);
    ASSERT_NE(end, std::string::npos);
    const std::string line = result.out.substr(line_start, end - line_start);
    EXPECT_EQ(line.substr(0, line.find('\t')), std::to_string(json["top"][i]["id"].get<int>())) << line;
    const double printed = std::stod(line.substr(line.find('\t') + 1));
    EXPECT_NEAR(printed, json["top"][i]["logit"].get<double>(), 1e-6) << line;
    line_start = end + 1;
  }
  EXPECT_EQ(line_start, result.out.size());
}

TEST(LogitsCli, BadInputsAreOneLine) {
  expect_one_line_error(run_slmtune("logits " + kLlama + " --text Hello --top 0"), "--top");
  std::string long_text;
  for (int i = 0; i < 4200; ++i) long_text += " a";
  expect_one_line_error(run_slmtune("logits " + kLlama + " --text '" + long_text + "'"), "more than the model's context of 4096");
  expect_one_line_error(run_slmtune("logits /nonexistent/model.gguf --text Hello"), "/nonexistent/model.gguf");
}

}  // namespace
