#include "infer/json_schema_grammar.hpp"

#include <algorithm>
#include <bit>

namespace slmtune::infer {
namespace {

// Schemas deeper than this are matched as any value below that depth (the validator judges them).
constexpr int kMaxCompileDepth = 64;
// Digits in a number's integer or fraction part, and in its exponent: 1e199 at most, well inside a
// double (a value a parser would refuse as an overflow is never offered).
constexpr uint16_t kMaxDigits = 100;
constexpr uint16_t kMaxExponentDigits = 2;
// Object properties are tracked in one 64-bit mask; a wider object is matched as any object.
constexpr size_t kMaxProperties = 64;

// The JSON type a value's first byte commits to; -1 when no value starts with it.
enum ValueClass { kString = 0, kObject = 1, kArray = 2, kNumber = 3, kBoolean = 4, kNull = 5 };
int value_class(unsigned char byte) {
  switch (byte) {
    case '"': return kString;
    case '{': return kObject;
    case '[': return kArray;
    case 't': case 'f': return kBoolean;
    case 'n': return kNull;
    default: return byte == '-' || (byte >= '0' && byte <= '9') ? kNumber : -1;
  }
}

enum FrameType : uint8_t { kValue, kObjectFrame, kArrayFrame, kStringFrame, kNumberFrame, kLiteralFrame };
enum ObjectPhase : uint8_t { kOpen, kKey, kColon, kMember, kAfterMember, kNeedKey };
enum ArrayPhase : uint8_t { kArrayOpen, kItem, kAfterItem };
// String phases: kChars, then after a backslash kEscape, kHex0..kHex3 inside \uXXXX, and
// kLowBackslash where a high surrogate must be followed by "\u" (the 'u' is then read in kEscape).
enum StringPhase : uint8_t { kChars, kEscape, kHex0, kHex1, kHex2, kHex3, kLowBackslash };
// Number phases, as in the JSON grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
enum NumberPhase : uint8_t { kMinus, kZero, kDigits, kPoint, kFraction, kExponent, kExponentSign, kExponentDigits };

bool is_digit(unsigned char byte) { return byte >= '0' && byte <= '9'; }
int hex_value(unsigned char byte) {
  if (is_digit(byte)) return byte - '0';
  if (byte >= 'a' && byte <= 'f') return byte - 'a' + 10;
  if (byte >= 'A' && byte <= 'F') return byte - 'A' + 10;
  return -1;
}

// The ways a model may spell `value`: as Python's json.dumps prints it, and ASCII-only.
std::vector<std::string> spellings_of(const Json& value) {
  std::vector<std::string> out{python_json_dumps(value)};
  std::string ascii = value.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
  if (value.is_structured()) ascii = python_json_dumps(parse_json(ascii, "enum"));
  if (ascii != out.front()) out.push_back(std::move(ascii));
  return out;
}

bool allowed(const CompiledSchema::Spelling& s, uint64_t excluded) {
  return s.value >= 64 || ((excluded >> s.value) & 1) == 0;
}

}  // namespace

// ---------------------------------------------------------------- compiling

int CompiledSchema::add(Node node) {
  nodes_.push_back(std::move(node));
  return static_cast<int>(nodes_.size()) - 1;
}

int CompiledSchema::literals_node(const std::vector<Json>& values) {
  Node node;
  node.kind = Kind::literals;
  for (size_t i = 0; i < values.size(); ++i)
    for (auto& text : spellings_of(values[i])) node.literals.push_back({std::move(text), static_cast<int>(i)});
  return add(std::move(node));
}

void CompiledSchema::add_generic_nodes() {
  Node any;
  any.kind = Kind::one_of;
  any_ = add(std::move(any));
  Node string;
  string.kind = Kind::string;
  generic_[kString] = add(std::move(string));
  Node object;  // as the validator reads a schema that lists no properties: no key is known
  object.kind = Kind::object;
  generic_[kObject] = add(std::move(object));
  Node open;
  open.kind = Kind::object;
  open.extra = any_;
  open_object_ = add(std::move(open));
  Node array;
  array.kind = Kind::array;
  array.items = any_;
  generic_[kArray] = add(std::move(array));
  Node number;
  number.kind = Kind::number;
  generic_[kNumber] = add(std::move(number));
  generic_[kBoolean] = literals_node({Json(true), Json(false)});
  generic_[kNull] = literals_node({Json(nullptr)});
  std::copy(std::begin(generic_), std::end(generic_), nodes_[static_cast<size_t>(any_)].by_first_byte);
}

int CompiledSchema::merge(const std::vector<int>& branches) {
  Node merged;
  merged.kind = Kind::one_of;
  auto claim = [&](int value_class, int index) {
    int& slot = merged.by_first_byte[value_class];
    if (slot == -1 || slot == index) {
      slot = index;
    } else if (node(slot).kind == Kind::literals && node(index).kind == Kind::literals) {
      Node both = node(slot);  // two enums of one type: either's values
      for (const auto& s : node(index).literals) both.literals.push_back(s);
      slot = add(std::move(both));
    } else {
      // Two schemas of one JSON type: the first byte cannot choose, so either's values are taken.
      slot = value_class == kObject ? open_object_ : generic_[value_class];
    }
  };
  for (int index : branches) {
    const Node& branch = node(index);
    switch (branch.kind) {
      case Kind::nothing: break;
      case Kind::object: case Kind::call: claim(kObject, index); break;
      case Kind::array: claim(kArray, index); break;
      case Kind::string: claim(kString, index); break;
      case Kind::number: case Kind::integer: claim(kNumber, index); break;
      case Kind::literals: {
        bool claimed[6] = {};
        const std::vector<Spelling> literals = branch.literals;  // claim() may add nodes and move `branch`
        for (const auto& s : literals) {
          const int c = value_class(static_cast<unsigned char>(s.text.front()));
          if (c >= 0 && !claimed[c]) claim(c, index), claimed[c] = true;
        }
        break;
      }
      case Kind::one_of: {
        const Node inner = branch;  // claim() may add nodes and move `branch`
        for (int c = 0; c < 6; ++c)
          if (inner.by_first_byte[c] != -1) claim(c, inner.by_first_byte[c]);
        break;
      }
    }
  }
  return add(std::move(merged));
}

int CompiledSchema::compile_type(const Json& schema, const std::string& type, int depth) {
  if (type == "string") return generic_[kString];
  if (type == "number") return generic_[kNumber];
  if (type == "boolean") return generic_[kBoolean];
  if (type == "null") return generic_[kNull];
  if (type == "integer") {
    Node integer;
    integer.kind = Kind::integer;
    return add(std::move(integer));
  }
  if (type == "array") {
    Node array;
    array.kind = Kind::array;
    auto items = schema.find("items");
    array.items = items != schema.end() ? compile_node(*items, depth + 1) : any_;
    return add(std::move(array));
  }
  if (type != "object") return any_;
  Node object;
  object.kind = Kind::object;
  if (auto extra = schema.find("additionalProperties"); extra != schema.end() && *extra != false)
    object.extra = extra->is_object() ? compile_node(*extra, depth + 1) : any_;
  auto add_property = [&](const std::string& name, int value_node) {
    const int index = static_cast<int>(object.key_nodes.size());
    for (auto& text : spellings_of(Json(name))) object.keys.push_back({std::move(text), index});
    object.key_nodes.push_back(value_node);
    object.required.push_back(false);
  };
  auto properties = schema.find("properties");
  if (properties != schema.end() && properties->is_object()) {
    for (const auto& [name, sub] : properties->items())
      if (sub != false) add_property(name, compile_node(sub, depth + 1));
  }
  if (auto required = schema.find("required"); required != schema.end() && required->is_array()) {
    for (const auto& name : *required) {
      if (!name.is_string()) continue;
      const std::string spelled = python_json_dumps(name);
      auto it = std::find_if(object.keys.begin(), object.keys.end(), [&](const Spelling& s) { return s.text == spelled; });
      if (it == object.keys.end()) {
        // Required but not listed: only an additional property can give it (or nothing can).
        Node none;
        add_property(name.get<std::string>(), object.extra != -1 ? object.extra : add(std::move(none)));
        it = object.keys.end() - 1;
      }
      object.required[static_cast<size_t>(it->value)] = true;
    }
  }
  if (object.key_nodes.size() > kMaxProperties) return generic_[kObject];
  return add(std::move(object));
}

int CompiledSchema::compile_node(const Json& schema, int depth) {
  if (depth > kMaxCompileDepth) return any_;
  if (schema.is_boolean()) return schema.get<bool>() ? any_ : add(Node{});
  if (!schema.is_object()) return any_;
  if (auto it = schema.find("const"); it != schema.end()) return literals_node({*it});
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array() && !it->empty())
    return literals_node(std::vector<Json>(it->begin(), it->end()));
  for (const char* combiner : {"anyOf", "oneOf"}) {
    auto it = schema.find(combiner);
    if (it == schema.end() || !it->is_array() || it->empty()) continue;
    std::vector<int> branches;
    for (const auto& sub : *it) branches.push_back(compile_node(sub, depth + 1));
    return merge(branches);
  }
  auto type = schema.find("type");
  if (type != schema.end() && type->is_string()) return compile_type(schema, type->get<std::string>(), depth);
  if (type != schema.end() && type->is_array()) {
    std::vector<int> branches;
    for (const auto& t : *type)
      if (t.is_string()) branches.push_back(compile_type(schema, t.get<std::string>(), depth));
    return merge(branches);
  }
  // No type: the keywords say which one is meant (the validator alone would take any type).
  if (schema.contains("properties") || schema.contains("required") || schema.contains("additionalProperties"))
    return compile_type(schema, "object", depth);
  if (schema.contains("items")) return compile_type(schema, "array", depth);
  return any_;
}

