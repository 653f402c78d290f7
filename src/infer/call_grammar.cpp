#include "infer/call_grammar.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::infer {
namespace {

const std::string_view kFunctionalPrefix = "<fn_";
const std::string_view kOpenTag = "<tool_call>";
const std::string_view kCloseTag = "</tool_call>";

// Follows `needle` through a stream of bytes; true when it has just been completed. Exact for
// needles whose first byte does not recur in them (the tags here all start with their only '<').
bool completes(size_t& matched, std::string_view needle, unsigned char byte) {
  if (static_cast<char>(byte) == needle[matched]) ++matched;
  else matched = static_cast<char>(byte) == needle[0] ? 1 : 0;
  if (matched < needle.size()) return false;
  matched = 0;
  return true;
}

}  // namespace

CallGrammar::CallGrammar(const std::vector<functions::FunctionDefinition>& functions) {
  if (functions.empty()) fail("constrained decoding: no function definitions to constrain the calls to");
  std::vector<std::string> names;
  std::vector<Json> parameters;
  for (const auto& f : functions) {
    names.push_back(f.name);
    parameters.push_back(f.parameters);
    tags_.push_back(std::string(kFunctionalPrefix) + f.name + ">");
    arguments_.push_back(CompiledSchema::compile_arguments(f.parameters));
  }
  call_ = CompiledSchema::compile_call(names, parameters);
}

void CallGrammarState::open_call_body(bool bare) {
  mode_ = Mode::call_body;
  bare_ = bare;
  matcher_ = SchemaMatcher(&grammar_->call_);
}

// Free text: watch for what opens a call, and for what the call parser would misread.
bool CallGrammarState::feed_text(unsigned char byte) {
  if (pending_.empty() && byte != '<') return true;
  pending_ += static_cast<char>(byte);
  if (byte == '<' && pending_.size() > 1) pending_ = "<";  // a tag can only start at the latest '<'
  for (size_t i = 0; i < grammar_->tags_.size(); ++i) {
    if (grammar_->tags_[i] != pending_) continue;
    // After <tool_call> blocks the parser would not read a <fn_NAME> call.
    if (shape_ == Shape::tool_call_tags) return false;
    shape_ = Shape::functional_tokens;
    mode_ = Mode::arguments;
    matcher_ = SchemaMatcher(&grammar_->arguments_[i]);
    pending_.clear();
    return true;
  }
  if (pending_ == kOpenTag) {
    // After <fn_NAME> calls, a <tool_call> would make the parser read only tool-call blocks.
    if (shape_ == Shape::functional_tokens) return false;
    shape_ = Shape::tool_call_tags;
    open_call_body(/*bare=*/false);
    pending_.clear();
    return true;
  }
  bool viable = kOpenTag.starts_with(pending_);
  for (const auto& tag : grammar_->tags_) viable = viable || tag.starts_with(pending_);
  // A "<fn_" that does not spell a defined function's token would read as a call to an unknown one.
  if (!viable && std::string_view(pending_).starts_with(kFunctionalPrefix)) return false;
  if (!viable) pending_.clear();
  return true;
}

bool CallGrammarState::feed(unsigned char byte) {
  switch (mode_) {
    case Mode::start:
      if (is_json_whitespace(byte)) return true;
      if (byte == '{') {  // a bare call: the whole reply
        open_call_body(/*bare=*/true);
        return matcher_.feed(byte);
      }
      // The parser reads a reply that starts so as a list of calls or a fenced one.
      if (byte == '[' || byte == '`') return false;
      mode_ = Mode::text;
      return feed_text(byte);
    case Mode::text:
      return feed_text(byte);
    case Mode::arguments:
      // The parser reads a reply with <tool_call> anywhere in it, even inside a string, as tool-call blocks.
      if (!matcher_.feed(byte) || completes(open_in_call_, kOpenTag, byte)) return false;
      if (matcher_.finished()) mode_ = Mode::text, open_in_call_ = 0;
      return true;
    case Mode::call_body:
      // Inside a block, either tag (even in a string) would cut it where the parser looks for them.
      if (!matcher_.feed(byte) || completes(open_in_call_, kOpenTag, byte) || completes(close_in_call_, kCloseTag, byte))
        return false;
      if (matcher_.finished()) {
        mode_ = bare_ ? Mode::tail : Mode::close_tag;
        close_matched_ = open_in_call_ = close_in_call_ = 0;
        ws_ = 0;
      }
      return true;
    case Mode::close_tag:
      if (close_matched_ == 0 && is_json_whitespace(byte)) return ++ws_ <= kMaxWhitespaceRun;
      if (static_cast<char>(byte) != kCloseTag[close_matched_]) return false;
      if (++close_matched_ == kCloseTag.size()) mode_ = Mode::text;
      return true;
    case Mode::tail:
      return is_json_whitespace(byte) && ++ws_ <= kMaxWhitespaceRun;
  }
  return false;
}

