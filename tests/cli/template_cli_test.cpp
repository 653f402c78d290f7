// `slmtune template` from the command line, checked against Python's Jinja2 goldens and
// transformers' apply_chat_template outputs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/atomic_file.hpp"
#include "formats/json.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using namespace slmtune::testing;

namespace {

// fmt rather than operator+: GCC 12 reports a false -Wrestrict for `"literal" + std::string`.
std::string quote(const std::filesystem::path& p) { return fmt::format("'{}'", p.string()); }

TEST(TemplateCli, RendersATemplateWithExactlyTheContextGiven) {
  const Json golden = read_json_file(testdata("chat-templates/goldens/meta-llama-Llama-3.1-8B-Instruct.json"));
  TempDir dir;
  int checked = 0;
  for (const auto& c : golden.at("cases")) {
    if (!c.contains("output")) continue;
    write_text(dir / "ctx.json", c.at("context").dump());
    const auto r = run_slmtune(fmt::format("template --template {} --context {}",
                                           quote(testdata("chat-templates/llama.cpp/meta-llama-Llama-3.1-8B-Instruct.jinja")),
                                           quote(dir / "ctx.json")));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, c.at("output").get<std::string>()) << c.at("name");
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

TEST(TemplateCli, ATemplateErrorExitsNonZeroWithOneLine) {
  TempDir dir;
  write_text(dir / "t.jinja", "{{ raise_exception('System role not supported') }}");
  write_text(dir / "ctx.json", "{}");
  const auto r = run_slmtune(fmt::format("template --template {} --context {}", quote(dir / "t.jinja"), quote(dir / "ctx.json")));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("t.jinja:1: TemplateError: System role not supported"), std::string::npos) << r.err;
  write_text(dir / "bad.jinja", "{% for x in y %}");
  const auto s = run_slmtune(fmt::format("template --template {} --context {}", quote(dir / "bad.jinja"), quote(dir / "ctx.json")));
  EXPECT_NE(s.exit_code, 0);
  EXPECT_NE(s.err.find("bad.jinja:1:17: TemplateSyntaxError"), std::string::npos) << s.err;
}

TEST(TemplateCli, PrintsAModelsTemplate) {
  const auto r = run_slmtune(fmt::format("template {}", quote(testdata("tokenizers/microsoft-Phi-3-mini-4k-instruct"))));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, read_file(testdata("chat-templates/hf-tokenizer-configs/microsoft-Phi-3-mini-4k-instruct.jinja")) + "\n");
  const auto none = run_slmtune(fmt::format("template {}", quote(testdata("tokenizers/microsoft-phi-2"))));
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("has no chat template; choose one with --chat-template"), std::string::npos) << none.err;
}

TEST(TemplateCli, RendersAConversationLikeTransformers) {
  const Json cases = read_json_file(testdata("chat-templates/meta-pytorch-tokenizers/cases.json"));
  TempDir dir;
  int checked = 0;
  for (const auto& c : cases) {
    if (c.at("model") != "smolvlm" || !c.at("kwargs").empty()) continue;
    write_text(dir / "m.json", c.at("messages").dump());
    const auto r = run_slmtune(fmt::format("template {} --messages {}{}", quote(testdata("chat-templates/meta-pytorch-tokenizers/smolvlm")),
                                           quote(dir / "m.json"),
                                           c.at("add_generation_prompt").get<bool>() ? " --add-generation-prompt" : ""));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, c.at("expected").get<std::string>());
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(TemplateCli, BuiltInTemplateAndToolFallbackForAModelWithoutOne) {
  TempDir dir;
  write_text(dir / "m.json", R"([{"role": "user", "content": "Mayday"}])");
  write_text(dir / "t.json", R"([{"type": "function", "function": {"name": "send_distress", "parameters": {}}}])");
  const auto r = run_slmtune(fmt::format("template {} --chat-template chatml --messages {} --tools {} --add-generation-prompt",
                                         quote(testdata("tokenizers/microsoft-phi-2")), quote(dir / "m.json"), quote(dir / "t.json")));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("<|im_start|>system\nYou can call functions.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("{\"type\": \"function\", \"function\": {\"name\": \"send_distress\", \"parameters\": {}}}<|im_end|>\n"
                       "<|im_start|>user\nMayday<|im_end|>\n<|im_start|>assistant\n"),
            std::string::npos)
      << r.out;
  const auto bad = run_slmtune(fmt::format("template --chat-template alpaca --messages {}", quote(dir / "m.json")));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown built-in chat template 'alpaca'"), std::string::npos) << bad.err;
}

}  // namespace
