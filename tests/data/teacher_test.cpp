// The teacher of `data synth` without HTTP: what it is asked (definitions, policy, variables, seed rows,
// how many), how its free-text answers are read, and that its rows pass the dataset validation and the
// deduplication exactly as template rows do, with every rejection counted by reason.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/synth.hpp"
#include "data/synth_template.hpp"
#include "data/teacher_prompt.hpp"
#include "data/teacher_reply.hpp"
#include "support/test_support.hpp"

namespace slmtune::data {
namespace {

using slmtune::testing::TempDir;
using slmtune::testing::write_text;

// A function with an enum, so an example can break the schema in the way teachers most often do.
void write_alarm_template(const TempDir& dir) {
  write_text(dir / "f.json", R"([{"name": "raise_alarm", "description": "Raise an alarm", "parameters": {
      "type": "object", "properties": {"kind": {"type": "string", "enum": ["Fire", "Flood"]},
      "where": {"type": "string"}}, "required": ["kind", "where"]}}])");
  write_text(dir / "POLICY.md", "Fire and Flood both raise an alarm; thanks get a reply.\n");
  write_text(dir / "t.yaml", R"(functions: f.json
policy: POLICY.md
variables: [pos]
slots:
  pos: ["1N, 2W", "3S, 4E"]
  room: [galley, cabin]
cases:
  - queries: ["fire in the {room}"]
    calls: [{name: raise_alarm, arguments: {kind: Fire, where: "{pos}"}}]
  - queries: ["water in the {room}"]
    calls: [{name: raise_alarm, arguments: {kind: Flood, where: "{pos}"}}]
  - queries: ["thanks"]
    response: "You are welcome."
)");
}

TEST(TeacherReply, FindsExamplesWhateverSurroundsThem) {
  std::string answer = R"(Sure! Here are the examples {as requested}:
```json
{"user_query": "smoke everywhere", "function_call": [{"name": "raise_alarm", "arguments": {"kind": "Fire", "where": "1N, 2W"}}], "pos": "1N, 2W"}
{"user_query": "a brace } inside \" text", "function_call": [], "pos": "3S, 4E", "response": "ok"}
```
Also as an array: [{"user_query": "leak", "function_call": "[{\"name\": \"raise_alarm\", \"arguments\": {\"kind\": \"Flood\", \"where\": \"3S, 4E\"}}]", "pos": "3S, 4E"}]
And wrapped: {"examples": [{"user_query": "cheers", "function_call": null, "pos": "1N, 2W", "response": "any time"}]}
)";
  auto candidates = parse_teacher_reply(answer, {"pos"});
  ASSERT_EQ(candidates.size(), 4u);
  for (size_t i = 0; i < candidates.size(); ++i) {
    EXPECT_EQ(candidates[i].index, i + 1);
    ASSERT_TRUE(candidates[i].row) << candidates[i].error;
  }
  EXPECT_EQ(candidates[0].row->query, "smoke everywhere");
  EXPECT_EQ(candidates[0].row->calls[0]["arguments"]["kind"], "Fire");
  EXPECT_EQ(candidates[0].row->variables.at("pos"), "1N, 2W");
  EXPECT_EQ(candidates[1].row->query, "a brace } inside \" text");
  EXPECT_EQ(candidates[1].row->response, "ok");
  // A call list written as a JSON string (as the article's CSV cell holds it) is read as the list.
  ASSERT_TRUE(candidates[2].row->calls.is_array());
  EXPECT_EQ(candidates[2].row->calls[0]["name"], "raise_alarm");
  EXPECT_EQ(candidates[3].row->query, "cheers");
  EXPECT_TRUE(candidates[3].row->calls.is_array() && candidates[3].row->calls.empty());
}

TEST(TeacherReply, UnreadableExamplesAreKeptWithTheirReason) {
  std::string answer =
      "{\"user_query\": \"no position\", \"function_call\": []}\n"
      "{\"user_query\": \"no calls key\", \"pos\": \"1N, 2W\"}\n"
      "{\"user_query\": \"broken\", \"function_call\": [}\n"
      "{\"user_query\": 42, \"function_call\": [], \"pos\": \"1N, 2W\"}\n"
      "{\"user_query\": \"cut off\", \"function_call\": [{\"name\": \"raise_al";
  auto candidates = parse_teacher_reply(answer, {"pos"});
  ASSERT_EQ(candidates.size(), 5u);
  std::vector<std::string> reasons;
  for (const auto& c : candidates) {
    EXPECT_FALSE(c.row);
    EXPECT_FALSE(c.error.empty());
    reasons.push_back(c.reason);
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"missing pos", "no function_call", "not JSON", "user_query not text", "cut off"}));
  // Prose alone holds no example.
  EXPECT_TRUE(parse_teacher_reply("I cannot help with that {sorry}.", {"pos"}).empty());
}

TEST(TeacherPrompt, GivesDefinitionsPolicyVariablesAndSeeds) {
  TempDir dir;
  write_alarm_template(dir);
  SynthTemplate t = load_synth_template(dir / "t.yaml");
  Rng rng(3);
  std::vector<SynthRow> seeds = {expand_case(t, 0, rng), expand_case(t, 2, rng)};
  Json messages = teacher_messages(t, seeds, 7);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]["role"], "system");
  EXPECT_EQ(messages[1]["role"], "user");
  std::string prompt = messages[1]["content"];
  for (const char* expected : {"\"raise_alarm\"", "\"Flood\"", "Fire and Flood both raise an alarm", "\"pos\"", "\"3S, 4E\"",
                               "Write 7 new examples"})
    EXPECT_NE(prompt.find(expected), std::string::npos) << expected << "\n" << prompt;
  // Each seed row appears as one JSON line in the format asked for, which the reply parser reads back.
  auto echoed = parse_teacher_reply(prompt, t.variables);
  ASSERT_EQ(echoed.size(), 2u);
  EXPECT_EQ(echoed[0].row->query, seeds[0].query);
  EXPECT_EQ(echoed[0].row->calls, seeds[0].calls);
  EXPECT_EQ(echoed[1].row->response, "You are welcome.");
  EXPECT_NE(std::string(teacher_messages(t, {}, 1)[1]["content"]).find("Write 1 new example,"), std::string::npos);
}

