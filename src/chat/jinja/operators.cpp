// Python's arithmetic, ordering and membership for template values. Integers are 64-bit; where Python
// would grow a big integer we raise OverflowError instead of wrapping silently.
#include <fmt/format.h>

#include <cmath>

#include "chat/jinja/builtins.hpp"
#include "chat/jinja/string_ops.hpp"
#include "chat/jinja/template_error.hpp"

namespace slmtune::jinja {
namespace {

[[noreturn]] void unsupported(std::string_view op, const Value& a, const Value& b) {
  raise("TypeError", fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", op, python_type_name(a),
                                 python_type_name(b)));
}

// Applies a __builtin_*_overflow operation, refusing results beyond 64 bits.
template <class Op>
Value checked_int(Op op, int64_t a, int64_t b) {
  int64_t result = 0;
  if (op(a, b, &result)) raise("OverflowError", "integer result does not fit in 64 bits");
  return Value::integer(result);
}

bool both_int(const Value& a, const Value& b) {
  return (a.kind() == Kind::Int || a.kind() == Kind::Bool) && (b.kind() == Kind::Int || b.kind() == Kind::Bool);
}

double python_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0.0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

Value repeat(const Renderer& r, const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if ((seq.is_string() && seq.as_string().empty()) || (!seq.is_string() && seq.as_list().empty())) times = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(times) > r.limits().max_string_bytes / s.size())
      raise("SecurityError", fmt::format("a string exceeds the limit of {} bytes", r.limits().max_string_bytes));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += s;
    return seq.is_markup() ? Value::markup(std::move(out)) : Value::string(std::move(out));
  }
  const auto& items = seq.as_list();
  if (!items.empty() && static_cast<uint64_t>(times) > r.limits().max_list_items / items.size())
    r.check_list_size(r.limits().max_list_items + 1);
  List out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.kind() == Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

// printf-style `"..." % args`, for the conversions templates use.
Value percent_format(const Renderer& r, const std::string& format, const Value& arg) {
  List args;
  if (arg.kind() == Kind::Tuple) args = arg.as_list();
  else args.push_back(arg);
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) raise("ValueError", "incomplete format");
    const char c = format[i];
    if (c == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) raise("TypeError", "not enough arguments for format string");
    const Value& v = args[next++];
    switch (c) {
      case 's': out += to_python_str(v); break;
      case 'r': out += to_python_repr(v); break;
      case 'd':
      case 'i':
        if (!v.is_number()) raise("TypeError", fmt::format("%d format: a real number is required, not {}", python_type_name(v)));
        out += fmt::format("{}", v.kind() == Kind::Float ? static_cast<int64_t>(v.as_float()) : v.as_int());
        break;
      case 'f':
        if (!v.is_number()) raise("TypeError", fmt::format("must be real number, not {}", python_type_name(v)));
        out += fmt::format("{:.6f}", v.as_float());
        break;
      default: raise("ValueError", fmt::format("unsupported format character '{}'", c));
    }
  }
  if (next < args.size()) raise("TypeError", "not all arguments converted during string formatting");
  return r.make_string(std::move(out));
}

}  // namespace

Value negate(const Value& v) {
  if (v.is_undefined()) raise("UndefinedError", v.undefined_hint());
  if (v.kind() == Kind::Float) return Value::number(-v.as_float());
  if (v.is_number()) {
    if (v.as_int() == INT64_MIN) raise("OverflowError", "integer result does not fit in 64 bits");
    return Value::integer(-v.as_int());
  }
  raise("TypeError", fmt::format("bad operand type for unary -: '{}'", python_type_name(v)));
}