CompiledSchema CompiledSchema::compile(const Json& schema) {
  CompiledSchema out;
  out.add_generic_nodes();
  out.root_ = out.compile_node(schema, 0);
  return out;
}

int CompiledSchema::object_of(int index) {
  const Node& n = node(index);
  if (n.kind == Kind::object) return index;
  if (n.kind == Kind::one_of && n.by_first_byte[kObject] != -1) return n.by_first_byte[kObject];
  return generic_[kObject];
}

CompiledSchema CompiledSchema::compile_arguments(const Json& parameters) {
  CompiledSchema out;
  out.add_generic_nodes();
  out.root_ = out.object_of(out.compile_node(parameters, 0));
  return out;
}

CompiledSchema CompiledSchema::compile_call(const std::vector<std::string>& names, const std::vector<Json>& parameters) {
  CompiledSchema out;
  out.add_generic_nodes();
  Node call;
  call.kind = Kind::call;
  call.ordered = true;
  for (auto& text : spellings_of(Json("name"))) call.keys.push_back({std::move(text), 0});
  for (auto& text : spellings_of(Json("arguments"))) call.keys.push_back({std::move(text), 1});
  std::vector<Json> name_values(names.begin(), names.end());
  call.key_nodes = {out.literals_node(name_values), -1};  // the arguments' node depends on the name
  call.required = {true, true};
  for (const auto& p : parameters) call.call_arguments.push_back(out.object_of(out.compile_node(p, 1)));
  out.root_ = out.add(std::move(call));
  return out;
}

