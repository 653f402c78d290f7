// Jinja2's built-in filters, plus `tojson` as Hugging Face defines it: json.dumps(x,
// ensure_ascii=False, indent=, separators=, sort_keys=) instead of Jinja2's HTML-safe variant.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/string_ops.hpp"
#include "chat/jinja/template_error.hpp"
#include "chat/jinja/utf8.hpp"

namespace slmtune::jinja {
namespace {

using FilterFn = Value (*)(Renderer&, Value&, CallArgs&);

const Value* opt(const CallArgs& args, size_t position, std::string_view name) {
  const Value* v = args.get(position, name);
  return v && !v->is_undefined() ? v : nullptr;
}
bool opt_bool(const CallArgs& args, size_t position, std::string_view name, bool fallback) {
  const Value* v = opt(args, position, name);
  return v ? v->truthy() : fallback;
}
std::string str(const Value& v) { return to_python_str(v); }

void require_defined(const Value& v) {
  if (v.is_undefined()) raise("UndefinedError", v.undefined_hint());
}

// environment.getitem along a dotted path ("a.b", "items.0"), as Jinja2's attribute= arguments do.
Value attribute_path(Renderer& r, const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    v = r.item(v, numeric ? Value::index_from_digits(part) : Value::string(part));
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

// Sort key: case-insensitive comparisons lower strings first, as Jinja2's ignore_case does.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(to_lower(v.as_string()));
  return v;
}

Value like(const Value& input, std::string s);

Value f_tojson(Renderer&, Value& v, CallArgs& args) {
  args.expect_at_most("tojson", 1, {"indent", "separators", "sort_keys", "ensure_ascii"});
  JsonDumpOptions o;
  if (const Value* indent = opt(args, 0, "indent"); indent && !indent->is_none()) {
    o.has_indent = true;
    if (indent->is_string()) o.indent = indent->as_string();
    else o.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(indent->as_int(), 0, 64)), ' ');
    o.item_separator = ",";
  }
  if (const Value* sep = opt(args, 99, "separators"); sep && !sep->is_none()) {
    if (!sep->is_sequence() || sep->as_list().size() != 2 || !sep->as_list()[0].is_string() || !sep->as_list()[1].is_string())
      raise("TypeError", "separators must be a pair of strings");
    o.item_separator = sep->as_list()[0].as_string();
    o.key_separator = sep->as_list()[1].as_string();
  }
  o.sort_keys = opt_bool(args, 99, "sort_keys", false);
  o.ensure_ascii = opt_bool(args, 99, "ensure_ascii", false);
  return Value::string(python_json_dumps(v, o));
}

Value f_trim(Renderer&, Value& v, CallArgs& args) {
  const Value* chars = opt(args, 0, "chars");
  const std::string c = chars && !chars->is_none() ? str(*chars) : std::string();
  return like(v, strip(str(v), chars && !chars->is_none() ? &c : nullptr, true, true));
}

Value f_length(Renderer&, Value& v, CallArgs&) {
  switch (v.kind()) {
    case Kind::Undefined: return Value::integer(0);
    case Kind::String: return Value::integer(static_cast<int64_t>(utf8::length(v.as_string())));
    case Kind::List:
    case Kind::Tuple: return Value::integer(static_cast<int64_t>(v.as_list().size()));
    case Kind::Dict: return Value::integer(static_cast<int64_t>(v.as_dict().items.size()));
    default: raise("TypeError", fmt::format("object of type '{}' has no len()", python_type_name(v)));
  }
}

Value f_first(Renderer& r, Value& v, CallArgs&) {
  const auto items = r.iterate(v);
  return items->empty() ? Value::undefined("No first item, sequence was empty.") : items->front();
}

Value f_last(Renderer& r, Value& v, CallArgs&) {
  if (v.kind() == Kind::Generator) raise("TypeError", "'generator' object is not reversible");
  const auto items = r.iterate(v);
  return items->empty() ? Value::undefined("No last item, sequence was empty.") : items->back();
}