Value binary_operation(const Renderer& r, std::string_view op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = to_python_str(a);
    append_python_str(s, b);
    return r.make_string(std::move(s));
  }
  if (a.is_undefined()) raise("UndefinedError", a.undefined_hint());
  if (b.is_undefined()) raise("UndefinedError", b.undefined_hint());
  const bool ints = both_int(a, b);
  const bool numbers = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) return checked_int([](int64_t x, int64_t y, int64_t* r) { return __builtin_add_overflow(x, y, r); }, a.as_int(), b.as_int());
    if (numbers) return Value::number(a.as_float() + b.as_float());
    if (a.is_string() && b.is_string()) {
      if (a.is_markup() == b.is_markup()) {
        Value joined = r.make_string(a.as_string() + b.as_string());
        return a.is_markup() ? Value::markup(joined.as_string()) : joined;
      }
      // Markup + str escapes the plain side, as markupsafe does.
      std::string joined = a.is_markup() ? a.as_string() + html_escape(b.as_string()) : html_escape(a.as_string()) + b.as_string();
      return Value::markup(r.make_string(std::move(joined)).as_string());
    }
    if ((a.kind() == Kind::List && b.kind() == Kind::List) || (a.kind() == Kind::Tuple && b.kind() == Kind::Tuple)) {
      r.check_list_size(a.as_list().size() + b.as_list().size());
      List out = a.as_list();
      out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      return a.kind() == Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    if (a.is_string())
      raise("TypeError", fmt::format("can only concatenate str (not \"{}\") to str", python_type_name(b)));
    if (a.kind() == Kind::List)
      raise("TypeError", fmt::format("can only concatenate list (not \"{}\") to list", python_type_name(b)));
    unsupported("+", a, b);
  }
  if (op == "-") {
    if (ints) return checked_int([](int64_t x, int64_t y, int64_t* r) { return __builtin_sub_overflow(x, y, r); }, a.as_int(), b.as_int());
    if (numbers) return Value::number(a.as_float() - b.as_float());
    unsupported("-", a, b);
  }
  if (op == "*") {
    if (ints) return checked_int([](int64_t x, int64_t y, int64_t* r) { return __builtin_mul_overflow(x, y, r); }, a.as_int(), b.as_int());
    if (numbers) return Value::number(a.as_float() * b.as_float());
    const bool a_seq = a.is_string() || a.kind() == Kind::List || a.kind() == Kind::Tuple;
    const bool b_seq = b.is_string() || b.kind() == Kind::List || b.kind() == Kind::Tuple;
    if (a_seq && (b.kind() == Kind::Int || b.kind() == Kind::Bool)) return repeat(r, a, b.as_int());
    if (b_seq && (a.kind() == Kind::Int || a.kind() == Kind::Bool)) return repeat(r, b, a.as_int());
    unsupported("*", a, b);
  }
  if (op == "/") {
    if (!numbers) unsupported("/", a, b);
    if (b.as_float() == 0.0) raise("ZeroDivisionError", "division by zero");
    return Value::number(a.as_float() / b.as_float());
  }
  if (op == "//") {
    if (!numbers) unsupported("//", a, b);
    if (b.as_float() == 0.0) raise("ZeroDivisionError", "integer division or modulo by zero");
    if (ints) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (x == INT64_MIN && y == -1) raise("OverflowError", "integer result does not fit in 64 bits");
      int64_t q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      return Value::integer(q);
    }
    return Value::number(std::floor(a.as_float() / b.as_float()));
  }
  if (op == "%") {
    if (a.is_string()) return percent_format(r, a.as_string(), b);
    if (!numbers) unsupported("%", a, b);
    if (b.as_float() == 0.0) raise("ZeroDivisionError", "integer division or modulo by zero");
    if (ints) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (y == -1) return Value::integer(0);
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value::integer(m);
    }
    return Value::number(python_fmod(a.as_float(), b.as_float()));
  }
  if (op == "**") {
    if (!numbers) unsupported("** or pow()", a, b);
    if (ints && b.as_int() >= 0) {
      int64_t base = a.as_int(), exp = b.as_int(), acc = 1;
      while (exp > 0) {
        if (exp & 1)
          if (__builtin_mul_overflow(acc, base, &acc)) raise("OverflowError", "integer result does not fit in 64 bits");
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base))
          raise("OverflowError", "integer result does not fit in 64 bits");
      }
      return Value::integer(acc);
    }
    return Value::number(std::pow(a.as_float(), b.as_float()));
  }
  raise("TypeError", fmt::format("unknown operator '{}'", op));
}

int python_compare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (both_int(a, b)) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    const double x = a.as_float(), y = b.as_float();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());  // UTF-8 byte order is code point order
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if ((a.kind() == Kind::List || a.kind() == Kind::Tuple) && a.kind() == b.kind()) {
    const auto& x = a.as_list();
    const auto& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (x[i].equals(y[i])) continue;
      return python_compare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  if (a.is_undefined()) raise("UndefinedError", a.undefined_hint());
  if (b.is_undefined()) raise("UndefinedError", b.undefined_hint());
  raise("TypeError", fmt::format("'<' not supported between instances of '{}' and '{}'", python_type_name(a),
                                 python_type_name(b)));
}

bool python_contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::String:
      if (!item.is_string())
        raise("TypeError", fmt::format("'in <string>' requires string as left operand, not {}", python_type_name(item)));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Kind::List:
    case Kind::Tuple:
    case Kind::Generator:
      for (const auto& v : container.as_list())
        if (v.equals(item)) return true;
      return false;
    case Kind::Dict:
    case Kind::Namespace: return container.as_dict().find(item) != nullptr;
    case Kind::Undefined: return false;
    default:
      raise("TypeError", fmt::format("argument of type '{}' is not iterable", python_type_name(container)));
  }
}

}  // namespace slmtune::jinja
