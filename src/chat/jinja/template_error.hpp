#pragma once
// Errors raised while parsing or rendering a template. They are slmtune::Errors, so the CLI prints
// them as one line "<template>:<line>[:<column>]: <Kind>: <message>"; Kind mirrors the Python
// exception class Jinja2 would raise (TemplateSyntaxError, UndefinedError, TypeError, ...).
#include <string>

#include "core/error.hpp"

namespace slmtune::jinja {

class TemplateError : public Error {
 public:
  TemplateError(std::string kind, std::string message, std::string location = {})
      : Error(location.empty() ? kind + ": " + message : location + ": " + kind + ": " + message),
        kind_(std::move(kind)),
        message_(std::move(message)),
        location_(std::move(location)) {}
  const std::string& kind() const { return kind_; }
  const std::string& message() const { return message_; }
  const std::string& location() const { return location_; }

 private:
  std::string kind_;
  std::string message_;
  std::string location_;
};

[[noreturn]] inline void raise(std::string kind, std::string message) {
  throw TemplateError(std::move(kind), std::move(message));
}

}  // namespace slmtune::jinja