Value f_join(Renderer& r, Value& v, CallArgs& args) {
  const Value* sep = opt(args, 0, "d");
  const std::string d = sep ? str(*sep) : std::string();
  const Value* attribute = opt(args, 1, "attribute");
  std::string out;
  bool first = true;
  const auto iterated = r.iterate(v);  // keep the list alive: range-for would drop the temporary
  for (const auto& item : *iterated) {
    if (!first) out += d;
    first = false;
    append_python_str(out, attribute ? attribute_path(r, item, str(*attribute)) : item);
    if (out.size() > r.limits().max_string_bytes) r.make_string(std::move(out));
  }
  return r.make_string(std::move(out));
}

Value f_default(Renderer&, Value& v, CallArgs& args) {
  const Value* fallback = args.get(0, "default_value");
  const bool boolean = opt_bool(args, 1, "boolean", false);
  if (v.is_undefined() || (boolean && !v.truthy())) return fallback ? *fallback : Value::string("");
  return v;
}

// Markup in, Markup out: these filters call the str method on the value as it is (soft_str).
Value like(const Value& input, std::string s) { return input.is_markup() ? Value::markup(std::move(s)) : Value::string(std::move(s)); }
Value f_upper(Renderer&, Value& v, CallArgs&) { return like(v, to_upper(str(v))); }
Value f_lower(Renderer&, Value& v, CallArgs&) { return like(v, to_lower(str(v))); }
Value f_capitalize(Renderer&, Value& v, CallArgs&) { return like(v, capitalize(str(v))); }
Value f_title(Renderer&, Value& v, CallArgs&) { return like(v, jinja_title(str(v))); }

Value f_replace(Renderer& r, Value& v, CallArgs& args) {
  const Value* old_v = args.get(0, "old");
  const Value* new_v = args.get(1, "new");
  if (!old_v || !new_v) raise("TypeError", "replace() needs 'old' and 'new'");
  const Value* count = opt(args, 2, "count");
  return r.make_string(replace(str(v), str(*old_v), str(*new_v), count && count->is_number() ? count->as_int() : -1,
                               r.limits().max_string_bytes));
}

Value f_list(Renderer& r, Value& v, CallArgs&) {
  require_defined(v);
  return Value::list(*r.iterate(v));
}

Value f_string(Renderer&, Value& v, CallArgs&) { return v.is_string() ? v : Value::string(str(v)); }
Value f_safe(Renderer&, Value& v, CallArgs&) { return v.is_markup() ? v : Value::markup(str(v)); }

Value f_escape(Renderer& r, Value& v, CallArgs&) {
  if (v.is_markup()) return v;
  return Value::markup(r.make_string(html_escape(str(v))).as_string());
}

// Python's int(str, base) for the literal forms Jinja2's int filter accepts.
std::optional<int64_t> parse_int(std::string s, int base) {
  s = strip(s, nullptr, true, true);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return std::nullopt;
  size_t pos = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    pos = 1;
  }
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (s.size() > pos + 1 && s[pos] == '0') {
      const char p = static_cast<char>(std::tolower(s[pos + 1]));
      const int prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (prefixed && (base == 0 || base == prefixed)) {
        base = prefixed;
        pos += 2;
      }
    }
    if (base == 0) base = 10;
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t value = 0;
  for (; pos < s.size(); ++pos) {
    const char c = static_cast<char>(std::tolower(s[pos]));
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
    if (d >= base) return std::nullopt;
    if (__builtin_mul_overflow(value, base, &value) || __builtin_add_overflow(value, d, &value)) return std::nullopt;
  }
  return negative ? -value : value;
}

