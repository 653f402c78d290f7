// `slmtune data synth --teacher-url` against a mock OpenAI-compatible server on 127.0.0.1: what is sent
// (endpoint, model, Authorization, messages), what becomes of each example written back (accepted,
// invalid, duplicate, counted by reason), retries on a 5xx, and one clear error line for a rejected key,
// a garbage answer and a server that is not there.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include "cli/mock_chat_server.hpp"
#include "data/dataset.hpp"
#include "formats/json.hpp"
#include "support/test_support.hpp"

namespace slmtune::testing {
namespace {

std::string quote_path(const std::filesystem::path& path) { return fmt::format("'{}'", path.string()); }

// One maritime example as the teacher is asked to write it, on one line.
std::string maritime_line(const std::string& query, const std::string& detail, const std::string& type,
                          const std::string& gps) {
  Json calls = Json::array();
  calls.push_back({{"name", "categorize_emergency"}, {"arguments", {{"emergency_detail", detail}}}});
  calls.push_back({{"name", "broadcast_emergency_message"},
                   {"arguments", {{"location", gps}, {"emergency_detail", detail}, {"emergency_type", type}}}});
  return Json{{"user_query", query}, {"function_call", calls}, {"gps", gps}}.dump() + "\n";
}

class TeacherCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // The mock is local: a proxy configured in the environment must not be asked for it.
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    unsetenv("OPENAI_API_KEY");
  }
  void TearDown() override { unsetenv("OPENAI_API_KEY"); }

  // data synth on the maritime template with only teacher rows (-n 0), excluding the held-out test split.
  CommandResult synth(const std::string& url, const std::string& more) {
    auto maritime = source_dir() / "examples/maritime";
    return run_slmtune(fmt::format("data synth {} -n 0 --exclude {} --teacher-url {} {} --out {}",
                                   quote_path(maritime / "synth.yaml"), quote_path(maritime / "data/test.csv"), url, more,
                                   quote_path(dir / "out.csv")));
  }

  TempDir dir;
};

TEST_F(TeacherCli, ExamplesAreValidatedDeduplicatedAndCounted) {
  std::string answer = "Here are the examples:\n```jsonl\n" +
                       maritime_line("smoke pouring out of the galley!!", "Fire", "Mayday", "43.2965N, 5.3698E") +
                       maritime_line("motor quit, we're ok, need a tow", "Engine Failure", "PAN-PAN", "50.3660N, 4.1420W") +
                       // "Distress" is not one of the emergency_type enum's values
                       maritime_line("man overboard port side", "Man Overboard", "Distress", "36.1408N, 5.3536W") +
                       // the held-out test split's "Help! Fire in the cabin!"
                       maritime_line("help fire in the cabin", "Fire", "Mayday", "36.1408N, 5.3536W") +
                       // the first example again, shouted
                       maritime_line("SMOKE POURING OUT OF THE GALLEY", "Fire", "Mayday", "43.2965N, 5.3698E") + "```\n";
  MockChatServer server({{200, chat_completion_body(answer), {}}});
  auto result = synth(server.base_url(), "--teacher-model mock-teacher --teacher-key sk-test-123 --teacher-count 5 "
                                         "--teacher-temperature 0.5");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("3 of 5 teacher examples rejected: 1 invalid (enum), 2 duplicates; 2 rows added from 1 request"),
            std::string::npos)
      << result.out;
  // The invalid example is listed with what the validation said.
  EXPECT_NE(result.err.find("\"Distress\" is not one of"), std::string::npos) << result.err;

  data::Dataset written = data::load_dataset(dir / "out.csv");
  ASSERT_TRUE(written.errors.empty()) << written.errors.front();
  ASSERT_EQ(written.examples.size(), 2u);
  EXPECT_EQ(written.examples[0].messages[0].content, "smoke pouring out of the galley!!");
  EXPECT_EQ(written.examples[0].variables.at("gps"), "43.2965N, 5.3698E");
  EXPECT_EQ(written.examples[1].messages[0].content, "motor quit, we're ok, need a tow");
  auto calls = written.examples[1].expected_calls()[0];
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].arguments["emergency_type"], "PAN-PAN");
  EXPECT_EQ(calls[1].arguments["location"], "50.3660N, 4.1420W");

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/chat/completions");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer sk-test-123");
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  Json body = Json::parse(requests[0].body);
  EXPECT_EQ(body["model"], "mock-teacher");
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.5);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["role"], "user");
  std::string prompt = body["messages"][1]["content"];
  // The definitions, the policy the template names, the gps column and the count asked for.
  for (const char* expected : {"broadcast_emergency_message", "\"Securité\"", "Labelling policy", "\"gps\"",
                               "\"42.3541N, 71.0654W\"", "Write 5 new examples"})
    EXPECT_NE(prompt.find(expected), std::string::npos) << expected;
}

