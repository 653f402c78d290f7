// `slmtune inspect` end to end: the facts in its JSON for fixtures carrying real tokenizer files from
// ../shared/testdata, and one clear error line with a non-zero exit for each bad input.
#include <gtest/gtest.h>

#include "formats/json.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "support/test_support.hpp"

using slmtune::testing::shell_quote;

using slmtune::testing::expect_one_line_error;

using namespace slmtune;
using slmtune::testing::run_slmtune;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;

namespace {
void copy_tokenizer(const std::string& name, const TempDir& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(testdata("tokenizers/" + name)))
    std::filesystem::copy_file(entry.path(), dir / entry.path().filename().string(),
                               std::filesystem::copy_options::overwrite_existing);
}

}  // namespace

TEST(InspectCli, Phi3DirectoryWithItsTokenizer) {
  TempDir dir;
  write_random_model(find_model_preset("tiny-phi3").config, dir.path(), {});
  copy_tokenizer("microsoft-Phi-3-mini-4k-instruct", dir);
  const auto result = run_slmtune("inspect --json " + shell_quote(dir.path()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Json json = Json::parse(result.out);
  EXPECT_EQ(json["architecture"], "Phi3ForCausalLM");
  EXPECT_EQ(json["objective"], "causal-lm");
  // 2 × 512×64 (embeddings, lm_head) + 2 layers × (qkv 128×64, o 64×64, gate_up 256×64, down 64×128, 2 norms) + norm
  EXPECT_EQ(json["parameters"]["total"], 2 * 512 * 64 + 2 * (128 * 64 + 64 * 64 + 256 * 64 + 64 * 128 + 128) + 64);
  std::vector<std::string> targets;
  for (const auto& t : json["lora_targets"]) targets.push_back(t["name"]);
  EXPECT_EQ(targets, (std::vector<std::string>{"qkv_proj", "o_proj", "gate_up_proj", "down_proj"}));
  // Facts of Phi-3-mini-4k-instruct's tokenizer_config.json and tokenizer.json.
  EXPECT_EQ(json["special_tokens"]["bos"]["content"], "<s>");
  EXPECT_EQ(json["special_tokens"]["bos"]["id"], 1);
  EXPECT_EQ(json["special_tokens"]["eos"]["content"], "<|endoftext|>");
  EXPECT_EQ(json["special_tokens"]["eos"]["id"], 32000);
  EXPECT_EQ(json["special_tokens"]["pad"]["id"], 32000);
  EXPECT_EQ(json["special_tokens"]["unk"]["id"], 0);
  EXPECT_EQ(json["add_bos_token"], false);
  EXPECT_EQ(json["chat_template"]["present"], true);
  EXPECT_TRUE(json["warnings"].empty());
  EXPECT_EQ(json["tensors"].size(), 15u);
  EXPECT_EQ(result.err.find("no pad token"), std::string::npos);
}

TEST(InspectCli, WarnsWhenThereIsNoPadToken) {
  TempDir dir;
  write_random_model(find_model_preset("tiny-llama").config, dir.path(), {});
  copy_tokenizer("llama-2", dir);
  const auto result = run_slmtune("inspect " + shell_quote(dir.path()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("warning: no pad token"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("reuse unk (the default here) or eos"), std::string::npos);
  EXPECT_NE(result.err.find("add a new <|pad|> token"), std::string::npos);
  EXPECT_NE(result.out.find("bos  \"<s>\" (id 1)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("add_bos_token: true"), std::string::npos);
  EXPECT_NE(result.out.find("chat template  none"), std::string::npos);
  EXPECT_NE(result.out.find("model.layers.0.self_attn.q_proj.weight"), std::string::npos);
}

TEST(InspectCli, GgufFile) {
  const auto result =
      run_slmtune("inspect --json " + shell_quote(testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Json json = Json::parse(result.out);
  EXPECT_EQ(json["format"], "gguf");
  EXPECT_EQ(json["tensors"].size(), 12u);
  EXPECT_EQ(json["hidden_size"], 8);
  EXPECT_EQ(json["special_tokens"]["bos"]["content"], "<s>");
  EXPECT_EQ(json["special_tokens"]["pad"], nullptr);
}

TEST(InspectCli, BadInputsGiveOneLine) {
  TempDir dir;
  expect_one_line_error(run_slmtune("inspect " + shell_quote(dir / "missing")), "no such file or directory");
  expect_one_line_error(run_slmtune("inspect " + shell_quote(dir.path())), "no config.json");
  slmtune::testing::write_text(dir / "config.json", R"({"architectures": ["BertForMaskedLM"], "model_type": "bert"})");
  expect_one_line_error(run_slmtune("inspect " + shell_quote(dir.path())), "masked language model");
  slmtune::testing::write_text(dir / "config.json", R"({"architectures": ["T5ForConditionalGeneration"]})");
  expect_one_line_error(run_slmtune("inspect " + shell_quote(dir.path())), "seq2seq");
  slmtune::testing::write_text(dir / "config.json", R"({"architectures": ["GPT2LMHeadModel"]})");
  expect_one_line_error(run_slmtune("inspect " + shell_quote(dir.path())), "supported: LlamaForCausalLM");
  slmtune::testing::write_text(dir / "config.json", "{\"architectures\": [\n");
  expect_one_line_error(run_slmtune("inspect " + shell_quote(dir.path())), "config.json:2:");
  slmtune::testing::write_text(dir / "bad.gguf", "GGUX\x03\0\0\0");
  expect_one_line_error(run_slmtune("inspect " + shell_quote(dir / "bad.gguf")), "bad.gguf");
  const auto usage = run_slmtune("inspect");
  EXPECT_NE(usage.exit_code, 0);
}

TEST(InspectCli, HelpTeaches) {
  const auto result = run_slmtune("inspect --help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("--json"), std::string::npos);
  EXPECT_NE(result.out.find("Example:"), std::string::npos);
}
