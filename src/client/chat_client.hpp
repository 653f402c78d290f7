#pragma once
// A client of OpenAI-compatible chat-completions servers (OpenAI, llama.cpp's llama-server, vLLM,
// Ollama): one request in, the assistant's text out. `slmtune data synth --teacher-url` uses it to have
// a larger model write training examples, as the reference article does.
//
// HTTP through libcurl, so https, proxies (http_proxy/https_proxy/no_proxy) and redirects behave as
// users of curl expect. Every failure is one line naming the URL: connection refused, timeout, the
// HTTP status with the server's own error message, or a reply that is not a chat completion.
#include <string>
#include <string_view>

#include "formats/json.hpp"

namespace slmtune::client {

struct ChatClientOptions {
  std::string url;      // the API base (http://127.0.0.1:8080/v1) or the full …/chat/completions URL
  std::string model;    // the request's "model"; left out when empty (llama-server needs none)
  std::string api_key;  // sent as "Authorization: Bearer KEY" when not empty
  double temperature = 0.7;
  double timeout_s = 300;  // for the whole request, connection to last byte (a CPU teacher writes ~10 tokens/s)
  int retries = 3;         // further attempts after HTTP 429 or 5xx
  double backoff_s = 1;    // wait before the first retry, doubled for each next one (Retry-After wins)
};

// base + "/chat/completions", unless `base` already ends with it.
std::string chat_completions_url(const std::string& base);

// The text of the error message in an error body, as the common servers write it:
// {"error": {"message": …}} (OpenAI, llama-server, vLLM), {"error": "…"} (Ollama), {"message": …};
// otherwise the body itself, on one line and shortened.
std::string server_error_message(std::string_view body);

// Sends `messages` (OpenAI chat format) and returns choices[0].message.content.
std::string chat_complete(const ChatClientOptions& options, const Json& messages);

}  // namespace slmtune::client
