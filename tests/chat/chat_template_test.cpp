// apply_chat_template as transformers does it: checked against transformers' own outputs
// (meta-pytorch-tokenizers/cases.json) and against the published prompt formats of the built-ins.
#include <gtest/gtest.h>

#include "chat/builtin_templates.hpp"
#include "chat/chat_template.hpp"
#include "chat/template_source.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using namespace slmtune::chat;
using slmtune::testing::testdata;

namespace {

SpecialTokens placeholder_tokens() { return SpecialTokens{"<s>", "</s>", "<pad>", "<unk>"}; }

void run_cases(const std::string& model, const ChatTemplate& tmpl) {
  const Json cases = read_json_file(testdata("chat-templates/meta-pytorch-tokenizers/cases.json"));
  int passed = 0, failed = 0;
  for (const auto& c : cases) {
    if (c.at("model") != model) continue;
    ApplyOptions options;
    options.add_generation_prompt = c.at("add_generation_prompt").get<bool>();
    options.extra = c.at("kwargs");
    const std::string actual = tmpl.apply(c.at("messages"), options).text;
    const bool ok = actual == c.at("expected").get<std::string>();
    EXPECT_TRUE(ok) << model << " kwargs=" << c.at("kwargs").dump() << "\n  expected: " << c.at("expected").dump()
                    << "\n  actual:   " << Json(actual).dump();
    (ok ? passed : failed)++;
  }
  std::printf("[ cases    ] %-10s %d passed, %d failed\n", model.c_str(), passed, failed);
  EXPECT_GT(passed + failed, 0);
}

TEST(TransformersCases, SmolVlmTemplateWithItsTokenizerConfig) {
  const auto model = read_model_template(testdata("chat-templates/meta-pytorch-tokenizers/smolvlm"));
  ASSERT_TRUE(model.source.has_value());
  EXPECT_EQ(*model.tokens.bos, "<|im_start|>");
  run_cases("smolvlm", ChatTemplate(*model.source, model.tokens, model.origin));
}

TEST(TransformersCases, Qwen3AgainstTheLlamaCppStandIn) {
  const std::string source = read_file(testdata("chat-templates/llama.cpp/Qwen-Qwen3-0.6B.jinja"));
  run_cases("qwen3", ChatTemplate(source, SpecialTokens{std::nullopt, "<|im_end|>", "<|endoftext|>", std::nullopt}));
}

TEST(TemplateSource, ReadsTheTemplateAndTokensOfTokenizerConfigs) {
  const auto phi3 = read_model_template(testdata("tokenizers/microsoft-Phi-3-mini-4k-instruct"));
  ASSERT_TRUE(phi3.source.has_value());
  EXPECT_EQ(*phi3.source, read_file(testdata("chat-templates/hf-tokenizer-configs/microsoft-Phi-3-mini-4k-instruct.jinja")));
  EXPECT_EQ(phi3.tokens.eos.value_or(""), "<|endoftext|>");
  EXPECT_FALSE(phi3.tokenizer_adds_bos);
  const auto phi2 = read_model_template(testdata("tokenizers/microsoft-phi-2/tokenizer_config.json"));
  EXPECT_FALSE(phi2.source.has_value());
}

// llama.cpp's Phi-3 vocabulary GGUF carries the template that starts with {{ bos_token }} and asks
// the tokenizer to add BOS as well: the doubled BOS must be caught.
TEST(TemplateSource, ReadsAGgufTemplateAndAvoidsADoubledBos) {
  const auto model = read_model_template(testdata("llama.cpp-vocab/ggml-vocab-phi-3.gguf"));
  ASSERT_TRUE(model.source.has_value());
  EXPECT_EQ(model.source->rfind("{{ bos_token }}", 0), 0u);
  EXPECT_EQ(model.tokens.bos.value_or(""), "<s>");
  EXPECT_TRUE(model.tokenizer_adds_bos);
  const ChatTemplate tmpl(*model.source, model.tokens, model.origin);
  ApplyOptions options;
  options.tokenizer_adds_bos = model.tokenizer_adds_bos;
  const auto r = tmpl.apply(Json::parse(R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}])"), options);
  EXPECT_TRUE(r.dropped_leading_bos);
  EXPECT_EQ(r.text, "<|user|>\nHi<|end|>\n<|assistant|>\nHello<|end|>\n");
}

