// The methods of Python's str, dict and list that templates call. The sandbox Hugging Face uses
// (ImmutableSandboxedEnvironment) refuses the mutating ones with a SecurityError.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/string_ops.hpp"
#include "chat/jinja/template_error.hpp"

namespace slmtune::jinja {
namespace {

constexpr std::string_view kStringMethods[] = {
    "strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith", "upper", "lower", "title",
    "capitalize", "replace", "format", "find", "rfind", "count", "join", "splitlines", "isdigit", "isalpha",
    "isspace", "islower", "isupper", "isalnum", "index"};
constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get", "copy"};
constexpr std::string_view kListMethods[] = {"index", "count", "copy"};
constexpr std::string_view kMutatingDict[] = {"pop", "popitem", "update", "clear", "setdefault"};
constexpr std::string_view kMutatingList[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"};

template <size_t N>
bool contains(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

const Value& arg(const CallArgs& args, size_t position, std::string_view name, std::string_view method) {
  const Value* v = args.get(position, name);
  if (!v) raise("TypeError", fmt::format("{}() missing required argument '{}'", method, name));
  return *v;
}

std::optional<std::string> optional_string(const CallArgs& args, size_t position, std::string_view name) {
  const Value* v = args.get(position, name);
  if (!v || v->is_none()) return std::nullopt;
  if (!v->is_string()) raise("TypeError", fmt::format("expected a string for '{}', got {}", name, python_type_name(*v)));
  return v->as_string();
}

bool affix_matches(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    if (!a.is_string())
      raise("TypeError", fmt::format("{} first arg must be str or a tuple of str, not {}",
                                     prefix ? "startswith" : "endswith", python_type_name(a)));
    const std::string& t = a.as_string();
    if (t.size() > s.size()) return false;
    return prefix ? s.compare(0, t.size(), t) == 0 : s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  if (affix.kind() == Kind::Tuple || affix.kind() == Kind::List) {
    for (const auto& a : affix.as_list())
      if (one(a)) return true;
    return false;
  }
  return one(affix);
}

// str.format with automatic, numbered and named fields; format specs are not supported.
std::string python_format(const std::string& format, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}' ) {
      if (i + 1 < format.size() && format[i + 1] == '}') ++i;
      else raise("ValueError", "Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string::npos) raise("ValueError", "Single '{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    i = close;
    if (field.find_first_of(":!") != std::string::npos)
      raise("ValueError", "format specs and conversions in str.format are not supported");
    const Value* v = nullptr;
    if (field.empty()) {
      v = auto_index < args.positional.size() ? &args.positional[auto_index] : nullptr;
      ++auto_index;
    } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      size_t n = 0;
      const bool fits = std::from_chars(field.data(), field.data() + field.size(), n).ec == std::errc();
      v = fits && n < args.positional.size() ? &args.positional[n] : nullptr;
    } else {
      for (const auto& [name, value] : args.named)
        if (name == field) v = &value;
      if (!v) raise("KeyError", fmt::format("'{}'", field));
    }
    if (!v) raise("IndexError", "Replacement index out of range for positional args tuple");
    out += to_python_str(*v);
  }
  return out;
}

Value string_method(Renderer& r, const std::string& s, std::string_view name, CallArgs& args);

// Markup's own methods return Markup again (split's pieces too); str.format and join are left plain
// here since templates only call them on literals.
Value string_method_keeping_markup(Renderer& r, const Value& receiver, std::string_view name, CallArgs& args) {
  Value result = string_method(r, receiver.as_string(), name, args);
  if (!receiver.is_markup()) return result;
  if (result.is_string() && name != "format" && name != "join") return Value::markup(result.as_string());
  if (result.kind() == Kind::List) {
    List items;
    for (const auto& item : result.as_list()) items.push_back(Value::markup(item.as_string()));
    return Value::list(std::move(items));
  }
  return result;
}

Value string_method(Renderer& r, const std::string& s, std::string_view name, CallArgs& args) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    args.expect_at_most(name, 1, {"chars"});
    const auto chars = optional_string(args, 0, "chars");
    return Value::string(strip(s, chars ? &*chars : nullptr, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    args.expect_at_most(name, 2, {"sep", "maxsplit"});
    const auto sep = optional_string(args, 0, "sep");
    const Value* maxsplit = args.get(1, "maxsplit");
    const int64_t limit = maxsplit && maxsplit->is_number() ? maxsplit->as_int() : -1;
    List parts;
    for (auto& p : split(s, sep ? &*sep : nullptr, limit, name == "rsplit")) parts.push_back(Value::string(std::move(p)));
    r.check_list_size(parts.size());
    return Value::list(std::move(parts));
  }
  if (name == "splitlines") {
    List parts;
    for (auto& line : splitlines(s)) parts.push_back(Value::string(std::move(line)));
    return Value::list(std::move(parts));
  }
  if (name == "startswith" || name == "endswith") {
    args.expect_at_most(name, 1, {});
    return Value::boolean(affix_matches(s, arg(args, 0, "prefix", name), name == "startswith"));
  }
  if (name == "upper") return Value::string(to_upper(s));
  if (name == "lower") return Value::string(to_lower(s));
  if (name == "title") return Value::string(python_title(s));
  if (name == "capitalize") return Value::string(capitalize(s));
  if (name == "replace") {
    args.expect_at_most(name, 3, {"old", "new", "count"});
    const Value& old_v = arg(args, 0, "old", name);
    const Value& new_v = arg(args, 1, "new", name);
    if (!old_v.is_string() || !new_v.is_string()) raise("TypeError", "replace() arguments must be str");
    const Value* count = args.get(2, "count");
    return r.make_string(replace(s, old_v.as_string(), new_v.as_string(), count && count->is_number() ? count->as_int() : -1,
                                 r.limits().max_string_bytes));
  }
  if (name == "format") return r.make_string(python_format(s, args));
  if (name == "find" || name == "rfind" || name == "index" || name == "count") {
    const Value& sub = arg(args, 0, "sub", name);
    if (!sub.is_string()) raise("TypeError", fmt::format("must be str, not {}", python_type_name(sub)));
    const std::string& t = sub.as_string();
    if (name == "count") return Value::integer(count_occurrences(s, t));
    const size_t at = name == "rfind" ? s.rfind(t) : s.find(t);
    if (at == std::string::npos) {
      if (name == "index") raise("ValueError", "substring not found");
      return Value::integer(-1);
    }
    return Value::integer(static_cast<int64_t>(code_point_offset(s, at)));
  }
  if (name == "join") {
    const Value& items = arg(args, 0, "iterable", name);
    std::string out;
    bool first = true;
    const auto iterated = r.iterate(items);  // keep the list alive: range-for would drop the temporary
    for (const auto& item : *iterated) {
      if (!item.is_string())
        raise("TypeError", fmt::format("sequence item: expected str instance, {} found", python_type_name(item)));
      if (!first) out += s;
      first = false;
      out += item.as_string();
      if (out.size() > r.limits().max_string_bytes) r.make_string(std::move(out));
    }
    return r.make_string(std::move(out));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum" || name == "islower" ||
      name == "isupper")
    return Value::boolean(char_class(s, name));
  raise("AttributeError", fmt::format("'str' object has no attribute '{}'", name));
}

}  // namespace

bool has_method(const Value& receiver, std::string_view name) {
  switch (receiver.kind()) {
    case Kind::String: return contains(kStringMethods, name);
    case Kind::Dict: return contains(kDictMethods, name) || contains(kMutatingDict, name);
    case Kind::List:
    case Kind::Tuple: return contains(kListMethods, name) || contains(kMutatingList, name);
    case Kind::Loop: return name == "cycle";
    default: return false;
  }
}

Value bound_method(const Value& receiver, std::string_view name) {
  if ((receiver.kind() == Kind::Dict && contains(kMutatingDict, name)) ||
      ((receiver.kind() == Kind::List || receiver.kind() == Kind::Tuple) && contains(kMutatingList, name)))
    raise("SecurityError", fmt::format("access to attribute '{}' of '{}' object is unsafe.", name, python_type_name(receiver)));
  auto fn = std::make_shared<Function>();
  fn->name = std::string(name);
  fn->call = [receiver, method = std::string(name)](Renderer& r, CallArgs& args) {
    return call_method(r, receiver, method, args);
  };
  return Value::function(std::move(fn));
}

Value call_method(Renderer& r, const Value& receiver, std::string_view name, CallArgs& args) {
  switch (receiver.kind()) {
    case Kind::String: return string_method_keeping_markup(r, receiver, name, args);
    case Kind::Dict: {
      if (contains(kMutatingDict, name)) bound_method(receiver, name);  // raises SecurityError
      const Dict& d = receiver.as_dict();
      if (name == "get") {
        args.expect_at_most(name, 2, {});
        const Value& key = arg(args, 0, "key", name);
        if (const Value* v = d.find(key)) return *v;
        return args.positional.size() > 1 ? args.positional[1] : Value::none();
      }
      if (name == "copy") return receiver;
      args.expect_at_most(name, 0, {});
      List out;
      out.reserve(d.items.size());
      for (const auto& [k, v] : d.items) {
        if (name == "items") out.push_back(Value::tuple({k, v}));
        else out.push_back(name == "keys" ? k : v);
      }
      return Value::list(std::move(out));
    }
    case Kind::List:
    case Kind::Tuple: {
      if (contains(kMutatingList, name)) bound_method(receiver, name);  // raises SecurityError
      const List& items = receiver.as_list();
      if (name == "copy") return receiver;
      const Value& x = arg(args, 0, "value", name);
      if (name == "count") return Value::integer(std::count_if(items.begin(), items.end(), [&](const Value& v) { return v.equals(x); }));
      for (size_t i = 0; i < items.size(); ++i)
        if (items[i].equals(x)) return Value::integer(static_cast<int64_t>(i));
      raise("ValueError", fmt::format("{} is not in list", to_python_repr(x)));
    }
    case Kind::Loop: {
      if (args.positional.empty()) raise("TypeError", "no items for cycling given");
      return args.positional[receiver.as_loop().index0 % args.positional.size()];
    }
    default: break;
  }
  raise("AttributeError", fmt::format("'{}' object has no attribute '{}'", python_type_name(receiver), name));
}

}  // namespace slmtune::jinja
