// The bundled model's chat template (models/maritime-lm/corpus/chat_template.jinja) and `slmtune pretrain`.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "core/atomic_file.hpp"
#include "formats/json.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using namespace slmtune::testing;

namespace {

std::string quote(const std::filesystem::path& p) { return fmt::format("'{}'", p.string()); }

const char* const kConversation = R"([
  {"role": "system", "content": "You are the boat's assistant. The boat's GPS position is 50.3660N, 4.1420W."},
  {"role": "user", "content": "fire in the galley!"},
  {"role": "assistant", "content": "", "tool_calls": [
    {"type": "function", "function": {"name": "categorize_emergency", "arguments": {"emergency_detail": "Fire"}}},
    {"type": "function", "function": {"name": "broadcast_emergency_message",
      "arguments": {"location": "50.3660N, 4.1420W", "emergency_detail": "Fire", "emergency_type": "Securité"}}}]},
  {"role": "tool", "content": "{\"status\": \"sent\"}"},
  {"role": "tool", "content": "{\"status\": \"queued\"}"},
  {"role": "user", "content": "thanks"},
  {"role": "assistant", "content": "Glad you are safe."},
  {"role": "user", "content": "engine dead"}
])";

std::string render(const std::filesystem::path& jinja, const TempDir& dir, bool tools) {
  const auto r = run_slmtune(fmt::format("template --chat-template-file {} --messages {} {} --add-generation-prompt",
                                         quote(jinja), quote(dir / "messages.json"),
                                         tools ? "--tools " + quote(dir / "tools.json") : std::string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

}  // namespace

// Everything after the system turn — user turns, tool calls, grouped tool responses, plain answers
// and the generation prompt — is laid out exactly as Qwen2.5-Instruct's own template lays it out, so
// parsers written for Qwen2.5 read the bundled model's calls; the tool schemas appear one `tojson` line
// each, as in Qwen2.5's system turn.
TEST(BundledChatTemplate, TurnsAndToolCallsMatchQwen25) {
  TempDir dir;
  write_text(dir / "messages.json", kConversation);
  write_text(dir / "tools.json", read_file(source_dir() / "examples/maritime/functions.json"));
  const auto ours = render(source_dir() / "models/maritime-lm/corpus/chat_template.jinja", dir, true);
  const auto qwen = render(testdata("chat-templates/llama.cpp/Qwen-Qwen2.5-7B-Instruct.jinja"), dir, true);
  const auto turns = [](const std::string& text) { return text.substr(text.find("<|im_start|>user")); };
  ASSERT_NE(ours.find("<|im_start|>user"), std::string::npos) << ours;
  EXPECT_EQ(turns(ours), turns(qwen));
  EXPECT_NE(ours.find("<tool_call>\n{\"name\": \"broadcast_emergency_message\", \"arguments\": {\"location\": "
                      "\"50.3660N, 4.1420W\", \"emergency_detail\": \"Fire\", \"emergency_type\": \"Securité\"}}\n</tool_call>"),
            std::string::npos);
  const Json tools = parse_json(read_file(dir / "tools.json"), "tools.json");
  for (const auto& tool : tools) {
    // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "\n" + std::string.
    std::string line(1, '\n');
    line += python_json_dumps(tool);
    line += '\n';
    EXPECT_NE(ours.find(line), std::string::npos) << line;
    EXPECT_NE(qwen.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(ours.rfind("<|im_start|>system\nYou are the boat's assistant.", 0), 0u) << ours;

  // Without tools the system turn is the system message alone.
  const auto plain = render(source_dir() / "models/maritime-lm/corpus/chat_template.jinja", dir, false);
  EXPECT_EQ(plain.substr(0, plain.find("<|im_start|>user")),
            "<|im_start|>system\nYou are the boat's assistant. The boat's GPS position is 50.3660N, 4.1420W.<|im_end|>\n");
}

namespace {

// A tiny corpus, a tokenizer trained on it by `slmtune tokenizer train`, and the bundled template.
struct TinySetup {
  TempDir dir;
  // `functional` also reserves the maritime functions' tokens (what --prompt-format functional_tokens needs).
  explicit TinySetup(bool functional = false) {
    std::string text;
    const char* lines[] = {"MAYDAY MAYDAY MAYDAY this is Sea Breeze, fire on board, over.",
                           "PAN-PAN PAN-PAN PAN-PAN this is Osprey, engine failure, need a tow, over.",
                           "Securite Securite Securite all stations, chartplotter failed, out."};
    for (int i = 0; i < 60; ++i) text += std::string(i ? "\n<|endoftext|>\n" : "") + lines[i % 3];
    write_text(dir / "corpus.txt", text + "\n");
    std::filesystem::create_directories(dir / "tok");
    const auto r = run_slmtune(fmt::format(
        "tokenizer train --vocab-size 300 --special '<|endoftext|>' --special '<|im_start|>' --special '<|im_end|>' "
        "--special '<|pad|>' --special '<tool_call>' --special '</tool_call>' {}-o {} {}",
        functional ? "--special '<fn_categorize_emergency>' --special '<fn_broadcast_emergency_message>' " : "",
        quote(dir / "tok/tokenizer.json"), quote(dir / "corpus.txt")));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Json config = {{"bos_token", "<|endoftext|>"}, {"eos_token", "<|im_end|>"}, {"pad_token", "<|pad|>"},
                   {"add_bos_token", false}, {"add_eos_token", false},
                   {"chat_template", read_file(source_dir() / "models/maritime-lm/corpus/chat_template.jinja")}};
    write_text(dir / "tok/tokenizer_config.json", config.dump(2));
  }
  std::string base() const {
    return fmt::format("pretrain --preset tiny-llama --tokenizer {} --corpus {} --seq-len 32 --batch-size 4 "
                       "--run-dir {} --out {}",
                       quote(dir / "tok"), quote(dir / "corpus.txt"), quote(dir / "run"), quote(dir / "model"));
  }
};

double train_loss(const std::string& out) {
  const auto at = out.find("train loss ");
  return at == std::string::npos ? -1.0 : std::stod(out.substr(at + 11));
}

}  // namespace

TEST(PretrainCli, WritesAHuggingFaceDirectoryWithTheTokenizersSpecialIds) {
  TinySetup s;
  // Chat rows too: rendered through the tokenizer's template, one document per conversation.
  const auto r = run_slmtune(s.base() + fmt::format(" --steps 3 --chat {} --system-file {}",
                                                     quote(source_dir() / "examples/maritime/data/validation.csv"),
                                                     quote(source_dir() / "examples/maritime/system_prompt.txt")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("pretrained ", 0), 0u) << r.out;
  EXPECT_NE(r.err.find("validation.csv: 15 conversations"), std::string::npos) << r.err;
  for (const char* name : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    EXPECT_TRUE(std::filesystem::exists(s.dir / "model" / name)) << name;
  const Json config = read_json_file(s.dir / "model/config.json");
  EXPECT_EQ(config.at("architectures").at(0), "LlamaForCausalLM");
  // The vocabulary is the tokenizer's (ids 0..n-1 of tokenizer.json), not the preset's 512.
  const Json tokenizer = read_json_file(s.dir / "tok/tokenizer.json");
  int64_t max_id = 0;
  for (const auto& [token, id] : tokenizer.at("model").at("vocab").items()) max_id = std::max<int64_t>(max_id, id.get<int64_t>());
  EXPECT_EQ(config.at("vocab_size"), max_id + 1);
  EXPECT_EQ(config.at("eos_token_id"), 2);  // <|im_end|> is the third special token
  EXPECT_EQ(config.at("pad_token_id"), 3);
  EXPECT_EQ(config.at("bos_token_id"), 0);
  EXPECT_EQ(config.at("torch_dtype"), "bfloat16");
  // The result is a model the rest of slmtune reads: inspect it and render its chat template.
  const auto inspected = run_slmtune(fmt::format("inspect {} --json", quote(s.dir / "model")));
  ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
  const Json report = parse_json(inspected.out, "inspect");
  EXPECT_NE(report.dump().find("BF16"), std::string::npos);
}

TEST(PretrainCli, LossFallsWellBelowUniformOnARepetitiveCorpus) {
  TinySetup s;
  // At initialisation the loss is about ln(300) = 5.7 (uniform over the vocabulary); three sentences
  // repeated sixty times are learnt quickly.
  const auto r = run_slmtune(s.base() + " --steps 40 --lr 1e-2 --warmup-steps 5 --validation-fraction 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double loss = train_loss(r.out);
  EXPECT_GT(loss, 0.0) << r.out;
  EXPECT_LT(loss, 2.0) << r.out;
}

// The corpus size printed by pretrain: "corpus: N documents, T tokens, ...".
int64_t corpus_tokens(const std::string& err) {
  const auto at = err.find(" documents, ");
  if (at == std::string::npos) return -1;
  std::string digits;
  for (size_t i = at + 12; i < err.size() && err[i] != ' '; ++i)
    if (err[i] != ',') digits += err[i];
  return std::stoll(digits);
}

// --prompt-format functional_tokens writes each call as <fn_NAME>{args} with no definitions in the
// prompt: the tokens must already be in the tokenizer (pretraining cannot grow the vocabulary), and
// the same conversations then make a far smaller corpus (the two schemas are ~300+ tokens each time).
TEST(PretrainCli, FunctionalTokensNeedReservedTokensAndLeaveTheDefinitionsOut) {
  const auto chat = fmt::format(" --steps 1 --validation-fraction 0 --chat {} --system-file {}",
                                quote(source_dir() / "examples/maritime/data/validation.csv"),
                                quote(source_dir() / "examples/maritime/system_prompt.txt"));
  TinySetup plain;
  expect_one_line_error(run_slmtune(plain.base() + chat + " --prompt-format functional_tokens"),
                        "the tokenizer has no token <fn_categorize_emergency>");
  expect_one_line_error(run_slmtune(plain.base() + chat + " --prompt-format octopus"), "unknown prompt format \"octopus\"");

  TinySetup functional(true);
  const auto definitions = run_slmtune(functional.base() + chat);
  ASSERT_EQ(definitions.exit_code, 0) << definitions.err;
  std::filesystem::remove_all(functional.dir / "run");
  std::filesystem::remove_all(functional.dir / "model");
  const auto tokens = run_slmtune(functional.base() + chat + " --prompt-format functional_tokens");
  ASSERT_EQ(tokens.exit_code, 0) << tokens.err;
  const int64_t with_definitions = corpus_tokens(definitions.err), with_tokens = corpus_tokens(tokens.err);
  ASSERT_GT(with_tokens, 0) << tokens.err;
  // 15 conversations, each without its two schemas.
  EXPECT_LT(with_tokens + 15 * 200, with_definitions) << definitions.err << tokens.err;
}

TEST(PretrainCli, BadInputIsOneLine) {
  TinySetup s;
  expect_one_line_error(run_slmtune(fmt::format("pretrain --preset tiny-llama --tokenizer {} --corpus {} --out {}",
                                                quote(s.dir.path()), quote(s.dir / "corpus.txt"), quote(s.dir / "m"))),
                        "expected a folder with tokenizer.json and tokenizer_config.json");
  expect_one_line_error(run_slmtune(s.base() + fmt::format(" --config {}", quote(s.dir / "c.json"))),
                        "exactly one of --preset and --config");
  expect_one_line_error(run_slmtune(fmt::format("pretrain --preset tiny-llama --tokenizer {} --out {}",
                                                quote(s.dir / "tok"), quote(s.dir / "m"))),
                        "nothing to train on");
  write_text(s.dir / "bad.csv", "function_definitions,user_query,function_call\n\"[]\",\"hi\",\"[{\"\"name\"\": 1}]\"\n");
  expect_one_line_error(run_slmtune(s.base() + fmt::format(" --chat {}", quote(s.dir / "bad.csv"))), "bad.csv:2");
  expect_one_line_error(run_slmtune(s.base() + " --separator '<nope>'"), "--separator \"<nope>\"");
}
