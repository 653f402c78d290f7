#pragma once
// Constrained decoding, part 2: the grammar of a reply that may call functions, and the logits
// processor that holds a model to it, so that every call it writes parses and fits its function's
// schema (json_valid is 1 by construction; the evaluator still judges the values).
//
// The grammar is "lazy", as llama.cpp's tool-call grammars are: the reply is free text until the model
// opens a call, and only the call itself is constrained. It reads the shapes eval/call_parser.hpp
// reads, whichever the model was trained to write:
//   * `<fn_NAME>` for a defined function, then its arguments as one JSON object (functional tokens);
//   * `<tool_call>`, then {"name": NAME, "arguments": {...}} (name first, arguments for that
//     function), then `</tool_call>` (Hermes / Qwen2.5);
//   * at the very start of the reply, that object bare, with nothing but whitespace after it.
// The first call fixes the shape for the rest of the reply, as the parser reads one shape per reply.
// Text that would make the parser see a call it cannot read is refused: a `<fn_` that does not spell
// a defined function's token, the other shape's opening after the first call, a tool-call tag spelled
// inside a call's JSON (the parser looks for tags before it reads JSON), and a reply that begins with
// `[` or a ``` fence. An end-of-sequence id is allowed only outside a call.
//
// Tokens are matched by the bytes they add to the decoded text. A token that holds part of a UTF-8
// character decodes to U+FFFD on its own; the grammar reads those bytes, which keeps it in step
// everywhere but inside an enum value, where such a token is simply not offered.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "functions/function_schema.hpp"
#include "infer/json_schema_grammar.hpp"
#include "infer/logits_processor.hpp"

namespace slmtune::tokenizer {
class Tokenizer;
}

namespace slmtune::infer {

class CallGrammar {
 public:
  // Fails (one line) when `functions` is empty: there would be nothing to call.
  explicit CallGrammar(const std::vector<functions::FunctionDefinition>& functions);
  // States and matchers point into the grammar: it stays where it was built.
  CallGrammar(const CallGrammar&) = delete;
  CallGrammar& operator=(const CallGrammar&) = delete;

 private:
  friend class CallGrammarState;
  std::vector<std::string> tags_;          // "<fn_NAME>" per function
  std::vector<CompiledSchema> arguments_;  // each function's parameters, after its tag
  CompiledSchema call_;                    // the body of a <tool_call> block, or a bare call
};

// Where a reply stands in the grammar. Cheap to copy: copy it to try a continuation.
class CallGrammarState {
 public:
  explicit CallGrammarState(const CallGrammar* grammar) : grammar_(grammar) {}

  // Whether `byte` may come next; after a refusal the state is spoiled and must be dropped.
  bool feed(unsigned char byte);
  bool feed(std::string_view bytes);
  // The reply may end here (it is not inside a call).
  bool can_end() const;
  // Places where whole classes of tokens are known to be allowed, so that the processor need not walk
  // them: free text with no tag begun (any token without '<' leaves it as it is), the text of a
  // string inside a call (printable UTF-8 without '"', '\\' or '<' leaves it as it is), and the start
  // of the reply (a token without '<' that does not begin with '{', '[' or '`' turns it into text).
  enum class Quiet { no, text, string, start };
  Quiet quiet() const;
  // Inside a call (or its closing tag).
  bool in_call() const { return mode_ == Mode::arguments || mode_ == Mode::call_body || mode_ == Mode::close_tag; }

 private:
  enum class Mode : uint8_t { start, text, arguments, call_body, close_tag, tail };
  enum class Shape : uint8_t { open, functional_tokens, tool_call_tags };  // of the reply's calls
  bool feed_text(unsigned char byte);
  void open_call_body(bool bare);  // a <tool_call> block's body, or a bare call

  const CallGrammar* grammar_;
  Mode mode_ = Mode::start;
  Shape shape_ = Shape::open;
  uint8_t ws_ = 0;           // whitespace run before a closing tag or after a bare call
  std::string pending_;      // free text since the last '<' that may still open (or spoil) a tag
  size_t close_matched_ = 0; // bytes of </tool_call> written
  size_t open_in_call_ = 0;  // bytes of a <tool_call> being spelled inside a call (refused when whole)
  size_t close_in_call_ = 0; // the same for </tool_call>
  bool bare_ = false;        // the call is a bare JSON object (nothing may follow it)
  SchemaMatcher matcher_;
};

// The bytes each token adds to a decoded text, and a trie over them for walking the grammar through
// the whole vocabulary at once.
class TokenBytes {
 public:
  explicit TokenBytes(const tokenizer::Tokenizer& tokenizer);

  size_t size() const { return pieces_.size(); }
  const std::string& piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  // The tokens whose bytes hold one of `texts` (e.g. the ones that spell a stop string).
  std::vector<int32_t> containing(const std::vector<std::string>& texts) const;

  struct TrieNode {
    std::vector<std::pair<unsigned char, int32_t>> children;  // byte → node
    std::vector<int32_t> ids;                                 // tokens that end here
  };
  const std::vector<TrieNode>& trie() const { return trie_; }
  // The tokens that can change a quiet state (see CallGrammarState::quiet): for text, those with a
  // '<'; for a string's text, those with a byte that is not printable UTF-8 or is '"', '\\' or '<'.
  const std::vector<int32_t>& stirring_text() const { return stirring_text_; }
  const std::vector<int32_t>& stirring_string() const { return stirring_string_; }
  // For the start of a reply: those with a '<' or whose first byte after whitespace is '{', '[' or '`'.
  const std::vector<int32_t>& stirring_start() const { return stirring_start_; }

 private:
  std::vector<std::string> pieces_;
  std::vector<TrieNode> trie_;
  std::vector<int32_t> stirring_text_, stirring_string_, stirring_start_;
};

// A LogitsProcessor: sets -inf on every token the grammar refuses next. It follows the reply through
// the history it is given (the ids after the first call's history are the reply). `end_ids` are the
// tokens that end a reply: EOS ids, and the tokens that spell a stop string; they are allowed only
// where the reply may end. Fails with one line when no token of the vocabulary can continue (a schema
// nothing satisfies).
class CallGrammarProcessor final : public LogitsProcessor {
 public:
  CallGrammarProcessor(std::shared_ptr<const CallGrammar> grammar, std::shared_ptr<const TokenBytes> tokens,
                       std::vector<int32_t> end_ids);
  void process(std::span<float> logits, std::span<const int32_t> history) override;

  // Marks in `allowed` (one flag per vocabulary entry) the tokens that may come next.
  void allowed_tokens(std::vector<uint8_t>& allowed) const;

 private:
  std::shared_ptr<const CallGrammar> grammar_;
  std::shared_ptr<const TokenBytes> tokens_;
  std::vector<int32_t> end_ids_;
  CallGrammarState state_;
  size_t consumed_ = 0;  // history entries already fed to the state
  bool started_ = false;
  std::vector<uint8_t> allowed_;  // scratch
};

}  // namespace slmtune::infer
