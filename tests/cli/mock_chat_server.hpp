#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 (an ephemeral port) standing in for an OpenAI-compatible
// chat-completions endpoint: it answers each request with the next canned response and records what it
// received, so tests check both what slmtune sends and what it makes of each answer.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace slmtune::testing {

struct MockResponse {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;  // extra response headers (e.g. Retry-After)
};

struct ReceivedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class MockChatServer {
 public:
  // Answers requests with `responses` in order; once they run out, with HTTP 500.
  explicit MockChatServer(std::vector<MockResponse> responses);
  ~MockChatServer();
  MockChatServer(const MockChatServer&) = delete;
  MockChatServer& operator=(const MockChatServer&) = delete;

  int port() const { return port_; }
  std::string base_url() const;  // http://127.0.0.1:PORT/v1
  std::vector<ReceivedRequest> requests() const;

 private:
  void serve();
  void answer(int connection);

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<MockResponse> responses_;
  mutable std::mutex mutex_;
  std::vector<ReceivedRequest> received_;
  std::thread thread_;
};

// An OpenAI chat.completion body whose choices[0].message.content is `content`.
std::string chat_completion_body(const std::string& content);

// A port on 127.0.0.1 where nothing listens (bound, then closed).
int closed_port();

}  // namespace slmtune::testing
