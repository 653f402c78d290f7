#pragma once
// Constrained decoding, part 1: a JSON schema compiled into a byte-level pushdown matcher that says,
// byte by byte, whether text can still become a JSON value the schema accepts. The call grammar
// (infer/call_grammar.hpp) runs one over a function's arguments while the model writes them, so a
// token that would break the JSON or leave the schema is never chosen (as llama.cpp's GBNF grammars
// and Outlines do, without a grammar language in between: function schemas are the only input).
//
// The subset is the one functions/function_schema.hpp validates: type (one or a list), enum, const,
// properties, required, additionalProperties (closed unless true or a schema, as the validator has
// it), items, anyOf/oneOf. What the matcher accepts is what that validator accepts, except:
//   * bounds it leaves to the validator: minimum/maximum, minLength/maxLength, minItems/maxItems;
//   * allOf is not applied;
//   * alternatives of one JSON type (anyOf of two objects) cannot be told apart by their first byte,
//     so they are matched as any value of that type (an object: any keys);
//   * a key given twice is refused (a JSON parser would keep the last);
//   * a number has at most 100 digits before and after its point and 2 in its exponent.
// Like the validator, an object whose schema lists no properties and no additionalProperties takes no
// key at all: {} is the only object an empty schema ({}, true, no type) accepts.
// An enum value is matched in the spellings models write: as python_json_dumps prints it, and with
// non-ASCII characters as \uXXXX escapes (ensure_ascii). Whitespace between tokens is allowed, at most
// kMaxWhitespaceRun bytes in a row, so that a model cannot pad forever.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/json.hpp"

namespace slmtune::infer {

inline constexpr int kMaxWhitespaceRun = 32;
// The bytes JSON counts as whitespace between tokens.
inline constexpr std::string_view kJsonWhitespace = " \t\n\r";
inline bool is_json_whitespace(unsigned char byte) {
  return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r';
}
inline constexpr size_t kMaxNesting = 32;  // frames deep; deeper values are refused

class CompiledSchema {
 public:
  // any is a one_of over the generic node of each JSON type; true/false/null are literals.
  enum class Kind : uint8_t { nothing, object, array, string, number, integer, literals, one_of, call };

  struct Spelling {
    std::string text;  // raw JSON text, quotes included for a string
    int value = 0;     // which property / enum value / function it spells
  };

  struct Node {
    Kind kind = Kind::nothing;
    // object (and call): property names and their value nodes; call: {"name", "arguments"}
    std::vector<Spelling> keys;
    std::vector<int> key_nodes;
    std::vector<bool> required;
    int extra = -1;        // object: node of additional properties; -1 closes the object
    bool ordered = false;  // call: keys in their listed order
    int items = -1;        // array
    std::vector<Spelling> literals;  // literals: the values' spellings; call: the function names
    std::vector<int> call_arguments;  // call: arguments node per function
    int by_first_byte[6] = {-1, -1, -1, -1, -1, -1};  // one_of: node per ValueClass
  };

  // Compiles `schema` (its errors are the validator's business: a keyword of the wrong shape is
  // ignored, never fatal). The root is node root().
  static CompiledSchema compile(const Json& schema);
  // A function's parameters: like compile, but always an object, since a call's arguments must be
  // one (a schema that allows other types keeps its object branch; one without any allows {}).
  static CompiledSchema compile_arguments(const Json& parameters);
  // The body of a Hermes <tool_call> block: {"name": one of `names`, "arguments": that function's
  // `parameters`}, name first.
  static CompiledSchema compile_call(const std::vector<std::string>& names, const std::vector<Json>& parameters);

  int root() const { return root_; }
  const Node& node(int index) const { return nodes_[static_cast<size_t>(index)]; }

 private:
  int add(Node node);
  int compile_node(const Json& schema, int depth);
  int object_of(int node);
  int compile_type(const Json& schema, const std::string& type, int depth);
  int literals_node(const std::vector<Json>& values);
  int merge(const std::vector<int>& branches);
  void add_generic_nodes();

  std::vector<Node> nodes_;
  int root_ = -1;
  int any_ = -1;
  int generic_[6] = {-1, -1, -1, -1, -1, -1};  // the any-value node of each ValueClass
  int open_object_ = -1;                        // an object with any keys and values
};

// Reads one JSON value byte by byte. Copy it to try a continuation; a copy that was fed a refused
// byte is spoiled (feed returned false) and must be dropped.
class SchemaMatcher {
 public:
  SchemaMatcher() = default;
  // Reads one value of the schema's root node.
  explicit SchemaMatcher(const CompiledSchema* schema);

  // Whether `byte` can continue the text towards an accepted value.
  bool feed(unsigned char byte);
  // The bytes so far are a whole accepted value (a number may still go on: 12 can become 123).
  bool complete() const;
  // No byte can follow: the value is complete and closed (an object, string or literal).
  bool finished() const { return frames_.empty() && done_; }
  // Inside a string value, between characters: any printable UTF-8 other than '"' and '\\' is taken
  // and leaves the matcher as it is (a key is excluded: its bytes are kept).
  bool in_string_text() const;

 private:
  struct Frame {
    int node = -1;
    uint8_t type = 0;   // FrameType
    uint8_t phase = 0;  // the frame type's own state
    uint8_t ws = 0;     // whitespace bytes in the current run
    uint8_t utf8_left = 0;
    uint8_t utf8_lo = 0x80, utf8_hi = 0xBF;
    uint16_t hex = 0;        // \uXXXX value so far
    uint16_t digits = 0;     // number: digits in the current run (integer, fraction or exponent)
    bool want_low = false;   // a high surrogate was read: \uDC00-\uDFFF must follow
    bool is_key = false;     // a string frame that reads an object key (kept in text)
    const std::vector<CompiledSchema::Spelling>* spellings = nullptr;  // literal frame
    uint64_t excluded = 0;   // literal frame: spellings' values not allowed (keys already given)
    int current = -1;        // object: the property being read (-1: an additional one)
    int chosen = -1;         // call: the function named
    uint64_t seen = 0;       // object: properties given
    std::string text;        // literal frame: bytes so far; key string: the key's raw text
  };

  bool feed_frame(unsigned char byte);
  bool start_value(Frame& frame, unsigned char byte);
  bool frame_can_end(const Frame& frame) const;
  void pop(const Frame& finished);
  bool whitespace(Frame& frame, unsigned char byte);
  bool push_value(int node);
  bool push_literal(const std::vector<CompiledSchema::Spelling>* spellings, uint64_t excluded, int node);

  const CompiledSchema* schema_ = nullptr;
  std::vector<Frame> frames_;
  bool done_ = false;
};

}  // namespace slmtune::infer