std::optional<double> parse_float(const std::string& text) {
  const std::string s = strip(text, nullptr, true, true);
  if (s.empty()) return std::nullopt;
  const std::string lower = to_lower(s);
  for (std::string_view inf : {"inf", "+inf", "infinity", "+infinity"})
    if (lower == inf) return HUGE_VAL;
  for (std::string_view inf : {"-inf", "-infinity"})
    if (lower == inf) return -HUGE_VAL;
  if (lower == "nan" || lower == "+nan" || lower == "-nan") return NAN;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || lower.find_first_of("xp") != std::string::npos) return std::nullopt;
  return d;
}

Value f_int(Renderer&, Value& v, CallArgs& args) {
  const Value* fallback = opt(args, 0, "default");
  const Value* base = opt(args, 1, "base");
  const Value dflt = fallback ? *fallback : Value::integer(0);
  switch (v.kind()) {
    case Kind::Int: return v;
    case Kind::Bool: return Value::integer(v.as_int());
    case Kind::Float:
      if (!std::isfinite(v.as_float()) || std::fabs(v.as_float()) > 9.2e18) return dflt;
      return Value::integer(static_cast<int64_t>(v.as_float()));
    case Kind::String: {
      if (auto i = parse_int(v.as_string(), base ? static_cast<int>(base->as_int()) : 10)) return Value::integer(*i);
      if (auto f = parse_float(v.as_string()); f && std::isfinite(*f) && std::fabs(*f) < 9.2e18)
        return Value::integer(static_cast<int64_t>(*f));
      return dflt;
    }
    default: return dflt;
  }
}

Value f_float(Renderer&, Value& v, CallArgs& args) {
  const Value* fallback = opt(args, 0, "default");
  const Value dflt = fallback ? *fallback : Value::number(0.0);
  if (v.is_number()) return Value::number(v.as_float());
  if (v.is_string())
    if (auto f = parse_float(v.as_string())) return Value::number(*f);
  return dflt;
}

Value f_abs(Renderer&, Value& v, CallArgs&) {
  if (v.kind() == Kind::Float) return Value::number(std::fabs(v.as_float()));
  if (v.is_number()) {
    if (v.as_int() == INT64_MIN) raise("OverflowError", "integer result does not fit in 64 bits");
    return Value::integer(std::llabs(v.as_int()));
  }
  raise("TypeError", fmt::format("bad operand type for abs(): '{}'", python_type_name(v)));
}

// Python's round(x, n) for n >= 0 formats the exact binary value to n decimals (ties to even) and
// reads it back; printing with a fixed precision does the same rounding.
double python_round(double x, int64_t digits) {
  if (!std::isfinite(x) || digits > 300) return x;
  if (digits >= 0) return std::strtod(fmt::format("{:.{}f}", x, digits).c_str(), nullptr);
  const double scale = std::pow(10.0, static_cast<double>(-digits));
  return std::nearbyint(x / scale) * scale;
}

