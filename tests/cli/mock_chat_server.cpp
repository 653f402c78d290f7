// POSIX sockets, one connection at a time, "Connection: close" after every answer: enough HTTP for
// libcurl, and small enough to read at a glance.
#include "cli/mock_chat_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <stdexcept>

namespace slmtune::testing {
namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

int bound_listener(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the kernel picks a free port
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("bind() failed");
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return fd;
}

void send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace

MockChatServer::MockChatServer(std::vector<MockResponse> responses) : responses_(std::move(responses)) {
  listener_ = bound_listener(&port_);
  if (::listen(listener_, 8) != 0) throw std::runtime_error("listen() failed");
  thread_ = std::thread([this] { serve(); });
}

MockChatServer::~MockChatServer() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

std::string MockChatServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

std::vector<ReceivedRequest> MockChatServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

void MockChatServer::serve() {
  while (!stop_) {
    pollfd waiting{listener_, POLLIN, 0};
    if (::poll(&waiting, 1, 50) <= 0) continue;  // wake up now and then to see stop_
    int connection = ::accept(listener_, nullptr, nullptr);
    if (connection < 0) continue;
    answer(connection);
    ::close(connection);
  }
}

void MockChatServer::answer(int connection) {
  std::string data;
  char buffer[4096];
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  ReceivedRequest request;
  while (true) {
    pollfd readable{connection, POLLIN, 0};
    if (::poll(&readable, 1, 5000) <= 0) return;  // a client that stalls is dropped
    ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    data.append(buffer, static_cast<size_t>(n));
    if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
      size_t line_end = data.find("\r\n");
      std::string request_line = data.substr(0, line_end);
      size_t space = request_line.find(' ');
      request.method = request_line.substr(0, space);
      request.path = request_line.substr(space + 1, request_line.find(' ', space + 1) - space - 1);
      size_t pos = line_end + 2;
      while (pos < header_end) {
        size_t end = data.find("\r\n", pos);
        std::string line = data.substr(pos, end - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          request.headers[name] = value;
        }
        pos = end + 2;
      }
      if (request.headers.count("content-length")) content_length = std::stoul(request.headers["content-length"]);
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
  }
  request.body = data.substr(header_end + 4, content_length);
  MockResponse response{500, R"({"error": {"message": "mock server: no canned response left"}})", {}};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (received_.size() < responses_.size()) response = responses_[received_.size()];
    received_.push_back(std::move(request));
  }
  std::string reply = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n" +
                      "Content-Type: application/json\r\nContent-Length: " + std::to_string(response.body.size()) +
                      "\r\nConnection: close\r\n";
  for (const auto& [name, value] : response.headers) reply += name + ": " + value + "\r\n";
  reply += "\r\n" + response.body;
  send_all(connection, reply);
}

std::string chat_completion_body(const std::string& content) {
  nlohmann::json body = {
      {"id", "chatcmpl-mock"},
      {"object", "chat.completion"},
      {"created", 1765000000},
      {"model", "mock-teacher"},
      {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}}}},
      {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 10}, {"total_tokens", 20}}},
  };
  return body.dump();
}

int closed_port() {
  int port = 0;
  int fd = bound_listener(&port);
  ::close(fd);
  return port;
}

}  // namespace slmtune::testing