TEST_F(TeacherCli, KeyFromTheEnvironmentAndNoModelWhenNotGiven) {
  setenv("OPENAI_API_KEY", "sk-from-env", 1);
  MockChatServer server({{200, chat_completion_body(maritime_line("lost the gps, all safe", "Lost Navigation", "Securité",
                                                                   "42.3541N, 71.0654W")),
                          {}}});
  auto result = synth(server.base_url() + "/chat/completions", "--teacher-count 1");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("the 1 teacher example accepted; 1 row added from 1 request"), std::string::npos) << result.out;
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/v1/chat/completions");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer sk-from-env");
  EXPECT_FALSE(Json::parse(requests[0].body).contains("model"));
}

TEST_F(TeacherCli, A500IsRetriedThenTheAnswerIsUsed) {
  MockChatServer server({{500, R"({"error": {"message": "model is loading", "type": "server_error"}})", {}},
                         {200, chat_completion_body(maritime_line("we hit a rock and are sinking", "Flooding", "Mayday",
                                                                  "-33.8568, 151.2153")),
                          {}}});
  auto result = synth(server.base_url(), "--teacher-count 1 --teacher-key k");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_NE(result.err.find("HTTP 500: model is loading; retrying in 1 s"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("the 1 teacher example accepted; 1 row added from 1 request"), std::string::npos) << result.out;
  EXPECT_EQ(server.requests()[0].body, server.requests()[1].body);
}

TEST_F(TeacherCli, A429WaitsAsLongAsRetryAfterSays) {
  MockChatServer server({{429, R"({"error": {"message": "Rate limit reached"}})", {{"Retry-After", "0"}}},
                         {429, R"({"error": "slow down"})", {}},
                         {503, "upstream down", {}}});
  auto result = synth(server.base_url(), "--teacher-count 1 --teacher-retries 2");
  // The server's Retry-After (0 s) instead of the first backoff (1 s), then the doubled backoff, then
  // no retry left: the last status and message.
  EXPECT_NE(result.err.find("HTTP 429: Rate limit reached; retrying in 0 s (1 of 2 retries)"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("HTTP 429: slow down; retrying in 2 s (2 of 2 retries)"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("error: " + server.base_url() + "/chat/completions: HTTP 503 after 3 attempts: upstream down"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(TeacherCli, RejectedKeyIsOneErrorLineAndWritesNothing) {
  MockChatServer server({{401, R"({"error": {"message": "Incorrect API key provided: sk-wrong", "type": "invalid_request_error"}})", {}}});
  auto result = synth(server.base_url(), "--teacher-key sk-wrong --teacher-count 3");
  expect_one_line_error(result, fmt::format("{}/chat/completions: HTTP 401: Incorrect API key provided: sk-wrong", server.base_url()));
  EXPECT_EQ(server.requests().size(), 1u);  // a 401 is not retried
  EXPECT_FALSE(std::filesystem::exists(dir / "out.csv"));
}

TEST_F(TeacherCli, GarbageAnswerIsOneErrorLine) {
  MockChatServer server({{200, "<html><body>502 Bad Gateway</body></html>", {}}});
  auto result = synth(server.base_url(), "--teacher-count 3");
  expect_one_line_error(result, fmt::format("{}/chat/completions: malformed response: expected a JSON chat completion, got: "
                                            "<html><body>502 Bad Gateway</body></html>",
                                            server.base_url()));
  MockChatServer no_content({{200, R"({"choices": []})", {}}});
  auto empty = synth(no_content.base_url(), "--teacher-count 3");
  expect_one_line_error(empty, "malformed response: expected choices[0].message.content to be text");
}

TEST_F(TeacherCli, NoServerIsOneErrorLine) {
  std::string url = fmt::format("http://127.0.0.1:{}/v1", closed_port());
  auto result = synth(url, "--teacher-count 3");
  expect_one_line_error(result, url + "/chat/completions: cannot connect");
  EXPECT_FALSE(std::filesystem::exists(dir / "out.csv"));
}

}  // namespace
}  // namespace slmtune::testing