Value f_round(Renderer&, Value& v, CallArgs& args) {
  const Value* precision_v = opt(args, 0, "precision");
  const int64_t precision = precision_v ? precision_v->as_int() : 0;
  const Value* method_v = opt(args, 1, "method");
  const std::string method = method_v ? str(*method_v) : "common";
  if (!v.is_number()) raise("TypeError", fmt::format("type {} doesn't define __round__ method", python_type_name(v)));
  if (method == "common") {
    if (v.kind() != Kind::Float) return Value::integer(v.as_int());
    return Value::number(python_round(v.as_float(), precision));
  }
  if (method != "ceil" && method != "floor") raise("FilterArgumentError", "method must be common, ceil or floor");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_float() * scale;
  return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value f_items(Renderer&, Value& v, CallArgs&) {
  if (v.is_undefined()) return Value::list({});
  if (!v.is_mapping()) raise("TypeError", fmt::format("can only get item pairs from a mapping, not {}", python_type_name(v)));
  List out;
  for (const auto& [k, val] : v.as_dict().items) out.push_back(Value::tuple({k, val}));
  return Value::list(std::move(out));
}

Value f_dictsort(Renderer&, Value& v, CallArgs& args) {
  if (!v.is_mapping()) raise("TypeError", "dictsort needs a mapping");
  const bool case_sensitive = opt_bool(args, 0, "case_sensitive", false);
  const Value* by_v = opt(args, 1, "by");
  const bool by_value = by_v && str(*by_v) == "value";
  if (by_v && !by_value && str(*by_v) != "key") raise("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
  const bool reverse = opt_bool(args, 2, "reverse", false);
  List out;
  for (const auto& [k, val] : v.as_dict().items) out.push_back(Value::tuple({k, val}));
  std::stable_sort(out.begin(), out.end(), [&](const Value& a, const Value& b) {
    const size_t i = by_value ? 1 : 0;
    const int c = python_compare(sort_key(a.as_list()[i], case_sensitive), sort_key(b.as_list()[i], case_sensitive));
    return reverse ? c > 0 : c < 0;
  });
  return Value::list(std::move(out));
}

Value f_map(Renderer& r, Value& v, CallArgs& args) {
  // Jinja2's map and select family skip a false input (None, empty) instead of iterating it.
  const auto items = v.truthy() ? r.iterate(v) : std::make_shared<const List>();
  List out;
  out.reserve(items->size());
  if (const Value* attribute = args.get(99, "attribute")) {
    const Value* dflt = args.get(99, "default");
    const std::string path = str(*attribute);
    for (const auto& item : *items) {
      Value got = attribute_path(r, item, path);
      out.push_back(got.is_undefined() && dflt ? *dflt : got);
    }
    return Value::generator(std::move(out));
  }
  if (args.positional.empty()) raise("FilterArgumentError", "map requires a filter argument");
  const std::string name = str(args.positional[0]);
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.named = args.named;
  for (const auto& item : *items) {
    CallArgs a = rest;
    out.push_back(r.apply_filter(name, item, a));
  }
  return Value::generator(std::move(out));
}

Value select_impl(Renderer& r, Value& v, CallArgs& args, bool by_attribute, bool keep) {
  const auto items = v.truthy() ? r.iterate(v) : std::make_shared<const List>();
  size_t next = 0;
  std::string path;
  if (by_attribute) {
    if (args.positional.empty()) raise("TypeError", "missing attribute name");
    path = str(args.positional[next++]);
  }
  std::string test;
  if (next < args.positional.size()) test = str(args.positional[next++]);
  CallArgs test_args;
  test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(std::min(next, args.positional.size())),
                              args.positional.end());
  test_args.named = args.named;
  List out;
  for (const auto& item : *items) {
    const Value subject = by_attribute ? attribute_path(r, item, path) : item;
    bool ok;
    if (test.empty()) {
      ok = subject.truthy();
    } else {
      CallArgs a = test_args;
      ok = r.apply_test(test, subject, a);
    }
    if (ok == keep) out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Value f_select(Renderer& r, Value& v, CallArgs& a) { return select_impl(r, v, a, false, true); }
Value f_reject(Renderer& r, Value& v, CallArgs& a) { return select_impl(r, v, a, false, false); }
Value f_selectattr(Renderer& r, Value& v, CallArgs& a) { return select_impl(r, v, a, true, true); }
Value f_rejectattr(Renderer& r, Value& v, CallArgs& a) { return select_impl(r, v, a, true, false); }

Value keyed(Renderer& r, const Value& item, const Value* attribute, bool case_sensitive) {
  return sort_key(attribute ? attribute_path(r, item, str(*attribute)) : item, case_sensitive);
}

Value f_unique(Renderer& r, Value& v, CallArgs& args) {
  const bool case_sensitive = opt_bool(args, 0, "case_sensitive", false);
  const Value* attribute = opt(args, 1, "attribute");
  List out, seen;
  const auto iterated = r.iterate(v);  // keep the list alive: range-for would drop the temporary
  for (const auto& item : *iterated) {
    Value key = keyed(r, item, attribute, case_sensitive);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return s.equals(key); })) continue;
    seen.push_back(std::move(key));
    out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Value f_sort(Renderer& r, Value& v, CallArgs& args) {
  const bool reverse = opt_bool(args, 0, "reverse", false);
  const bool case_sensitive = opt_bool(args, 1, "case_sensitive", false);
  const Value* attribute = opt(args, 2, "attribute");
  List items = *r.iterate(v);
  std::vector<std::pair<Value, size_t>> keys;
  for (size_t i = 0; i < items.size(); ++i) keys.emplace_back(keyed(r, items[i], attribute, case_sensitive), i);
  std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
    const int c = python_compare(a.first, b.first);
    return reverse ? c > 0 : c < 0;
  });
  List out;
  for (const auto& [k, i] : keys) out.push_back(items[i]);
  return Value::list(std::move(out));
}

