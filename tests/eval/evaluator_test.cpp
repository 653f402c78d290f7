// The evaluator with scripted model replies: every metric of issue 7 checked against numbers worked
// out by hand below, and the prompts it renders checked against Qwen2.5's own chat template.
#include <gtest/gtest.h>

#include <cmath>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "eval/evaluator.hpp"
#include "support/test_support.hpp"

namespace slmtune::eval {
namespace {

const char* const kGps = "42.3541N, 71.0654W";

std::string calls(const std::string& detail, const std::string& type) {
  return R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": ")" + detail + R"("}}, )"
         R"({"name": "broadcast_emergency_message", "arguments": {"location": ")" + std::string(kGps) +
         R"(", "emergency_detail": ")" + detail + R"(", "emergency_type": ")" + type + R"("}}])";
}

std::string qwen_reply(const std::string& detail, const std::string& type, const std::string& location = kGps) {
  return "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"" + detail +
         "\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"broadcast_emergency_message\", \"arguments\": {\"location\": \"" +
         location + "\", \"emergency_detail\": \"" + detail + "\", \"emergency_type\": \"" + type + "\"}}\n</tool_call>";
}

std::vector<data::Example> maritime_examples() {
  const std::string functions = read_file(slmtune::testing::source_dir() / "examples/maritime/functions.json");
  std::string text = data::csv_record({"function_definitions", "user_query", "function_call", "gps"});
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"we are taking on water", calls("Flooding", "Mayday")},
      {"FIRE in the engine room!!", calls("Fire", "Mayday")},
      {"engine died, calm sea", calls("Engine Failure", "PAN-PAN")},
      {"thanks, all good", "[]"},
      {"what channel is the coast guard on?", ""},
      {"man overboard", calls("Man Overboard", "Mayday")},
      {"gps is dead but we are fine", calls("Lost Navigation", "Securité")},
      {"my wife broke her wrist", calls("Medical Emergency", "PAN-PAN")},
  };
  for (const auto& [query, call] : rows) text += data::csv_record({functions, query, call, kGps});
  data::LoadOptions options;
  options.system_template = "You are a boat's assistant. GPS {{ gps }}.";
  auto dataset = data::parse_dataset(text, data::DatasetFormat::csv, "m.csv", options);
  EXPECT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  return dataset.examples;
}

class ScriptedGenerator final : public Generator {
 public:
  explicit ScriptedGenerator(std::vector<std::string> replies) : replies_(std::move(replies)) {}
  Completion complete(const std::string& prompt, const std::vector<functions::FunctionDefinition>& functions) override {
    prompts.push_back(prompt);
    function_names.emplace_back();
    for (const auto& f : functions) function_names.back().push_back(f.name);
    Completion c;
    c.text = replies_.at(prompts.size() - 1);
    c.cost.seconds = 0.001 * static_cast<double>(prompts.size());  // 1, 2, ... 8 ms
    c.cost.prompt_tokens = 100 + static_cast<int64_t>(prompts.size());
    c.cost.generated_tokens = 10;
    return c;
  }
  std::vector<std::string> prompts;
  std::vector<std::vector<std::string>> function_names;  // the functions each request could call

 private:
  std::vector<std::string> replies_;
};

chat::ChatTemplate qwen_template() {
  return chat::ChatTemplate(read_file(slmtune::testing::testdata("chat-templates/hf-tokenizer-configs/Qwen2.5-Instruct.jinja")),
                            chat::SpecialTokens{}, "Qwen2.5-Instruct.jinja");
}

const std::vector<std::string> kReplies = {
    qwen_reply("Flooding", "Mayday"),                       // 1 right
    qwen_reply("Fire", "PAN-PAN"),                          // 2 names right, emergency_type wrong
    "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Engine Failure\"}}\n</tool_call>",  // 3 one call short
    "You're welcome. I am here if anything happens.",       // 4 no call, none made
    "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {",  // 5 a malformed call where none was due
    "[{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Man Overboard\"}",  // 6 malformed
    "<fn_categorize_emergency>{\"emergency_detail\": \"Lost Navigation\"}\n<fn_broadcast_emergency_message>{\"location\": "
    "\"42.3541N, 71.0654W\", \"emergency_detail\": \"Lost Navigation\", \"emergency_type\": \"Securité\"}",  // 7 right
    qwen_reply("Medical Emergency", "PAN-PAN", "42.35N, 71.06W"),  // 8 location wrong
};

