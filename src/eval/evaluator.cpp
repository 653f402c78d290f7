#include "eval/evaluator.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <tuple>

#include "core/error.hpp"
#include "infer/generate.hpp"
#include "infer/transformer_model.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::eval {

TransformerGenerator::TransformerGenerator(Transformer& transformer, const tokenizer::Tokenizer& tokenizer,
                                           GeneratorOptions options)
    : transformer_(transformer), tokenizer_(tokenizer), options_(std::move(options)) {
  if (options_.max_new_tokens <= 0) fail("max new tokens must be at least 1, got {}", options_.max_new_tokens);
}

Completion TransformerGenerator::complete(const std::string& prompt,
                                          const std::vector<functions::FunctionDefinition>& functions) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tokenizer_.encode(prompt, /*add_special=*/false, /*parse_special=*/true);
  infer::TransformerModel model(transformer_);
  infer::Sampler greedy(infer::SamplingConfig{.temperature = 0.0f});
  if (options_.constrained && !functions.empty()) {
    if (!token_bytes_) {
      token_bytes_ = std::make_shared<const infer::TokenBytes>(tokenizer_);
      // A token that spells a stop string (an end-of-turn marker that is not an EOS id) ends the reply
      // as EOS does, so the grammar must keep it out of a call just the same.
      end_ids_ = options_.eos_ids;
      for (int32_t id : token_bytes_->containing(options_.stop_strings)) end_ids_.push_back(id);
    }
    greedy.add_processor(std::make_shared<infer::CallGrammarProcessor>(
        std::make_shared<const infer::CallGrammar>(functions), token_bytes_, end_ids_));
  }
  infer::GenerationOptions generation;
  generation.max_new_tokens = options_.max_new_tokens;
  generation.eos_ids = options_.eos_ids;
  generation.stop_strings = options_.stop_strings;
  const auto decode = [&](std::span<const int32_t> tokens) { return tokenizer_.decode(tokens, /*skip_special=*/false); };
  infer::GenerationResult result = infer::generate(model, greedy, decode, ids, generation);
  Completion out;
  out.text = std::move(result.text);
  out.cost.prompt_tokens = result.prompt_tokens;
  out.cost.generated_tokens = static_cast<int64_t>(result.tokens.size());
  out.cost.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::vector<std::string> end_of_turn_strings(const chat::ChatTemplate& chat_template) {
  std::vector<std::string> out;
  for (const char* marker : {"<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"})
    if (chat_template.source().find(marker) != std::string::npos) out.emplace_back(marker);
  const auto& eos = chat_template.special_tokens().eos;
  if (eos && !eos->empty() && std::find(out.begin(), out.end(), *eos) == out.end()) out.push_back(*eos);
  return out;
}

std::string render_eval_prompt(const data::Example& example, const chat::ChatTemplate& chat_template,
                               const EvalOptions& options) {
  data::ChatMessages chat = data::to_chat_messages(example, options.format);
  // to_chat_messages keeps one JSON message per Example message, so the indices agree.
  size_t last_assistant = example.messages.size();
  for (size_t i = 0; i < example.messages.size(); ++i)
    if (example.messages[i].role == "assistant") last_assistant = i;
  if (last_assistant == example.messages.size())
    fail("{}:{}: the example has no assistant turn to evaluate", example.source, example.line);
  Json prompt_messages = Json::array();
  for (size_t i = 0; i < last_assistant; ++i) prompt_messages.push_back(chat.messages[i]);
  chat::ApplyOptions apply;
  apply.add_generation_prompt = true;
  apply.tools = chat.tools;
  return chat_template.apply(prompt_messages, apply).text;
}

EvalMetrics evaluate(const std::vector<data::Example>& examples, const chat::ChatTemplate& chat_template,
                     Generator& generator, const EvalOptions& options, const RowCallback& on_row) {
  EvalMetrics metrics;
  for (size_t i = 0; i < examples.size(); ++i) {
    const data::Example& example = examples[i];
    RowResult row;
    row.index = i;
    row.prompt = render_eval_prompt(example, chat_template, options);
    row.completion = generator.complete(row.prompt, example.tools);
    row.parsed = parse_model_output(row.completion.text);
    const auto expected = example.expected_calls();  // non-empty: render_eval_prompt found an assistant turn
    row.score = score_turn(expected.back(), row.parsed, example.tools, options.confusion_argument);
    metrics.add(row.score, row.completion.cost, options.confusion_argument);
    if (on_row) on_row(row, metrics);
  }
  return metrics;
}

Json row_to_json(const RowResult& row, const data::Example& example) {
  Json out = Json::object();
  out["source"] = example.source;
  out["line"] = example.line;
  std::string query;
  for (const auto& message : example.messages)
    if (message.role == "user") query = message.content;
  out["query"] = query;
  for (const auto& [name, value] : example.variables) out["variables"][name] = value;
  const auto expected = example.expected_calls();
  out["expected"] = functions::calls_to_json(expected.empty() ? std::vector<functions::FunctionCall>{} : expected.back());
  out["output"] = row.completion.text;
  out["calls"] = functions::calls_to_json(row.parsed.calls);
  out["answer"] = row.parsed.answer;
  out["exact_match"] = row.score.exact_match;
  out["json_valid"] = row.score.json_valid;
  if (!row.parsed.json_valid) out["error"] = row.parsed.error;
  Json wrong = Json::array();
  for (const auto& argument : row.score.arguments)
    if (!argument.correct) wrong.push_back(argument.name);
  out["wrong_arguments"] = wrong;
  out["prompt_tokens"] = row.completion.cost.prompt_tokens;
  out["generated_tokens"] = row.completion.cost.generated_tokens;
  out["ms"] = row.completion.cost.seconds * 1000.0;
  return out;
}

TaskEvaluatorFunction make_task_evaluator(const tokenizer::Tokenizer& tokenizer, chat::ChatTemplate chat_template,
                                          std::vector<data::Example> examples, EvalOptions options,
                                          GeneratorOptions generator_options) {
  if (generator_options.stop_strings.empty()) generator_options.stop_strings = end_of_turn_strings(chat_template);
  auto state = std::make_shared<std::tuple<chat::ChatTemplate, std::vector<data::Example>, EvalOptions, GeneratorOptions>>(
      std::move(chat_template), std::move(examples), std::move(options), std::move(generator_options));
  return [state, &tokenizer](Transformer& transformer) {
    const auto& [chat_template, examples, options, generator_options] = *state;
    TransformerGenerator generator(transformer, tokenizer, generator_options);
    return metrics_to_map(evaluate(examples, chat_template, generator, options));
  };
}

}  // namespace slmtune::eval
