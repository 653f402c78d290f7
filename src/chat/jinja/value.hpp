#pragma once
// The values a template computes with, modelled on the Python objects Jinja2 hands around: None,
// bool, int, float, str, list, tuple, dict (insertion-ordered), namespace, callables and Undefined.
// Containers and strings are shared and immutable once built (Hugging Face renders in an
// ImmutableSandboxedEnvironment); only a namespace's attributes can change.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/json.hpp"

namespace slmtune::jinja {

class Value;
class Renderer;
using List = std::vector<Value>;

enum class Kind : uint8_t {
  Undefined,
  None,
  Bool,
  Int,
  Float,
  String,
  List,
  Tuple,
  Generator,  // what map/select/reject yield: iterable once, unprintable as JSON, like Python's
  Dict,
  Namespace,
  Function,
  Loop,
};

struct Dict;
struct Function;
struct LoopState;

class Value {
 public:
  Value() = default;  // Undefined
  static Value undefined(std::string hint = {});
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  // A run of decimal digits used as an index (`x.0`, attribute='items.0'). Python's ints are unbounded:
  // a number past int64 becomes an index no list or dict holds, so the lookup is undefined as in Jinja2.
  static Value index_from_digits(std::string_view digits);
  static Value number(double f);
  static Value string(std::string s);
  // markupsafe's Markup: what `|safe` and `|escape` return. Adding a plain string to one escapes the
  // plain string first, which real templates rely on (`"..."|safe + text`).
  static Value markup(std::string s);
  static Value list(List items);
  static Value tuple(List items);
  static Value generator(List items);
  static Value dict(Dict items);
  static Value make_namespace(Dict items);
  static Value function(std::shared_ptr<Function> fn);
  static Value loop(std::shared_ptr<LoopState> loop);
  static Value from_json(const Json& json);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_markup() const { return kind_ == Kind::String && b_; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_sequence() const { return kind_ == Kind::List || kind_ == Kind::Tuple || kind_ == Kind::Generator; }
  bool is_mapping() const { return kind_ == Kind::Dict || kind_ == Kind::Namespace; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::Bool ? (b_ ? 1 : 0) : i_; }
  double as_float() const { return kind_ == Kind::Float ? f_ : static_cast<double>(as_int()); }
  int64_t container_depth() const { return i_; }  // lists, tuples, generators, dicts
  const std::string& as_string() const { return *static_cast<const std::string*>(ptr_.get()); }
  const List& as_list() const { return *static_cast<const List*>(ptr_.get()); }
  const Dict& as_dict() const { return *static_cast<const Dict*>(ptr_.get()); }
  Dict& namespace_dict() const { return *static_cast<Dict*>(ptr_.get()); }
  std::shared_ptr<const List> shared_list() const { return std::static_pointer_cast<const List>(ptr_); }
  Function& as_function() const { return *static_cast<Function*>(ptr_.get()); }
  LoopState& as_loop() const { return *static_cast<LoopState*>(ptr_.get()); }
  // Why a value is undefined ("'x' is undefined"), for the error raised when it is used.
  std::string undefined_hint() const;

  // Python's bool(x); Undefined is false.
  bool truthy() const;
  // Python's ==, with Undefined equal only to Undefined.
  bool equals(const Value& other) const;

 private:
  Kind kind_ = Kind::Undefined;
  union {
    int64_t i_ = 0;
    double f_;
    bool b_;
  };
  // The string, list, dict, function or loop state, by kind: one pointer keeps a Value at 32 bytes.
  std::shared_ptr<void> ptr_;
};

// An insertion-ordered mapping; chat dicts are small, so a flat vector beats hashing.
struct Dict {
  std::vector<std::pair<Value, Value>> items;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
};

// Arguments of a call, filter or test after the subject: positional, then name=value.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> named;
  // The parameter at `position` or passed as `name`; nullptr when absent.
  const Value* get(size_t position, std::string_view name) const;
  // Fails when more positional arguments than `max_positional` or a name outside `names` was passed.
  void expect_at_most(std::string_view callee, size_t max_positional, std::initializer_list<std::string_view> names) const;
};

struct Function {
  std::string name;
  std::function<Value(Renderer&, CallArgs&)> call;
};

// What `loop` exposes inside a for body.
struct LoopState {
  std::shared_ptr<const List> items;
  size_t index0 = 0;
  size_t depth0 = 0;
};

// Python's str(x) and repr(x), as Jinja prints a value.
std::string to_python_str(const Value& value);
std::string to_python_repr(const Value& value);
void append_python_str(std::string& out, const Value& value);
// Python's repr of a float: shortest round trip, `1.0`, `1e-05`, `inf`.
std::string python_float_repr(double value);
// The Python type name used in error messages ("str", "list", "dict", "NoneType").
std::string_view python_type_name(const Value& value);

struct JsonDumpOptions {
  std::string indent;  // empty with has_indent false: one line
  bool has_indent = false;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// Python's json.dumps with the given options; throws TemplateError for values JSON cannot hold.
std::string python_json_dumps(const Value& value, const JsonDumpOptions& options);

}  // namespace slmtune::jinja
