#include "train/train_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "data/chat_format.hpp"
#include "data/dataset.hpp"
#include "data/split.hpp"

namespace slmtune::train {
namespace {

// One file's rows: chat examples, and for a function-calling dataset the rows they came from (for a
// stratified split).
struct Loaded {
  std::vector<ChatExample> chats;
  std::vector<data::Example> rows;
};

bool has_tool_calls(const std::vector<ChatExample>& examples) {
  for (const auto& e : examples)
    if (e.messages.is_array())
      for (const auto& m : e.messages)
        if (m.is_object() && m.contains("tool_calls")) return true;
  return false;
}

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

Loaded load_function_calling(const TrainConfig& config, const std::string& path) {
  data::LoadOptions options;
  if (!config.data.system_prompt.empty()) {
    if (!std::filesystem::is_regular_file(config.data.system_prompt))
      fail("data.system_prompt: {}: no such file", config.data.system_prompt);
    options.system_template = read_file(config.data.system_prompt);
  }
  data::Dataset dataset = data::load_dataset(path, options);
  for (const auto& error : dataset.errors) fmt::print(stderr, "error: {}\n", error);
  if (dataset.rows == 0) fail("{}: no rows: the dataset is empty", path);
  if (dataset.examples.empty()) fail("{}: all {} rows have errors (listed above): nothing to train on", path, dataset.rows);
  if (!dataset.errors.empty())
    fail("{}: {} errors in {} of {} rows (listed above; `slmtune data validate {}` shows them too)", path,
         dataset.errors.size(), dataset.rows - dataset.examples.size(), dataset.rows, path);
  const data::PromptFormat format = data::parse_prompt_format(config.prompt_format);
  Loaded out;
  for (const auto& example : dataset.examples) {
    data::ChatMessages chat = data::to_chat_messages(example, format);
    out.chats.push_back({std::move(chat.messages), std::move(chat.tools), fmt::format("{}:{}", example.source, example.line)});
  }
  out.rows = std::move(dataset.examples);
  return out;
}

Loaded load_file(const TrainConfig& config, const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) fail("{}: no such data file", path);
  const std::string ext = lower_extension(path);
  std::string format = config.data.format;
  if (format == "auto") {
    if (ext == ".csv") format = "function_calling";
    else if (ext == ".jsonl" || ext == ".json")
      format = has_tool_calls(read_chat_jsonl(path)) ? "function_calling" : "chat";
    else fail("{}: unknown data format \"{}\" (expected .jsonl or .csv, or set data.format)", path, ext);
  }
  if (format == "function_calling") return load_function_calling(config, path);
  Loaded out;
  out.chats = read_chat_jsonl(path);
  if (out.chats.empty()) fail("{}: no examples: the file is empty", path);
  return out;
}

// `slmtune train` adds the functional tokens first (functional_tokens_needed); a caller that did not
// gets them trained as ordinary text, which is said once.
void check_functional_tokens(const TrainConfig& config, const tokenizer::Tokenizer& tok, const std::vector<data::Example>& rows) {
  if (config.prompt_format != "functional_tokens" || rows.empty()) return;
  std::vector<std::string> missing;
  for (const auto& name : data::functional_token_names(rows))
    if (!tok.token_to_id(name)) missing.push_back(name);
  if (!missing.empty())
    log::warn("prompt_format functional_tokens: the tokenizer has no single token for {} of {} functions (e.g. {}); they are "
              "trained as ordinary text",
              missing.size(), data::functional_token_names(rows).size(), missing.front());
}

SampleSet build(const SampleBuilder& builder, const std::vector<ChatExample>& examples, const char* part) {
  try {
    return builder.build_all(examples);
  } catch (const Error& e) {
    fail("{} data: {}", part, e.what());
  }
}

}  // namespace

std::vector<std::string> functional_tokens_needed(const TrainConfig& config) {
  if (config.prompt_format != "functional_tokens") return {};
  std::vector<data::Example> rows;
  for (const std::string* path : {&config.data.train, &config.data.validation}) {
    if (path->empty()) continue;
    Loaded loaded = load_file(config, *path);
    for (auto& row : loaded.rows) rows.push_back(std::move(row));
  }
  return data::functional_token_names(rows);
}

std::vector<ChatExample> load_chat_examples(const TrainConfig& config, const std::string& path) {
  return load_file(config, path).chats;
}