// ---------------------------------------------------------------- matching

SchemaMatcher::SchemaMatcher(const CompiledSchema* schema) : schema_(schema) { push_value(schema->root()); }

bool SchemaMatcher::push_value(int node) {
  if (frames_.size() >= kMaxNesting) return false;
  Frame frame;
  frame.node = node;
  frame.type = kValue;
  frames_.push_back(std::move(frame));
  return true;
}

bool SchemaMatcher::push_literal(const std::vector<CompiledSchema::Spelling>* spellings, uint64_t excluded, int node) {
  if (frames_.size() >= kMaxNesting) return false;
  Frame frame;
  frame.node = node;
  frame.type = kLiteralFrame;
  frame.spellings = spellings;
  frame.excluded = excluded;
  frames_.push_back(std::move(frame));
  return true;
}

bool SchemaMatcher::whitespace(Frame& frame, unsigned char byte) {
  if (!is_json_whitespace(byte)) {
    frame.ws = 0;
    return false;
  }
  ++frame.ws;
  return true;
}

bool SchemaMatcher::frame_can_end(const Frame& frame) const {
  if (frame.type == kNumberFrame)
    return frame.phase == kZero || frame.phase == kDigits || frame.phase == kFraction || frame.phase == kExponentDigits;
  if (frame.type == kLiteralFrame)
    return std::any_of(frame.spellings->begin(), frame.spellings->end(),
                       [&](const auto& s) { return allowed(s, frame.excluded) && s.text == frame.text; });
  return false;
}