TEST(SynthTeacher, RowsAreValidatedAndDeduplicatedLikeTemplateRows) {
  TempDir dir;
  write_alarm_template(dir);
  write_text(dir / "held_out.csv", "function_definitions,user_query,function_call,response\n[],Engine room FLOODING!,[],x\n");
  std::vector<std::string> answers = {
      // good; enum violation; duplicate of the excluded dataset's query
      R"({"user_query": "galley fire!!", "function_call": [{"name": "raise_alarm", "arguments": {"kind": "Fire", "where": "1N, 2W"}}], "pos": "1N, 2W"}
{"user_query": "boat burning", "function_call": [{"name": "raise_alarm", "arguments": {"kind": "Smoke", "where": "1N, 2W"}}], "pos": "1N, 2W"}
{"user_query": "engine room flooding", "function_call": [{"name": "raise_alarm", "arguments": {"kind": "Flood", "where": "3S, 4E"}}], "pos": "3S, 4E"})",
      // duplicate of the first answer's row; undefined function; good no-call row
      R"({"user_query": "Galley fire", "function_call": [{"name": "raise_alarm", "arguments": {"kind": "Fire", "where": "3S, 4E"}}], "pos": "3S, 4E"}
{"user_query": "call mum", "function_call": [{"name": "phone", "arguments": {}}], "pos": "3S, 4E"})",
      R"(```
{"user_query": "all fine now, thank you", "function_call": [], "pos": "1N, 2W", "response": "Glad to hear it."}
```)",
  };
  std::vector<Json> asked;
  SynthOptions options;
  options.count = 3;
  options.seed = 5;
  options.exclude = {dir / "held_out.csv"};
  options.teacher.name = "mock";
  options.teacher.count = 5;
  options.teacher.per_request = 2;
  options.teacher.ask = [&](const Json& messages) {
    asked.push_back(messages);
    return answers.at(asked.size() - 1);
  };
  SynthResult result = synthesize(dir / "t.yaml", options);

  // 5 asked in requests of 2, 2, 1.
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_NE(std::string(asked[0][1]["content"]).find("Write 2 new examples"), std::string::npos);
  EXPECT_NE(std::string(asked[2][1]["content"]).find("Write 1 new example,"), std::string::npos);
  const TeacherReport& report = result.teacher;
  EXPECT_EQ(report.requests, 3u);
  EXPECT_EQ(report.requested, 5u);
  EXPECT_EQ(report.received, 6u);
  EXPECT_EQ(report.accepted, 2u);
  EXPECT_EQ(report.duplicates, 2u);
  EXPECT_EQ(report.invalid, (std::map<std::string, size_t>{{"enum", 1}, {"unknown function", 1}}));
  EXPECT_TRUE(report.malformed.empty());
  EXPECT_EQ(teacher_summary(report),
            "4 of 6 teacher examples rejected (asked for 5): 2 invalid (1 enum, 1 unknown function), 2 duplicates");

  // The template rows come first and are those of the same seed without a teacher.
  SynthOptions plain = options;
  plain.teacher = {};
  SynthResult template_only = synthesize(dir / "t.yaml", plain);
  ASSERT_EQ(result.csv.rfind(template_only.csv, 0), 0u);
  EXPECT_EQ(result.rows, template_only.rows + 2);
  Dataset dataset = parse_dataset(result.csv, DatasetFormat::csv, "synth.csv");
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  ASSERT_EQ(dataset.examples.size(), result.rows);
  const Example& fire = dataset.examples[result.rows - 2];
  EXPECT_EQ(fire.messages[0].content, "galley fire!!");
  EXPECT_EQ(fire.variables.at("pos"), "1N, 2W");
  EXPECT_EQ(fire.expected_calls()[0][0].arguments["kind"], "Fire");
  const Example& thanks = dataset.examples[result.rows - 1];
  EXPECT_EQ(thanks.messages[0].content, "all fine now, thank you");
  EXPECT_TRUE(thanks.expected_calls()[0].empty());
  EXPECT_EQ(thanks.messages[1].content, "Glad to hear it.");
}

TEST(SynthTeacher, SummaryWordsEveryKindOfRejection) {
  TeacherReport report;
  report.requested = report.received = report.accepted = 40;
  EXPECT_EQ(teacher_summary(report), "all 40 teacher examples accepted");
  report.accepted = 28;
  report.invalid = {{"enum", 7}};
  report.duplicates = 5;
  EXPECT_EQ(teacher_summary(report), "12 of 40 teacher examples rejected: 7 invalid (enum), 5 duplicates");
  report.duplicates = 1;
  report.malformed = {{"missing gps", 2}};
  EXPECT_EQ(teacher_summary(report), "10 of 40 teacher examples rejected: 7 invalid (enum), 2 malformed (missing gps), 1 duplicate");
}

TEST(SynthTeacher, ATeacherFailureFailsTheRun) {
  TempDir dir;
  write_alarm_template(dir);
  SynthOptions options;
  options.teacher.count = 1;
  options.teacher.ask = [](const Json&) -> std::string { throw Error("http://x/v1/chat/completions: HTTP 401: bad key"); };
  EXPECT_THROW(synthesize(dir / "t.yaml", options), Error);
}

}  // namespace
}  // namespace slmtune::data
