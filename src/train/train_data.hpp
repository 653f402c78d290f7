#pragma once
// A training config's data → tokenized samples for the Trainer. data.train / data.validation are
//   - chat JSONL ({"messages": [...], "tools": [...]} per line, read by chat_jsonl), or
//   - function-calling datasets (data::load_dataset: the article's CSV, or JSONL whose assistant turns
//     carry tool_calls), every row validated and turned into chat messages in `prompt_format`, with
//     data.system_prompt's {{ name }} placeholders filled from each row's columns.
// data.format auto picks: .csv → function calling; JSONL → function calling when an assistant message
// has "tool_calls", chat otherwise. Without data.validation, validation_split > 0 holds out a seeded
// part of the training rows (stratified by called functions for datasets).
#include <cstdint>
#include <string>
#include <vector>

#include "data/example.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/samples.hpp"
#include "train/train_config.hpp"

namespace slmtune::train {

struct TrainingData {
  std::vector<Sample> train, validation;
  std::vector<data::Example> validation_rows;  // function-calling validation rows (for task metrics)
  int64_t train_examples = 0, validation_examples = 0;
  int64_t truncated = 0;          // examples cut to the sequence limit (both parts)
  int64_t dropped = 0;            // examples left without a labelled token, skipped
  int64_t train_target_tokens = 0;
  int64_t max_seq_len = 0;        // the limit applied: max_seq_len, at most the model's context
};

// `template_source`: the chat template to render with (the exact text, see chat::resolve_chat_template).
// `model_context`: the model's max_position_embeddings (0 = unknown). Row errors of a dataset are
// printed one per line on stderr and then refused with one line; an empty file is one line.
TrainingData load_training_data(const TrainConfig& config, const tokenizer::Tokenizer& tokenizer,
                                const std::string& template_source, int64_t model_context);

// k-fold cross-validation over data.train (data.validation is not used): fold i validates on the
// i-th fold and trains on the others. Function-calling rows are dealt into folds stratified by the
// functions they call (data::fold_assignment); chat rows round-robin after a seeded shuffle.
std::vector<TrainingData> load_training_folds(const TrainConfig& config, const tokenizer::Tokenizer& tokenizer,
                                              const std::string& template_source, int64_t model_context, int folds);

// prompt_format functional_tokens: the `<fn_NAME>` tokens the training (and validation) data's
// functions need, in a stable order; empty for other formats or chat data. The caller adds the
// missing ones to the tokenizer and grows the model before load_training_data.
std::vector<std::string> functional_tokens_needed(const TrainConfig& config);

// The chat examples of one data file per the config (exposed for tests and `slmtune eval`).
std::vector<ChatExample> load_chat_examples(const TrainConfig& config, const std::string& path);

}  // namespace slmtune::train