bool SchemaMatcher::in_string_text() const {
  if (frames_.empty()) return false;
  const Frame& f = frames_.back();
  return f.type == kStringFrame && !f.is_key && f.phase == kChars && f.utf8_left == 0;
}

bool SchemaMatcher::complete() const { return done_ || (frames_.size() == 1 && frame_can_end(frames_.front())); }

// The top frame is done: remove it and move its parent past the value.
void SchemaMatcher::pop(const Frame& finished) {
  if (frames_.empty()) {
    done_ = true;
    return;
  }
  Frame& parent = frames_.back();
  if (parent.type == kArrayFrame) {
    parent.phase = kAfterItem;
    return;
  }
  // An object (or call) frame: the child was a key or a member's value.
  const CompiledSchema::Node& node = schema_->node(parent.node);
  if (parent.phase == kKey) {
    parent.current = -1;
    for (const auto& s : node.keys)
      if (s.text == finished.text) parent.current = s.value;
    if (parent.current >= 0) parent.seen |= uint64_t{1} << parent.current;
    parent.phase = kColon;
    return;
  }
  if (node.kind == CompiledSchema::Kind::call && parent.current == 0)
    for (const auto& s : *finished.spellings)
      if (s.text == finished.text) parent.chosen = s.value;
  parent.phase = kAfterMember;
}

bool SchemaMatcher::start_value(Frame& frame, unsigned char byte) {
  const CompiledSchema::Node* node = &schema_->node(frame.node);
  while (node->kind == CompiledSchema::Kind::one_of) {
    const int c = value_class(byte);
    if (c < 0 || node->by_first_byte[c] < 0) return false;
    frame.node = node->by_first_byte[c];
    node = &schema_->node(frame.node);
  }
  frame.ws = 0;
  frame.phase = 0;
  switch (node->kind) {
    case CompiledSchema::Kind::nothing:
    case CompiledSchema::Kind::one_of:
      return false;
    case CompiledSchema::Kind::object:
    case CompiledSchema::Kind::call:
      frame.type = kObjectFrame;
      frame.phase = kOpen;
      return byte == '{';
    case CompiledSchema::Kind::array:
      frame.type = kArrayFrame;
      frame.phase = kArrayOpen;
      return byte == '[';
    case CompiledSchema::Kind::string:
      frame.type = kStringFrame;
      frame.phase = kChars;
      return byte == '"';
    case CompiledSchema::Kind::number:
    case CompiledSchema::Kind::integer:
      frame.type = kNumberFrame;
      frame.phase = byte == '-' ? kMinus : byte == '0' ? kZero : kDigits;
      frame.digits = 1;
      return byte == '-' || is_digit(byte);
    case CompiledSchema::Kind::literals:
      frame.type = kLiteralFrame;
      frame.spellings = &node->literals;
      return feed_frame(byte);
  }
  return false;
}

bool SchemaMatcher::feed(unsigned char byte) {
  if (frames_.empty()) return false;
  return feed_frame(byte);
}