Value f_reverse(Renderer& r, Value& v, CallArgs&) {
  if (v.is_string()) {
    auto cps = utf8::decode(v.as_string());
    std::reverse(cps.begin(), cps.end());
    return Value::string(utf8::encode(cps));
  }
  List items = *r.iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::generator(std::move(items));  // Python's reversed() is an iterator
}

Value f_indent(Renderer& r, Value& v, CallArgs& args) {
  const Value* width_v = opt(args, 0, "width");
  std::string indention = "    ";
  if (width_v) indention = width_v->is_string() ? width_v->as_string() : std::string(static_cast<size_t>(std::clamp<int64_t>(width_v->as_int(), 0, 1024)), ' ');
  const bool first = opt_bool(args, 1, "first", false);
  const bool blank = opt_bool(args, 2, "blank", false);
  const auto lines = splitlines(str(v) + "\n");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    if (i > 0 && (blank || !lines[i].empty())) out += indention;
    out += lines[i];
    if (out.size() > r.limits().max_string_bytes) r.make_string(std::move(out));
  }
  if (first) out = indention + out;
  return r.make_string(std::move(out));
}

Value f_wordcount(Renderer&, Value& v, CallArgs&) {
  const auto cps = utf8::decode(str(v));
  int64_t words = 0;
  bool in_word = false;
  for (uint32_t c : cps) {
    const bool word_char = c == '_' || (c >= '0' && c <= '9') || utf8::is_alpha(c);
    if (word_char && !in_word) ++words;
    in_word = word_char;
  }
  return Value::integer(words);
}

Value f_batch(Renderer& r, Value& v, CallArgs& args) {
  const Value* count_v = args.get(0, "linecount");
  if (!count_v || !count_v->is_number() || count_v->as_int() <= 0) raise("FilterArgumentError", "batch needs a positive linecount");
  const auto count = static_cast<size_t>(count_v->as_int());
  const Value* fill = opt(args, 1, "fill_with");
  List out, current;
  const auto iterated = r.iterate(v);  // keep the list alive: range-for would drop the temporary
  for (const auto& item : *iterated) {
    current.push_back(item);
    if (current.size() == count) {
      out.push_back(Value::list(std::move(current)));
      current.clear();
    }
  }
  if (!current.empty()) {
    if (fill && !fill->is_none())
      while (current.size() < count) current.push_back(*fill);
    out.push_back(Value::list(std::move(current)));
  }
  return Value::generator(std::move(out));
}

Value f_sum(Renderer& r, Value& v, CallArgs& args) {
  const Value* attribute = opt(args, 0, "attribute");
  const Value* start = opt(args, 1, "start");
  Value total = start ? *start : Value::integer(0);
  const auto iterated = r.iterate(v);  // keep the list alive: range-for would drop the temporary
  for (const auto& item : *iterated) total = binary_operation(r, "+", total, attribute ? attribute_path(r, item, str(*attribute)) : item);
  return total;
}

