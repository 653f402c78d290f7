#pragma once
// Evaluating a model on function-calling examples: for each example, the conversation up to its last
// assistant turn is rendered with the chat template (earlier assistant turns with their expected
// calls, in the chosen prompt format) plus the generation prompt; a Generator completes it; the
// completion is parsed (eval/call_parser.hpp) and scored against that turn's expected calls
// (eval/call_matching.hpp, eval/metrics.hpp).
//
// The Generator is an interface so that tests can script the model's replies; TransformerGenerator
// is the real one: greedy decoding, stop at an end-of-sequence id, at most max_new_tokens, and
// optionally constrained decoding of the calls.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chat/chat_template.hpp"
#include "data/chat_format.hpp"
#include "eval/call_parser.hpp"
#include "eval/metrics.hpp"
#include "infer/call_grammar.hpp"
#include "model/transformer.hpp"

namespace slmtune::tokenizer {
class Tokenizer;
}

namespace slmtune::eval {

struct Completion {
  std::string text;
  QueryCost cost;
};

class Generator {
 public:
  virtual ~Generator() = default;
  // Completes the rendered prompt text; `functions` are the ones the request may call (what
  // constrained decoding holds the calls to).
  virtual Completion complete(const std::string& prompt, const std::vector<functions::FunctionDefinition>& functions) = 0;
};

struct GeneratorOptions {
  int64_t max_new_tokens = 256;
  std::vector<int32_t> eos_ids;
  // Text that ends a reply as EOS does (an end-of-turn marker that is not an EOS id).
  std::vector<std::string> stop_strings;
  // Constrained decoding (infer/call_grammar.hpp): every call the model writes parses and fits its
  // function's schema. A request with no functions is not constrained.
  bool constrained = false;
};

// Greedy decoding with a KV cache. The prompt is tokenized as `slmtune chat` does (special tokens in
// the text recognised, none added: the template writes them). The reply is decoded with special
// tokens kept, so that <tool_call> or <fn_NAME> tokens reach the parser. The transformer may have
// adapters attached; `tokenizer` must outlive the generator.
class TransformerGenerator final : public Generator {
 public:
  TransformerGenerator(Transformer& transformer, const tokenizer::Tokenizer& tokenizer, GeneratorOptions options);
  Completion complete(const std::string& prompt, const std::vector<functions::FunctionDefinition>& functions) override;

 private:
  Transformer& transformer_;
  const tokenizer::Tokenizer& tokenizer_;
  GeneratorOptions options_;
  std::shared_ptr<const infer::TokenBytes> token_bytes_;  // built on the first constrained request
  std::vector<int32_t> end_ids_;  // EOS ids and the tokens that spell a stop string
};

// End-of-turn markers a template writes after an assistant message (<|im_end|>, <|eot_id|>, <|end|>,
// the eos token) that appear in its source: generation stops on them even when the model's EOS ids
// miss them.
std::vector<std::string> end_of_turn_strings(const chat::ChatTemplate& chat_template);

struct EvalOptions {
  data::PromptFormat format = data::PromptFormat::definitions_in_prompt;
  std::string confusion_argument = "emergency_type";
};

// The prompt that asks for `example`'s last assistant turn. Fails (one line naming the example) when
// the example has no assistant turn.
std::string render_eval_prompt(const data::Example& example, const chat::ChatTemplate& chat_template,
                               const EvalOptions& options);

struct RowResult {
  size_t index = 0;  // into the examples
  std::string prompt;
  Completion completion;
  ParsedOutput parsed;
  TurnScore score;
};
// One row's record for `slmtune eval --predictions` (as lm-eval-harness's --log_samples): where the
// example is, the last user message, the expected calls, the raw output, the calls read from it, what
// was right and wrong, and its cost. One JSON object per line lets a user see which rows fail and why.
Json row_to_json(const RowResult& row, const data::Example& example);

// Called after each example with the running metrics.
using RowCallback = std::function<void(const RowResult& row, const EvalMetrics& so_far)>;

EvalMetrics evaluate(const std::vector<data::Example>& examples, const chat::ChatTemplate& chat_template,
                     Generator& generator, const EvalOptions& options, const RowCallback& on_row = {});

// What the trainer's TaskEvaluator is (train/trainer.hpp): metrics of the model as it stands.
using TaskEvaluatorFunction = std::function<std::map<std::string, double>(Transformer&)>;
// Greedy generation over `examples` with whatever adapters the transformer has attached; returns
// metrics_to_map (exact_match, ..., n). `tokenizer` must outlive the returned function.
TaskEvaluatorFunction make_task_evaluator(const tokenizer::Tokenizer& tokenizer, chat::ChatTemplate chat_template,
                                          std::vector<data::Example> examples, EvalOptions options,
                                          GeneratorOptions generator_options);

}  // namespace slmtune::eval