bool CallGrammarState::feed(std::string_view bytes) {
  for (char c : bytes)
    if (!feed(static_cast<unsigned char>(c))) return false;
  return true;
}

CallGrammarState::Quiet CallGrammarState::quiet() const {
  if (mode_ == Mode::start) return Quiet::start;
  if (mode_ == Mode::text && pending_.empty()) return Quiet::text;
  if ((mode_ == Mode::arguments || mode_ == Mode::call_body) && open_in_call_ == 0 && close_in_call_ == 0 &&
      matcher_.in_string_text())
    return Quiet::string;
  return Quiet::no;
}

bool CallGrammarState::can_end() const { return mode_ == Mode::start || mode_ == Mode::text || mode_ == Mode::tail; }

TokenBytes::TokenBytes(const tokenizer::Tokenizer& tokenizer) {
  // Decoded alone, a token may lose a leading space (SentencePiece drops the text's first one);
  // decoded after a plain "a" it shows the bytes it adds in the middle of a text.
  std::optional<int32_t> anchor;
  const std::vector<int32_t> a = tokenizer.encode("a");
  if (a.size() == 1 && tokenizer.decode(a) == "a") anchor = a.front();
  const auto n = static_cast<int32_t>(tokenizer.vocab_size());
  pieces_.resize(static_cast<size_t>(n));
  trie_.emplace_back();
  for (int32_t id = 0; id < n; ++id) {
    std::string piece;
    try {
      if (anchor) {
        const int32_t pair[2] = {*anchor, id};
        piece = tokenizer.decode(pair);
        piece = piece.starts_with('a') ? piece.substr(1) : tokenizer.decode(std::span<const int32_t>(&id, 1));
      } else {
        piece = tokenizer.decode(std::span<const int32_t>(&id, 1));
      }
    } catch (const Error&) {
      continue;  // an id with no token (a gap in the vocabulary): never offered
    }
    int32_t node = 0;
    for (char c : piece) {
      const auto byte = static_cast<unsigned char>(c);
      auto& children = trie_[static_cast<size_t>(node)].children;
      auto it = std::find_if(children.begin(), children.end(), [&](const auto& child) { return child.first == byte; });
      if (it != children.end()) {
        node = it->second;
        continue;
      }
      const auto next = static_cast<int32_t>(trie_.size());
      children.emplace_back(byte, next);
      trie_.emplace_back();
      node = next;
    }
    trie_[static_cast<size_t>(node)].ids.push_back(id);
    const bool angle_bracket = piece.find('<') != std::string::npos;
    if (angle_bracket) stirring_text_.push_back(id);
    const bool string_text = tokenizer::is_valid_utf8(piece) &&
                             std::none_of(piece.begin(), piece.end(), [](char c) {
                               return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || c == '<';
                             });
    if (!string_text) stirring_string_.push_back(id);
    const size_t first = piece.find_first_not_of(kJsonWhitespace);
    if (angle_bracket ||
        (first != std::string::npos && std::string_view("{[`").find(piece[first]) != std::string_view::npos))
      stirring_start_.push_back(id);
    pieces_[static_cast<size_t>(id)] = std::move(piece);
  }
}

