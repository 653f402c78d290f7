// POST …/chat/completions over libcurl, with retries on the statuses that mean "try again later".
#include "client/chat_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"

namespace slmtune::client {
namespace {

constexpr size_t kShownBodyChars = 200;
constexpr double kMaxRetryAfterSeconds = 60;

// A body or message on one line, short enough to read in an error message.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
    if (out.size() >= kShownBodyChars) {
      out += "…";
      break;
    }
  }
  return out.empty() ? "(empty body)" : out;
}

struct Reply {
  long status = 0;
  std::string body;
  double retry_after_s = -1;  // from a Retry-After header in seconds; -1 when absent
};

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<Reply*>(user)->body.append(data, size * count);
  return size * count;
}

size_t read_header(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    std::string head(line.substr(0, name.size()));
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (head == name) {
      // Only the delta-seconds form; an HTTP date falls back to the client's own backoff.
      std::string value(line.substr(name.size()));
      char* end = nullptr;
      double seconds = std::strtod(value.c_str(), &end);
      if (end != value.c_str() && std::isfinite(seconds) && seconds >= 0)
        static_cast<Reply*>(user)->retry_after_s = seconds;
    }
  }
  return size * count;
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) fail("libcurl could not be initialised");
  });
}

// One HTTP exchange; transport failures (no connection, timeout) are thrown, any HTTP status returned.
Reply post_once(const ChatClientOptions& options, const std::string& url, const std::string& body) {
  init_curl_once();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) fail("{}: libcurl could not create a request", url);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  auto add_header = [&](const std::string& header) {
    curl_slist* grown = curl_slist_append(headers.get(), header.c_str());
    if (!grown) fail("{}: libcurl could not add a header", url);
    (void)headers.release();
    headers.reset(grown);
  };
  add_header("Content-Type: application/json");
  add_header("Accept: application/json");
  // Without this libcurl waits for "100 Continue" before sending a large body, which some servers
  // never send (a one-second stall per request).
  add_header("Expect:");
  if (!options.api_key.empty()) add_header("Authorization: Bearer " + options.api_key);

  Reply reply;
  char error_text[CURL_ERROR_SIZE] = {0};
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "slmtune/0.1.0");
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_s * 1000));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM, safe beside our threads
  // A chat endpoint is HTTP; "ftp://…" or "file://…" is a mistyped URL, not something to fetch.
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    std::string detail = error_text[0] ? error_text : curl_easy_strerror(code);
    if (code == CURLE_COULDNT_CONNECT)
      fail("{}: cannot connect ({}): is the server running and listening there?", url, detail);
    if (code == CURLE_OPERATION_TIMEDOUT)
      fail("{}: no complete answer within {} s ({})", url, options.timeout_s, detail);
    if (code == CURLE_COULDNT_RESOLVE_HOST) fail("{}: cannot resolve the host name ({})", url, detail);
    if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT)
      fail("{}: not an http:// or https:// URL ({})", url, detail);
    fail("{}: request failed: {}", url, detail);
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

bool worth_retrying(long status) { return status == 429 || status >= 500; }

std::string content_of(const std::string& url, const std::string& body) {
  Json reply = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded()) fail("{}: malformed response: expected a JSON chat completion, got: {}", url, one_line(body));
  if (reply.is_object() && reply.contains("error") && !reply.contains("choices"))
    fail("{}: the server answered with an error: {}", url, server_error_message(body));
  const Json* content = nullptr;
  if (reply.is_object() && reply.contains("choices") && reply["choices"].is_array() && !reply["choices"].empty()) {
    const Json& choice = reply["choices"][0];
    if (choice.is_object() && choice.contains("message") && choice["message"].is_object() &&
        choice["message"].contains("content"))
      content = &choice["message"]["content"];
    if (choice.is_object() && choice.contains("finish_reason") && choice["finish_reason"] == "length")
      log::warn("{}: the answer was cut off at the server's token limit; its last example may be incomplete", url);
  }
  if (!content || !content->is_string())
    fail("{}: malformed response: expected choices[0].message.content to be text, got: {}", url, one_line(body));
  return content->get<std::string>();
}

}  // namespace

std::string chat_completions_url(const std::string& base) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  constexpr std::string_view endpoint = "/chat/completions";
  if (url.size() >= endpoint.size() && url.compare(url.size() - endpoint.size(), endpoint.size(), endpoint) == 0) return url;
  return url + std::string(endpoint);
}

std::string server_error_message(std::string_view body) {
  Json value = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (value.is_object()) {
    const Json* error = value.contains("error") ? &value["error"] : nullptr;
    if (error && error->is_object() && error->contains("message") && (*error)["message"].is_string())
      return one_line((*error)["message"].get<std::string>());
    if (error && error->is_string()) return one_line(error->get<std::string>());
    if (value.contains("message") && value["message"].is_string()) return one_line(value["message"].get<std::string>());
    if (value.contains("detail") && value["detail"].is_string()) return one_line(value["detail"].get<std::string>());
  }
  return one_line(body);
}

std::string chat_complete(const ChatClientOptions& options, const Json& messages) {
  std::string url = chat_completions_url(options.url);
  Json request = Json::object();
  if (!options.model.empty()) request["model"] = options.model;
  request["messages"] = messages;
  request["temperature"] = options.temperature;
  request["stream"] = false;
  std::string body = request.dump();
  double wait_s = options.backoff_s;
  for (int attempt = 0;; ++attempt) {
    Reply reply = post_once(options, url, body);
    if (reply.status >= 200 && reply.status < 300) return content_of(url, reply.body);
    std::string message = server_error_message(reply.body);
    if (worth_retrying(reply.status) && attempt < options.retries) {
      double pause = reply.retry_after_s >= 0 ? std::min(reply.retry_after_s, kMaxRetryAfterSeconds) : wait_s;
      log::warn("{}: HTTP {}: {}; retrying in {} s ({} of {} retries)", url, reply.status, message, pause, attempt + 1,
                options.retries);
      std::this_thread::sleep_for(std::chrono::duration<double>(pause));
      wait_s *= 2;
      continue;
    }
    std::string hint;
    if (reply.status == 401 || reply.status == 403) hint = " (is the API key right?)";
    else if (reply.status == 404) hint = " (is the URL the API base, such as http://host:port/v1, and the model name right?)";
    std::string tries = attempt > 0 ? fmt::format(" after {} attempts", attempt + 1) : "";
    fail("{}: HTTP {}{}: {}{}", url, reply.status, tries, message, hint);
  }
}

}  // namespace slmtune::client
