#include "chat/jinja/value.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "chat/jinja/template_error.hpp"

namespace slmtune::jinja {

Value Value::undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.ptr_ = std::make_shared<std::string>(std::move(hint));
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::Int;
  v.i_ = i;
  return v;
}
Value Value::index_from_digits(std::string_view digits) {
  int64_t index = std::numeric_limits<int64_t>::max();
  std::from_chars(digits.data(), digits.data() + digits.size(), index);  // leaves it unchanged on overflow
  return integer(index);
}
Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::Float;
  v.f_ = f;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::String;
  v.ptr_ = std::make_shared<std::string>(std::move(s));
  return v;
}
Value Value::markup(std::string s) {
  Value v = string(std::move(s));
  v.b_ = true;
  return v;
}

namespace {
// Containers record how deeply they nest (in the otherwise unused integer slot), so that a template
// building [[[[...]]]] in a loop is stopped before printing, comparing or freeing it could exhaust
// the stack.
constexpr int64_t kMaxNesting = 1000;

int64_t nesting_of(const Value& v) {
  switch (v.kind()) {
    case Kind::List:
    case Kind::Tuple:
    case Kind::Generator:
    case Kind::Dict: return v.container_depth();
    default: return 0;
  }
}

int64_t checked_depth(int64_t child_depth) {
  if (child_depth + 1 > kMaxNesting)
    raise("SecurityError", fmt::format("values nest deeper than {} levels", kMaxNesting));
  return child_depth + 1;
}
}  // namespace

Value Value::list(List items) {
  Value v;
  v.kind_ = Kind::List;
  int64_t deepest = 0;
  for (const auto& item : items) deepest = std::max(deepest, nesting_of(item));
  v.i_ = checked_depth(deepest);
  v.ptr_ = std::make_shared<List>(std::move(items));
  return v;
}
Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::Tuple;
  return v;
}
Value Value::generator(List items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::Generator;
  return v;
}
Value Value::dict(Dict items) {
  Value v;
  v.kind_ = Kind::Dict;
  int64_t deepest = 0;
  for (const auto& [k, item] : items.items) deepest = std::max(deepest, nesting_of(item));
  v.i_ = checked_depth(deepest);
  v.ptr_ = std::make_shared<Dict>(std::move(items));
  return v;
}
Value Value::make_namespace(Dict items) {
  Value v = dict(std::move(items));
  v.kind_ = Kind::Namespace;
  v.i_ = 0;
  return v;
}
Value Value::function(std::shared_ptr<Function> fn) {
  Value v;
  v.kind_ = Kind::Function;
  v.ptr_ = std::move(fn);
  return v;
}
Value Value::loop(std::shared_ptr<LoopState> loop) {
  Value v;
  v.kind_ = Kind::Loop;
  v.ptr_ = std::move(loop);
  return v;
}

Value Value::from_json(const Json& json) {
  switch (json.type()) {
    case Json::value_t::null: return none();
    case Json::value_t::boolean: return boolean(json.get<bool>());
    case Json::value_t::number_integer: return integer(json.get<int64_t>());
    case Json::value_t::number_unsigned: {
      const auto u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return number(static_cast<double>(u));
      return integer(static_cast<int64_t>(u));
    }
    case Json::value_t::number_float: return number(json.get<double>());
    case Json::value_t::string: return string(json.get_ref<const std::string&>());
    case Json::value_t::array: {
      List items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json(item));
      return list(std::move(items));
    }
    case Json::value_t::object: {
      Dict d;
      d.items.reserve(json.size());
      for (auto it = json.begin(); it != json.end(); ++it) d.items.emplace_back(string(it.key()), from_json(it.value()));
      return dict(std::move(d));
    }
    default: return none();
  }
}

std::string Value::undefined_hint() const {
  if (kind_ == Kind::Undefined && ptr_) return as_string();
  return "value is undefined";
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return b_;
    case Kind::Int: return i_ != 0;
    case Kind::Float: return f_ != 0.0;
    case Kind::String: return !as_string().empty();
    case Kind::List:
    case Kind::Tuple: return !as_list().empty();
    case Kind::Dict: return !as_dict().items.empty();
    default: return true;  // generators, namespaces, functions, loops: Python objects are true
  }
}