TEST(TemplateSource, SavesTheChosenTemplateKeepingOtherKeys) {
  slmtune::testing::TempDir dir;
  const auto config = dir / "tokenizer_config.json";
  slmtune::testing::write_text(config, R"({"add_bos_token": true, "bos_token": "<s>", "model_max_length": 2048})");
  save_chat_template(config, builtin_template("zephyr"));
  const Json saved = read_json_file(config);
  EXPECT_EQ(saved["chat_template"], builtin_template("zephyr"));
  EXPECT_EQ(saved.begin().key(), "add_bos_token");
  EXPECT_EQ(saved["model_max_length"], 2048);
  const auto back = read_model_template(config);
  ASSERT_TRUE(back.source.has_value());
  EXPECT_EQ(*back.source, builtin_template("zephyr"));
  EXPECT_TRUE(back.tokenizer_adds_bos);
}

// The goldens of Microsoft's Phi-3-mini-4k template, rendered by Python, are the reference for our
// built-in phi-3: a model without a template fine-tuned with it must see the same text.
TEST(BuiltinTemplates, Phi3MatchesMicrosoftsTemplateOnItsGoldens) {
  const Json golden = read_json_file(testdata("chat-templates/goldens/microsoft-Phi-3-mini-4k-instruct.json"));
  const jinja::Template builtin(builtin_template("phi-3"), "phi-3");
  int compared = 0;
  for (const auto& c : golden.at("cases")) {
    if (!c.contains("output")) continue;
    EXPECT_EQ(builtin.render(c.at("context")), c.at("output").get<std::string>()) << c.at("name");
    ++compared;
  }
  EXPECT_EQ(compared, 10);
}

Json conversation() {
  return Json::parse(R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Help"}])");
}

std::string apply_builtin(const std::string& name, bool generation_prompt) {
  ApplyOptions options;
  options.add_generation_prompt = generation_prompt;
  return ChatTemplate(builtin_template(name), placeholder_tokens(), name).apply(conversation(), options).text;
}