TEST(Evaluator, MetricsAgainstHandCountedNumbers) {
  auto examples = maritime_examples();
  ASSERT_EQ(examples.size(), 8u);
  ScriptedGenerator generator(kReplies);
  size_t rows_seen = 0;
  EvalMetrics m = evaluate(examples, qwen_template(), generator, EvalOptions{},
                           [&](const RowResult& row, const EvalMetrics& so_far) {
                             EXPECT_EQ(row.index, rows_seen);
                             EXPECT_EQ(so_far.n, static_cast<int64_t>(++rows_seen));
                           });
  EXPECT_EQ(rows_seen, 8u);
  EXPECT_EQ(m.n, 8);
  // exact: rows 1, 4, 7.
  EXPECT_EQ(m.exact_match.correct, 3);
  EXPECT_EQ(m.exact_match.total, 8);
  // names over the 6 rows that expect calls: 1, 2, 7, 8.
  EXPECT_EQ(m.name_accuracy.correct, 4);
  EXPECT_EQ(m.name_accuracy.total, 6);
  // 4 expected arguments per alert row: row 1: 4, 2: 3, 3: 1, 6: 0, 7: 4, 8: 3.
  EXPECT_EQ(m.argument_accuracy.correct, 15);
  EXPECT_EQ(m.argument_accuracy.total, 24);
  EXPECT_EQ(m.argument_accuracy_by_name.at("emergency_detail").correct, 9);
  EXPECT_EQ(m.argument_accuracy_by_name.at("emergency_detail").total, 12);
  EXPECT_EQ(m.argument_accuracy_by_name.at("location").correct, 3);
  EXPECT_EQ(m.argument_accuracy_by_name.at("location").total, 6);
  EXPECT_EQ(m.argument_accuracy_by_name.at("emergency_type").correct, 3);
  EXPECT_EQ(m.argument_accuracy_by_name.at("emergency_type").total, 6);
  // rows 5 and 6 are malformed.
  EXPECT_EQ(m.json_valid.correct, 6);
  EXPECT_EQ(m.json_valid.total, 8);
  // no call expected: rows 4 (right) and 5 (wrong).
  EXPECT_EQ(m.no_call_accuracy.correct, 1);
  EXPECT_EQ(m.no_call_accuracy.total, 2);
  EXPECT_DOUBLE_EQ(m.latency_ms_per_query(), 36.0 / 8.0);  // (1 + ... + 8) ms / 8
  EXPECT_DOUBLE_EQ(m.prompt_tokens_per_query(), 104.5);    // (101 + ... + 108) / 8
  EXPECT_DOUBLE_EQ(m.generated_tokens_per_query(), 10.0);

  EXPECT_EQ(m.confusion_argument, "emergency_type");
  const std::map<std::string, std::map<std::string, int64_t>> confusion = {
      {"Mayday", {{"Mayday", 1}, {"PAN-PAN", 1}, {"(invalid)", 1}}},
      {"PAN-PAN", {{"(none)", 1}, {"PAN-PAN", 1}}},
      {"(none)", {{"(none)", 1}, {"(invalid)", 1}}},
      {"Securité", {{"Securité", 1}}},
  };
  EXPECT_EQ(m.confusion, confusion);

  Json j = metrics_to_json(m);
  std::vector<std::string> keys;
  for (const auto& [key, unused] : j.items()) keys.push_back(key);
  ASSERT_GE(keys.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + 6),
            (std::vector<std::string>{"exact_match", "name_accuracy", "argument_accuracy", "json_valid", "no_call_accuracy", "n"}));
  EXPECT_DOUBLE_EQ(j["exact_match"].get<double>(), 0.375);
  EXPECT_DOUBLE_EQ(j["name_accuracy"].get<double>(), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(j["argument_accuracy"].get<double>(), 0.625);
  EXPECT_DOUBLE_EQ(j["json_valid"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["no_call_accuracy"].get<double>(), 0.5);
  EXPECT_EQ(j["n"], 8);
  EXPECT_EQ(j["confusion"]["expected_predicted"]["Mayday"]["PAN-PAN"], 1);
  EXPECT_DOUBLE_EQ(j["argument_accuracy_by_name"]["location"].get<double>(), 0.5);

  auto map = metrics_to_map(m);
  EXPECT_DOUBLE_EQ(map.at("exact_match"), 0.375);
  EXPECT_DOUBLE_EQ(map.at("n"), 8.0);

  const std::string table = metrics_table(m);
  EXPECT_NE(table.find("0.375  (3/8)"), std::string::npos) << table;
  EXPECT_NE(table.find("emergency_type confusion"), std::string::npos) << table;
  // The confusion rows: labels sorted, counts under their column.
  EXPECT_NE(table.find("expected \\ predicted  (invalid)  (none)  Mayday  PAN-PAN  Securité\n"
                       "(none)                1          1       0       0        0\n"
                       "Mayday                1          0       1       1        0\n"),
            std::string::npos) << table;
  EXPECT_EQ(table.find(" \n"), std::string::npos) << "trailing spaces:\n" << table;
}

TEST(Evaluator, PromptIsQwenRenderingOfTheConversationBeforeTheAnswer) {
  auto examples = maritime_examples();
  examples.resize(1);
  ScriptedGenerator generator({kReplies[0]});
  evaluate(examples, qwen_template(), generator, EvalOptions{});
  ASSERT_EQ(generator.prompts.size(), 1u);
  const std::string& p = generator.prompts[0];
  // Qwen2.5 puts the tools in the system turn and ends with the generation prompt.
  EXPECT_EQ(p.rfind("<|im_start|>system\nYou are a boat's assistant. GPS 42.3541N, 71.0654W.\n\n# Tools", 0), 0u) << p;
  EXPECT_NE(p.find("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"categorize_emergency\""), std::string::npos) << p;
  EXPECT_NE(p.find("<|im_start|>user\nwe are taking on water<|im_end|>\n"), std::string::npos) << p;
  const std::string tail = "<|im_start|>assistant\n";
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
  EXPECT_EQ(p.find("Flooding\", \"emergency_type"), std::string::npos) << "the expected answer leaked into the prompt";
  // The request carries the row's functions, which constrained decoding holds the calls to.
  EXPECT_EQ(generator.function_names[0], (std::vector<std::string>{"categorize_emergency", "broadcast_emergency_message"}));

  ScriptedGenerator fn_generator({kReplies[0]});
  EvalOptions fn;
  fn.format = data::PromptFormat::functional_tokens;
  evaluate(examples, qwen_template(), fn_generator, fn);
  EXPECT_EQ(fn_generator.prompts[0].find("<tools>"), std::string::npos) << fn_generator.prompts[0];
  EXPECT_LT(fn_generator.prompts[0].size(), p.size());
}

TEST(Evaluator, MultiTurnPromptKeepsEarlierCallsAndScoresTheLastTurn) {
  const std::string line =
      R"({"tools": [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],)"
      R"( "messages": [{"role": "user", "content": "Weather in Oslo?"},)"
      R"( {"role": "assistant", "content": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},)"
      R"( {"role": "tool", "content": "rain"}, {"role": "assistant", "content": "It rains."}]})";
  auto dataset = data::parse_dataset(line + "\n", data::DatasetFormat::jsonl, "c.jsonl");
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  ScriptedGenerator generator({"It rains in Oslo."});
  EvalMetrics m = evaluate(dataset.examples, qwen_template(), generator, EvalOptions{});
  const std::string& p = generator.prompts.at(0);
  EXPECT_NE(p.find("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>"), std::string::npos) << p;
  EXPECT_NE(p.find("<tool_response>\nrain\n</tool_response>"), std::string::npos) << p;
  EXPECT_EQ(p.find("It rains."), std::string::npos) << p;
  EXPECT_EQ(m.no_call_accuracy.correct, 1);
  EXPECT_EQ(m.exact_match.correct, 1);
  EXPECT_TRUE(m.confusion_argument.empty());
  EXPECT_TRUE(metrics_to_json(m)["name_accuracy"].is_null());  // no turn expected a call
  EXPECT_EQ(metrics_to_map(m).count("name_accuracy"), 0u);
}

TEST(Evaluator, EndOfTurnStringsComeFromTheTemplate) {
  auto qwen = end_of_turn_strings(qwen_template());
  EXPECT_EQ(qwen, std::vector<std::string>{"<|im_end|>"});
  chat::SpecialTokens tokens;
  tokens.eos = "</s>";
  auto other = end_of_turn_strings(chat::ChatTemplate("{{ messages[0]['content'] }}", tokens));
  EXPECT_EQ(other, std::vector<std::string>{"</s>"});
}

}  // namespace
}  // namespace slmtune::eval