std::vector<int32_t> TokenBytes::containing(const std::vector<std::string>& texts) const {
  std::vector<int32_t> out;
  for (size_t id = 0; id < pieces_.size(); ++id)
    if (std::any_of(texts.begin(), texts.end(), [&](const std::string& t) { return pieces_[id].find(t) != std::string::npos; }))
      out.push_back(static_cast<int32_t>(id));
  return out;
}

CallGrammarProcessor::CallGrammarProcessor(std::shared_ptr<const CallGrammar> grammar,
                                           std::shared_ptr<const TokenBytes> tokens, std::vector<int32_t> end_ids)
    : grammar_(std::move(grammar)), tokens_(std::move(tokens)), end_ids_(std::move(end_ids)), state_(grammar_.get()) {}

void CallGrammarProcessor::allowed_tokens(std::vector<uint8_t>& allowed) const {
  std::fill(allowed.begin(), allowed.end(), 0);
  const auto vocab = std::min(allowed.size(), tokens_->size());
  if (const auto quiet = state_.quiet(); quiet != CallGrammarState::Quiet::no) {
    // Most tokens are known to be allowed in a quiet state: only the others need the grammar.
    for (size_t id = 0; id < vocab; ++id) allowed[id] = 1;
    const auto& stirring = quiet == CallGrammarState::Quiet::text     ? tokens_->stirring_text()
                           : quiet == CallGrammarState::Quiet::string ? tokens_->stirring_string()
                                                                      : tokens_->stirring_start();
    for (int32_t id : stirring) {
      if (static_cast<size_t>(id) >= vocab) continue;
      CallGrammarState next = state_;
      allowed[static_cast<size_t>(id)] = next.feed(tokens_->piece(id));
    }
  } else {
    // Walk the trie of token bytes with the grammar: a branch the grammar refuses is cut whole.
    const auto& trie = tokens_->trie();
    std::vector<std::pair<int32_t, CallGrammarState>> stack;
    stack.emplace_back(0, state_);
    while (!stack.empty()) {
      auto [node, state] = std::move(stack.back());
      stack.pop_back();
      const auto& here = trie[static_cast<size_t>(node)];
      for (int32_t id : here.ids)
        if (static_cast<size_t>(id) < vocab) allowed[static_cast<size_t>(id)] = 1;
      for (const auto& [byte, child] : here.children) {
        CallGrammarState next = state;
        if (next.feed(byte)) stack.emplace_back(child, std::move(next));
      }
    }
  }
  // A token that adds no text would let a call stall forever; outside one it is harmless text.
  for (int32_t id : tokens_->trie().front().ids)
    if (static_cast<size_t>(id) < vocab) allowed[static_cast<size_t>(id)] = state_.can_end();
  for (int32_t id : end_ids_)
    if (id >= 0 && static_cast<size_t>(id) < allowed.size()) allowed[static_cast<size_t>(id)] = state_.can_end();
}

void CallGrammarProcessor::process(std::span<float> logits, std::span<const int32_t> history) {
  if (!started_) {
    started_ = true;
    consumed_ = history.size();
  }
  for (; consumed_ < history.size(); ++consumed_) {
    const int32_t id = history[consumed_];
    if (std::find(end_ids_.begin(), end_ids_.end(), id) != end_ids_.end()) continue;
    if (id < 0 || static_cast<size_t>(id) >= tokens_->size() || !state_.feed(tokens_->piece(id)))
      fail("constrained decoding: token {} does not fit the call grammar (another processor chose it after the grammar ran)", id);
  }
  allowed_.resize(logits.size());
  allowed_tokens(allowed_);
  bool any = false;
  for (size_t id = 0; id < logits.size(); ++id) {
    if (allowed_[id]) any = any || !std::isnan(logits[id]);
    else logits[id] = -std::numeric_limits<float>::infinity();
  }
  if (!any)
    fail("constrained decoding: no token of the vocabulary can continue the {} here (a schema no value satisfies?)",
         state_.in_call() ? "call" : "reply");
}

}  // namespace slmtune::infer