TEST(BuiltinTemplates, ProduceTheirFamiliesPublishedFormats) {
  EXPECT_EQ(apply_builtin("chatml", true),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
            "<|im_start|>user\nHelp<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(apply_builtin("llama-2", false),
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Help [/INST]");
  EXPECT_EQ(apply_builtin("llama-3", true),
            "<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHelp<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(apply_builtin("zephyr", true),
            "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello.</s>\n<|user|>\nHelp</s>\n<|assistant|>\n");
  EXPECT_EQ(apply_builtin("phi-3", false),
            "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nHelp<|end|>\n</s>");
  EXPECT_THROW(builtin_template("alpaca"), slmtune::Error);
}

TEST(ApplyChatTemplate, DropsTheTemplatesBosWhenTheTokenizerAddsOne) {
  const ChatTemplate tmpl(builtin_template("llama-3"), placeholder_tokens());
  ApplyOptions options;
  const auto kept = tmpl.apply(conversation(), options);
  EXPECT_EQ(kept.text.rfind("<s><|start_header_id|>", 0), 0u);
  EXPECT_FALSE(kept.dropped_leading_bos);
  options.tokenizer_adds_bos = true;
  const auto dropped = tmpl.apply(conversation(), options);
  EXPECT_TRUE(dropped.dropped_leading_bos);
  EXPECT_EQ(dropped.text, kept.text.substr(3));
}

TEST(ApplyChatTemplate, PassesTransformersVariables) {
  const ChatTemplate tmpl(
      "{{ bos_token }}|{{ eos_token }}|{{ pad_token }}|{{ unk_token }}|{{ add_generation_prompt }}|{{ tools }}|"
      "{{ documents }}|{{ messages | length }}|{{ enable_thinking }}",
      placeholder_tokens());
  ApplyOptions options;
  options.add_generation_prompt = true;
  options.extra = Json{{"enable_thinking", false}};
  EXPECT_EQ(tmpl.apply(conversation(), options).text, "<s>|</s>|<pad>|<unk>|True|None|None|4|False");
}

TEST(ApplyChatTemplate, ReportsGenerationSpans) {
  const ChatTemplate tmpl(
      "{% for m in messages %}{% if m.role == 'assistant' %}A: {% generation %}{{ m.content }}{% endgeneration %}{{ '\\n' }}"
      "{% else %}U: {{ m.content }}\n{% endif %}{% endfor %}",
      placeholder_tokens());
  const auto r = tmpl.apply(conversation());
  EXPECT_EQ(r.text, "U: Be brief.\nU: Hi\nA: Hello.\nU: Help\n");
  ASSERT_EQ(r.generation.size(), 1u);
  EXPECT_EQ(r.text.substr(r.generation[0].begin, r.generation[0].end - r.generation[0].begin), "Hello.");
}

Json tool_conversation() {
  return Json::parse(R"([
    {"role": "user", "content": "Weather in Oslo?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
    {"role": "tool", "name": "get_weather", "content": "{\"temp\": 4}"},
    {"role": "assistant", "content": "4 degrees."}])");
}

Json weather_tools() {
  return Json::parse(R"([{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");
}

TEST(ToolFallback, PutsDefinitionsInTheSystemMessageAndCallsInTaggedJson) {
  const ChatTemplate tmpl(builtin_template("chatml"), placeholder_tokens());
  EXPECT_FALSE(tmpl.supports_tools());
  ApplyOptions options;
  options.tools = weather_tools();
  const auto r = tmpl.apply(tool_conversation(), options);
  EXPECT_TRUE(r.used_tool_fallback);
  EXPECT_EQ(r.text,
            "<|im_start|>system\nYou can call functions. To call one, reply with a JSON object inside <tool_call></tool_call> tags:\n"
            "<tool_call>{\"name\": <function name>, \"arguments\": <arguments object>}</tool_call>\n"
            "Available functions:\n"
            "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Current weather\", "
            "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}<|im_end|>\n"
            "<|im_start|>user\nWeather in Oslo?<|im_end|>\n"
            "<|im_start|>assistant\n<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}</tool_call><|im_end|>\n"
            "<|im_start|>user\n<tool_response>{\"name\": \"get_weather\", \"content\": \"{\\\"temp\\\": 4}\"}</tool_response><|im_end|>\n"
            "<|im_start|>assistant\n4 degrees.<|im_end|>\n");
}

TEST(ToolFallback, MovesDefinitionsToTheFirstUserTurnWhenSystemIsRefused) {
  // Gemma's template raises on a system message; the definitions then lead the first user turn.
  const std::string gemma = read_file(testdata("chat-templates/llama.cpp/google-gemma-2-2b-it.jinja"));
  const ChatTemplate tmpl(gemma, placeholder_tokens());
  ApplyOptions options;
  options.tools = weather_tools();
  const auto r = tmpl.apply(Json::parse(R"([{"role": "user", "content": "Weather in Oslo?"}])"), options);
  EXPECT_TRUE(r.used_tool_fallback);
  EXPECT_NE(r.text.find("<start_of_turn>user\nYou can call functions."), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("\n\nWeather in Oslo?<end_of_turn>"), std::string::npos) << r.text;
}

TEST(ToolFallback, TemplatesWithToolSupportGetTheToolsThemselves) {
  const std::string qwen = read_file(testdata("chat-templates/llama.cpp/Qwen-Qwen2.5-7B-Instruct.jinja"));
  const ChatTemplate tmpl(qwen, placeholder_tokens());
  EXPECT_TRUE(tmpl.supports_tools());
  ApplyOptions options;
  options.tools = weather_tools();
  const auto r = tmpl.apply(tool_conversation(), options);
  EXPECT_FALSE(r.used_tool_fallback);
  EXPECT_NE(r.text.find("<tools>\n{\"type\": \"function\""), std::string::npos) << r.text;
}

}  // namespace