namespace {

TrainingData build_parts(const TrainConfig& config, const tokenizer::Tokenizer& tokenizer, const std::string& template_source,
                         int64_t model_context, const Loaded& train, const Loaded& validation) {
  check_functional_tokens(config, tokenizer, train.rows);
  SampleOptions options;
  options.train_on = parse_train_on(config.train_on);
  int64_t limit = config.max_seq_len;
  if (model_context > 0 && (limit == 0 || limit > model_context)) {
    if (limit > model_context) log::info("max_seq_len {} exceeds the model's context {}: using {}", limit, model_context, model_context);
    limit = model_context;
  }
  options.max_seq_len = limit;
  const SampleBuilder builder(tokenizer, template_source, options);

  TrainingData out;
  out.max_seq_len = limit;
  SampleSet train_set = build(builder, train.chats, "training");
  out.train_examples = static_cast<int64_t>(train.chats.size());
  out.truncated = train_set.truncated;
  out.dropped = train_set.dropped_no_targets;
  out.train_target_tokens = train_set.target_tokens;
  out.train = std::move(train_set.samples);
  if (!validation.chats.empty()) {
    SampleSet validation_set = build(builder, validation.chats, "validation");
    out.validation_examples = static_cast<int64_t>(validation.chats.size());
    out.truncated += validation_set.truncated;
    out.dropped += validation_set.dropped_no_targets;
    out.validation = std::move(validation_set.samples);
    out.validation_rows = validation.rows;
  }
  if (out.truncated > 0)
    log::warn("{} examples were longer than {} tokens and were cut (raise max_seq_len to keep them whole)", out.truncated, limit);
  return out;
}

// Moves the rows whose part is `which` into one Loaded and the rest into another.
std::pair<Loaded, Loaded> partition(Loaded all, const std::vector<int>& part, int which) {
  std::pair<Loaded, Loaded> out;  // first: the rest, second: part `which`
  for (size_t i = 0; i < all.chats.size(); ++i) {
    Loaded& to = part[i] == which ? out.second : out.first;
    to.chats.push_back(std::move(all.chats[i]));
    if (!all.rows.empty()) to.rows.push_back(std::move(all.rows[i]));
  }
  return out;
}

// A seeded permutation of n indices (our Rng: the same on every platform).
std::vector<size_t> shuffled(size_t n, uint64_t seed) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  Rng rng(seed);
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

}  // namespace

TrainingData load_training_data(const TrainConfig& config, const tokenizer::Tokenizer& tokenizer,
                                const std::string& template_source, int64_t model_context) {
  Loaded train = load_file(config, config.data.train);
  Loaded validation;
  if (!config.data.validation.empty()) {
    validation = load_file(config, config.data.validation);
  } else if (config.data.validation_split > 0) {
    const size_t n = train.chats.size();
    std::vector<int> part(n, 0);
    if (!train.rows.empty()) {
      part = data::split_assignment(train.rows, {1.0 - config.data.validation_split, config.data.validation_split}, config.seed);
    } else {
      // The held-out count is rounded and at least one.
      const auto order = shuffled(n, config.seed);
      const auto held = std::max<size_t>(1, static_cast<size_t>(std::llround(static_cast<double>(n) * config.data.validation_split)));
      for (size_t i = 0; i < std::min(held, n); ++i) part[order[i]] = 1;
    }
    std::tie(train, validation) = partition(std::move(train), part, 1);
    if (train.chats.empty())
      fail("data.validation_split: {} leaves no training examples out of {}", config.data.validation_split, n);
  }
  return build_parts(config, tokenizer, template_source, model_context, train, validation);
}

std::vector<TrainingData> load_training_folds(const TrainConfig& config, const tokenizer::Tokenizer& tokenizer,
                                              const std::string& template_source, int64_t model_context, int folds) {
  if (folds < 2) fail("--folds: expected at least 2 folds, got {}", folds);
  const Loaded all = load_file(config, config.data.train);
  const size_t n = all.chats.size();
  if (n < static_cast<size_t>(folds)) fail("--folds {}: {} has only {} examples", folds, config.data.train, n);
  std::vector<int> fold(n);
  if (!all.rows.empty()) {
    fold = data::fold_assignment(all.rows, folds, config.seed);
  } else {
    const auto order = shuffled(n, config.seed);
    for (size_t i = 0; i < n; ++i) fold[order[i]] = static_cast<int>(i % static_cast<size_t>(folds));
  }
  std::vector<TrainingData> out;
  for (int k = 0; k < folds; ++k) {
    auto [train, validation] = partition(all, fold, k);
    out.push_back(build_parts(config, tokenizer, template_source, model_context, train, validation));
  }
  return out;
}

}  // namespace slmtune::train