bool Value::equals(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (kind_ == Kind::Float || other.kind_ == Kind::Float) return as_float() == other.as_float();
    return as_int() == other.as_int();
  }
  const bool seq = kind_ == Kind::List || kind_ == Kind::Tuple;
  const bool other_seq = other.kind_ == Kind::List || other.kind_ == Kind::Tuple;
  if (seq && other_seq) {
    if (kind_ != other.kind_) return false;  // [1] != (1,) in Python
    const auto& a = as_list();
    const auto& b = other.as_list();
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!a[i].equals(b[i])) return false;
    return true;
  }
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return as_string() == other.as_string();
    case Kind::Dict: {
      const auto& a = as_dict().items;
      const auto& b = other.as_dict();
      if (a.size() != b.items.size()) return false;
      for (const auto& [k, v] : a) {
        const Value* w = b.find(k);
        if (!w || !v.equals(*w)) return false;
      }
      return true;
    }
    default: return ptr_ == other.ptr_;  // identity, as Python compares other objects
  }
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : items)
    if (k.equals(key)) return &v;
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : items)
    if (k.equals(key)) {
      v = std::move(value);
      return;
    }
  items.emplace_back(std::move(key), std::move(value));
}

const Value* CallArgs::get(size_t position, std::string_view name) const {
  if (position < positional.size()) return &positional[position];
  for (const auto& [n, v] : named)
    if (n == name) return &v;
  return nullptr;
}

void CallArgs::expect_at_most(std::string_view callee, size_t max_positional,
                              std::initializer_list<std::string_view> names) const {
  if (positional.size() > max_positional)
    raise("TypeError", fmt::format("{}() takes at most {} positional arguments ({} given)", callee, max_positional,
                                   positional.size()));
  for (const auto& [n, v] : named) {
    bool known = false;
    for (auto allowed : names) known = known || allowed == n;
    if (!known) raise("TypeError", fmt::format("{}() got an unexpected keyword argument '{}'", callee, n));
  }
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  if (value == 0.0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form, then Python's choice of layout: positional for
  // decimal exponents in [-4, 16), scientific with a two-digit exponent otherwise.
  std::string shortest = fmt::format("{}", value);  // fmt prints the shortest round-trip digits
  bool negative = false;
  std::string digits;
  int exponent = 0;  // value = 0.d1d2d3... * 10^exponent
  {
    std::string_view s = shortest;
    if (!s.empty() && s[0] == '-') {
      negative = true;
      s.remove_prefix(1);
    }
    int exp_part = 0;
    if (const auto e = s.find_first_of("eE"); e != std::string_view::npos) {
      exp_part = std::stoi(std::string(s.substr(e + 1)));
      s = s.substr(0, e);
    }
    int point = static_cast<int>(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '.') {
        point = static_cast<int>(i);
        continue;
      }
      digits += s[i];
    }
    // Drop leading zeros (0.001 → digits "0001") keeping the exponent consistent.
    size_t lead = 0;
    while (lead + 1 < digits.size() && digits[lead] == '0') ++lead;
    digits.erase(0, lead);
    point -= static_cast<int>(lead);
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    exponent = point + exp_part;
  }
  const int decimal_exponent = exponent - 1;  // of the first digit
  std::string out = negative ? "-" : "";
  if (decimal_exponent >= -4 && decimal_exponent < 16) {
    if (exponent <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exponent), '0');
      out += digits;
    } else if (static_cast<size_t>(exponent) >= digits.size()) {
      out += digits;
      out.append(static_cast<size_t>(exponent) - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exponent));
      out += '.';
      out += digits.substr(static_cast<size_t>(exponent));
    }
  } else {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += fmt::format("e{}{:02d}", decimal_exponent < 0 ? '-' : '+', std::abs(decimal_exponent));
  }
  return out;
}

std::string_view python_type_name(const Value& value) {
  switch (value.kind()) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Generator: return "generator";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "Namespace";
    case Kind::Function: return "function";
    case Kind::Loop: return "LoopContext";
  }
  return "object";
}

namespace {
void append_string_repr(std::string& out, const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  out += quote;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += quote;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA1 &&
               static_cast<unsigned char>(s[i + 1]) >= 0x80) {
      // U+0080..U+00A0 are not printable for Python's repr.
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i + 1]));
      ++i;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
}

void append_repr(std::string& out, const Value& value);

void append_sequence(std::string& out, const Value& value, char open, char close) {
  out += open;
  const auto& items = value.as_list();
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    append_repr(out, items[i]);
  }
  if (value.kind() == Kind::Tuple && items.size() == 1) out += ',';
  out += close;
}

void append_repr(std::string& out, const Value& value) {
  switch (value.kind()) {
    case Kind::String: append_string_repr(out, value.as_string()); return;
    case Kind::Undefined: return;  // str() and repr() of Undefined are both empty in Jinja2
    default: append_python_str(out, value);
  }
}
}  // namespace