Value min_max(Renderer& r, Value& v, CallArgs& args, bool want_max) {
  const bool case_sensitive = opt_bool(args, 0, "case_sensitive", false);
  const Value* attribute = opt(args, 1, "attribute");
  const auto items = r.iterate(v);
  if (items->empty()) return Value::undefined(fmt::format("No aggregated item, sequence was empty."));
  size_t best = 0;
  Value best_key = keyed(r, (*items)[0], attribute, case_sensitive);
  for (size_t i = 1; i < items->size(); ++i) {
    Value key = keyed(r, (*items)[i], attribute, case_sensitive);
    const int c = python_compare(key, best_key);
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = std::move(key);
    }
  }
  return (*items)[best];
}
Value f_min(Renderer& r, Value& v, CallArgs& a) { return min_max(r, v, a, false); }
Value f_max(Renderer& r, Value& v, CallArgs& a) { return min_max(r, v, a, true); }

Value f_center(Renderer& r, Value& v, CallArgs& args) {
  const Value* width_v = opt(args, 0, "width");
  const auto width = static_cast<size_t>(std::clamp<int64_t>(width_v ? width_v->as_int() : 80, 0, 1 << 20));
  const std::string s = str(v);
  const size_t len = utf8::length(s);
  if (len >= width) return Value::string(s);
  const size_t total = width - len;
  // CPython puts the odd extra space on the left when the string's length is odd... and width even.
  const size_t left = total / 2 + (total & width & 1);
  return r.make_string(std::string(left, ' ') + s + std::string(total - left, ' '));
}

Value f_format(Renderer& r, Value& v, CallArgs& args) {
  Value tuple_args = Value::tuple(args.positional);
  return binary_operation(r, "%", Value::string(str(v)), tuple_args);
}

Value f_attr(Renderer& r, Value& v, CallArgs& args) {
  const Value* name = args.get(0, "name");
  if (!name) raise("TypeError", "attr() needs a name");
  return r.attribute(v, str(*name));
}

const std::unordered_map<std::string_view, FilterFn>& filter_table() {
  static const std::unordered_map<std::string_view, FilterFn> table = {
      {"tojson", f_tojson},     {"trim", f_trim},         {"length", f_length},
      {"count", f_length},      {"first", f_first},       {"last", f_last},
      {"join", f_join},         {"default", f_default},   {"d", f_default},
      {"upper", f_upper},       {"lower", f_lower},       {"capitalize", f_capitalize},
      {"title", f_title},       {"replace", f_replace},   {"list", f_list},
      {"string", f_string},     {"int", f_int},           {"float", f_float},
      {"abs", f_abs},           {"round", f_round},       {"safe", f_safe},
      {"items", f_items},       {"dictsort", f_dictsort}, {"map", f_map},
      {"select", f_select},     {"reject", f_reject},     {"selectattr", f_selectattr},
      {"rejectattr", f_rejectattr}, {"unique", f_unique}, {"sort", f_sort},
      {"reverse", f_reverse},   {"indent", f_indent},     {"wordcount", f_wordcount},
      {"batch", f_batch},       {"sum", f_sum},           {"min", f_min},
      {"max", f_max},           {"center", f_center},     {"escape", f_escape},
      {"e", f_escape},          {"format", f_format},     {"attr", f_attr},
  };
  return table;
}

}  // namespace

bool filter_exists(std::string_view name) { return filter_table().count(name) > 0; }

Value run_filter(Renderer& r, std::string_view name, Value input, CallArgs& args) {
  const auto& table = filter_table();
  const auto it = table.find(name);
  if (it == table.end()) raise("TemplateAssertionError", fmt::format("No filter named '{}'.", name));
  // Jinja2 filters that read their input as a string or sequence fail on Undefined only when it is
  // used; `default`, `length`, `string` and friends accept it.
  return it->second(r, input, args);
}

}  // namespace slmtune::jinja