bool SchemaMatcher::feed_frame(unsigned char byte) {
  Frame& f = frames_.back();
  const CompiledSchema::Node& node = schema_->node(f.node);
  // A frame that may end here (a number, a literal such as 1 of [1, 10]) hands a byte that cannot
  // continue it to its parent.
  auto end_and_refeed = [&]() {
    if (!frame_can_end(f)) return false;
    Frame finished = std::move(frames_.back());
    frames_.pop_back();
    pop(finished);
    return !frames_.empty() && feed_frame(byte);
  };
  auto finish = [&]() {
    Frame finished = std::move(frames_.back());
    frames_.pop_back();
    pop(finished);
    return true;
  };

  switch (f.type) {
    case kValue:
      if (whitespace(f, byte)) return f.ws <= kMaxWhitespaceRun;
      return start_value(f, byte);

    case kLiteralFrame: {
      const std::string next = f.text + static_cast<char>(byte);
      bool prefix = false, longer = false;
      for (const auto& s : *f.spellings) {
        if (!allowed(s, f.excluded) || !s.text.starts_with(next)) continue;
        prefix = true;
        longer = longer || s.text.size() > next.size();
      }
      if (!prefix) return end_and_refeed();
      f.text = next;
      return longer ? true : finish();
    }

    case kNumberFrame: {
      const bool integer = node.kind == CompiledSchema::Kind::integer;
      // A digit run, counted in `digits`: bounded so that the number stays within what a double holds
      // (a JSON parser refuses 1e99999 as an overflow).
      auto digit = [&](uint8_t phase, uint16_t most) {
        if (f.phase != phase) f.phase = phase, f.digits = 0;
        return ++f.digits <= most;
      };
      switch (f.phase) {
        case kMinus:
          if (byte == '0') return f.phase = kZero, true;
          return is_digit(byte) && digit(kDigits, kMaxDigits);
        case kZero:
        case kDigits:
          if (f.phase == kDigits && is_digit(byte)) return digit(kDigits, kMaxDigits);
          if (!integer && byte == '.') return f.phase = kPoint, true;
          if (!integer && (byte == 'e' || byte == 'E')) return f.phase = kExponent, true;
          return end_and_refeed();
        case kPoint:
          return is_digit(byte) && digit(kFraction, kMaxDigits);
        case kFraction:
          if (is_digit(byte)) return digit(kFraction, kMaxDigits);
          if (byte == 'e' || byte == 'E') return f.phase = kExponent, true;
          return end_and_refeed();
        case kExponent:
          if (byte == '+' || byte == '-') return f.phase = kExponentSign, true;
          return is_digit(byte) && digit(kExponentDigits, kMaxExponentDigits);
        case kExponentSign:
          return is_digit(byte) && digit(kExponentDigits, kMaxExponentDigits);
        case kExponentDigits:
          return is_digit(byte) ? digit(kExponentDigits, kMaxExponentDigits) : end_and_refeed();
      }
      return false;
    }

    case kStringFrame: {
      if (f.is_key) f.text += static_cast<char>(byte);
      switch (f.phase) {
        case kChars:
          if (f.utf8_left > 0) {
            if (byte < f.utf8_lo || byte > f.utf8_hi) return false;
            --f.utf8_left;
            f.utf8_lo = 0x80, f.utf8_hi = 0xBF;
            return true;
          }
          if (byte == '"') return finish();
          if (byte == '\\') return f.phase = kEscape, true;
          if (byte < 0x20) return false;
          if (byte < 0x80) return true;
          // The lead byte of a UTF-8 sequence, and the range its second byte must fall in (no
          // overlong forms, no surrogates, nothing above U+10FFFF: what a strict parser accepts).
          if (byte >= 0xC2 && byte <= 0xDF) return f.utf8_left = 1, true;
          if (byte >= 0xE0 && byte <= 0xEF) {
            f.utf8_left = 2;
            if (byte == 0xE0) f.utf8_lo = 0xA0;
            if (byte == 0xED) f.utf8_hi = 0x9F;
            return true;
          }
          if (byte >= 0xF0 && byte <= 0xF4) {
            f.utf8_left = 3;
            if (byte == 0xF0) f.utf8_lo = 0x90;
            if (byte == 0xF4) f.utf8_hi = 0x8F;
            return true;
          }
          return false;
        case kEscape:
          if (byte == 'u') return f.phase = kHex0, f.hex = 0, true;
          if (f.want_low) return false;
          return std::string_view("\"\\/bfnrt").find(static_cast<char>(byte)) != std::string_view::npos &&
                 (f.phase = kChars, true);
        case kHex0: case kHex1: case kHex2: case kHex3: {
          const int digit = hex_value(byte);
          if (digit < 0) return false;
          f.hex = static_cast<uint16_t>(f.hex * 16 + digit);
          const int left = kHex3 - f.phase;  // hex digits still to come
          const uint32_t lo = uint32_t{f.hex} << (4 * left), hi = lo + (uint32_t{1} << (4 * left)) - 1;
          // After a high surrogate only a low one (DC00-DFFF) may come; a low one alone is invalid.
          if (f.want_low ? (hi < 0xDC00 || lo > 0xDFFF) : (lo >= 0xDC00 && hi <= 0xDFFF)) return false;
          if (left > 0) return ++f.phase, true;
          if (f.want_low) {
            f.want_low = false;
            f.phase = kChars;
          } else if (f.hex >= 0xD800 && f.hex <= 0xDBFF) {
            f.want_low = true;
            f.phase = kLowBackslash;
          } else {
            f.phase = kChars;
          }
          return true;
        }
        case kLowBackslash:
          return byte == '\\' && (f.phase = kEscape, true);
      }
      return false;
    }

    case kArrayFrame:
      if (whitespace(f, byte)) return f.ws <= kMaxWhitespaceRun;
      if (f.phase == kAfterItem && byte == ',') {
        f.phase = kItem;
        return push_value(node.items);
      }
      if (byte == ']' && f.phase != kItem) return finish();
      if (f.phase == kArrayOpen) {
        f.phase = kItem;
        return push_value(node.items) && feed_frame(byte);
      }
      return false;

    case kObjectFrame: {
      if (whitespace(f, byte)) return f.ws <= kMaxWhitespaceRun;
      const auto given = static_cast<size_t>(std::popcount(f.seen));
      const size_t declared = node.key_nodes.size();
      auto required_given = [&] {
        for (size_t i = 0; i < declared; ++i)
          if (node.required[i] && !((f.seen >> i) & 1)) return false;
        return true;
      };
      auto start_key = [&]() {
        if (node.extra != -1) {  // any name may come: read a string, then look it up
          if (frames_.size() >= kMaxNesting) return false;
          Frame key;
          key.node = f.node;
          key.type = kStringFrame;
          key.is_key = true;
          key.text = "\"";
          f.phase = kKey;
          frames_.push_back(std::move(key));
          return true;
        }
        uint64_t excluded = f.seen;
        if (node.ordered) excluded = ~(uint64_t{1} << given);
        f.phase = kKey;
        const int object_node = f.node;  // push_literal may move `f`
        return push_literal(&node.keys, excluded, object_node) && feed_frame(byte);
      };
      switch (f.phase) {
        case kOpen:
        case kAfterMember:
          if (byte == '}') return required_given() && finish();
          if (f.phase == kAfterMember) {
            if (byte != ',') return false;
            if (node.extra == -1 && given >= declared) return false;  // nothing may follow
            f.phase = kNeedKey;
            return true;
          }
          return byte == '"' && start_key();
        case kNeedKey:
          return byte == '"' && start_key();
        case kColon: {
          if (byte != ':') return false;
          int value = f.current >= 0 ? node.key_nodes[static_cast<size_t>(f.current)] : node.extra;
          if (node.kind == CompiledSchema::Kind::call && f.current == 1)
            value = f.chosen >= 0 ? node.call_arguments[static_cast<size_t>(f.chosen)] : -1;
          if (value < 0) return false;
          f.phase = kMember;
          return push_value(value);
        }
      }
      return false;
    }
  }
  return false;
}

}  // namespace slmtune::infer