void append_python_str(std::string& out, const Value& value) {
  // Namespaces are mutable and can contain themselves; nothing else can nest this deep.
  static thread_local int depth = 0;
  struct Guard {
    Guard() {
      if (++depth > kMaxNesting + 10) {
        --depth;
        raise("RecursionError", "maximum recursion depth exceeded while printing a value");
      }
    }
    ~Guard() { --depth; }
  } guard;
  switch (value.kind()) {
    case Kind::Undefined: return;
    case Kind::None: out += "None"; return;
    case Kind::Bool: out += value.as_bool() ? "True" : "False"; return;
    case Kind::Int: out += fmt::format("{}", value.as_int()); return;
    case Kind::Float: out += python_float_repr(value.as_float()); return;
    case Kind::String: out += value.as_string(); return;
    case Kind::List: append_sequence(out, value, '[', ']'); return;
    case Kind::Tuple: append_sequence(out, value, '(', ')'); return;
    case Kind::Generator: out += "<generator object at 0x0>"; return;
    case Kind::Dict:
    case Kind::Namespace: {
      if (value.kind() == Kind::Namespace) out += "<Namespace ";
      out += '{';
      bool first = true;
      for (const auto& [k, v] : value.as_dict().items) {
        if (!first) out += ", ";
        first = false;
        append_repr(out, k);
        out += ": ";
        append_repr(out, v);
      }
      out += '}';
      if (value.kind() == Kind::Namespace) out += '>';
      return;
    }
    case Kind::Function: out += fmt::format("<function {}>", value.as_function().name); return;
    case Kind::Loop: out += "<LoopContext>"; return;
  }
}

std::string to_python_str(const Value& value) {
  if (value.is_string()) return value.as_string();
  std::string out;
  append_python_str(out, value);
  return out;
}

std::string to_python_repr(const Value& value) {
  std::string out;
  append_repr(out, value);
  return out;
}

namespace {
void append_json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else if (c >= 0x80 && ensure_ascii) {
          // Decode one code point and escape it, as a UTF-16 surrogate pair above the BMP.
          size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
          if (i + n > s.size()) n = 1;
          uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
          for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
          i += n - 1;
          if (cp >= 0x10000) {
            cp -= 0x10000;
            out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
          } else {
            out += fmt::format("\\u{:04x}", cp);
          }
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string json_key(const Value& key) {
  switch (key.kind()) {
    case Kind::String: return key.as_string();
    case Kind::Bool: return key.as_bool() ? "true" : "false";
    case Kind::None: return "null";
    case Kind::Int: return fmt::format("{}", key.as_int());
    case Kind::Float: return python_float_repr(key.as_float());
    default:
      raise("TypeError", fmt::format("keys must be str, int, float, bool or None, not {}", python_type_name(key)));
  }
}

void dump(std::string& out, const Value& value, const JsonDumpOptions& options, int depth) {
  if (depth > 512) raise("RecursionError", "maximum recursion depth exceeded while encoding a JSON object");
  auto newline = [&](int level) {
    if (!options.has_indent) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += options.indent;
  };
  switch (value.kind()) {
    case Kind::None: out += "null"; return;
    case Kind::Bool: out += value.as_bool() ? "true" : "false"; return;
    case Kind::Int: out += fmt::format("{}", value.as_int()); return;
    case Kind::Float: {
      const double f = value.as_float();
      if (std::isnan(f)) out += "NaN";
      else if (std::isinf(f)) out += f < 0 ? "-Infinity" : "Infinity";
      else out += python_float_repr(f);
      return;
    }
    case Kind::String: append_json_string(out, value.as_string(), options.ensure_ascii); return;
    case Kind::List:
    case Kind::Tuple: {
      const auto& items = value.as_list();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += options.item_separator;
        newline(depth + 1);
        dump(out, items[i], options, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Kind::Dict: {
      const auto& items = value.as_dict().items;
      if (items.empty()) {
        out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const Value*>> entries;
      entries.reserve(items.size());
      for (const auto& [k, v] : items) entries.emplace_back(json_key(k), &v);
      if (options.sort_keys)
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += options.item_separator;
        newline(depth + 1);
        append_json_string(out, entries[i].first, options.ensure_ascii);
        out += options.key_separator;
        dump(out, *entries[i].second, options, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    default:
      raise("TypeError", fmt::format("Object of type {} is not JSON serializable", python_type_name(value)));
  }
}
}  // namespace

std::string python_json_dumps(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  dump(out, value, options, 0);
  return out;
}

}  // namespace slmtune::jinja
