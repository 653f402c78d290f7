// The global functions Hugging Face's chat-template environment provides: Jinja2's range, dict and
// namespace, and transformers' raise_exception and strftime_now.
#include <fmt/format.h>

#include <unordered_map>

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/template_error.hpp"

namespace slmtune::jinja {
namespace {

// Jinja2's sandbox refuses ranges longer than this (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

Value g_range(Renderer& r, CallArgs& args) {
  if (!args.named.empty()) raise("TypeError", "range() takes no keyword arguments");
  if (args.positional.empty() || args.positional.size() > 3) raise("TypeError", "range expected 1 to 3 arguments");
  for (const auto& a : args.positional)
    if (a.kind() != Kind::Int && a.kind() != Kind::Bool)
      raise("TypeError", fmt::format("'{}' object cannot be interpreted as an integer", python_type_name(a)));
  int64_t start = 0, stop, step = 1;
  if (args.positional.size() == 1) {
    stop = args.positional[0].as_int();
  } else {
    start = args.positional[0].as_int();
    stop = args.positional[1].as_int();
    if (args.positional.size() == 3) step = args.positional[2].as_int();
  }
  if (step == 0) raise("ValueError", "range() arg 3 must not be zero");
  List out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<int64_t>(out.size()) >= kMaxRange)
      raise("OverflowError", fmt::format("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).", kMaxRange));
    out.push_back(Value::integer(i));
    if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
  }
  r.check_list_size(out.size());
  return Value::list(std::move(out));
}

Dict keyword_dict(CallArgs& args, std::string_view callee) {
  Dict d;
  if (args.positional.size() > 1) raise("TypeError", fmt::format("{} expected at most 1 positional argument", callee));
  if (!args.positional.empty()) {
    const Value& init = args.positional[0];
    if (!init.is_mapping()) raise("TypeError", fmt::format("{}() needs a mapping as its positional argument", callee));
    for (const auto& [k, v] : init.as_dict().items) d.set(k, v);
  }
  for (auto& [name, value] : args.named) d.set(Value::string(name), value);
  return d;
}

Value g_namespace(Renderer& r, CallArgs& args) {
  Value ns = Value::make_namespace(keyword_dict(args, "namespace"));
  r.track_namespace(ns);
  return ns;
}
Value g_dict(Renderer&, CallArgs& args) { return Value::dict(keyword_dict(args, "dict")); }

Value g_raise_exception(Renderer&, CallArgs& args) {
  const Value* message = args.get(0, "message");
  raise("TemplateError", message ? to_python_str(*message) : std::string());
}

Value g_strftime_now(Renderer& r, CallArgs& args) {
  const Value* format = args.get(0, "format");
  if (!format || !format->is_string()) raise("TypeError", "strftime_now() needs a format string");
  const std::tm tm = r.now();
  if (format->as_string().size() > 256) raise("ValueError", "strftime_now() format is too long");
  std::string buffer(512, '\0');
  // An empty format, or one that formats to nothing, yields 0 either way.
  const size_t n = std::strftime(buffer.data(), buffer.size(), format->as_string().c_str(), &tm);
  buffer.resize(n);
  return Value::string(std::move(buffer));
}

Value make(std::string name, Value (*fn)(Renderer&, CallArgs&)) {
  auto f = std::make_shared<Function>();
  f->name = std::move(name);
  f->call = fn;
  return Value::function(std::move(f));
}

}  // namespace

std::optional<Value> global_value(std::string_view name) {
  static const std::unordered_map<std::string_view, Value> globals = {
      {"range", make("range", g_range)},
      {"namespace", make("namespace", g_namespace)},
      {"dict", make("dict", g_dict)},
      {"raise_exception", make("raise_exception", g_raise_exception)},
      {"strftime_now", make("strftime_now", g_strftime_now)},
  };
  const auto it = globals.find(name);
  if (it == globals.end()) return std::nullopt;
  return it->second;
}

}  // namespace slmtune::jinja
