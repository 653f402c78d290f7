#include "train/train_config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace slmtune::train {
namespace {

using T = KeyType;

std::vector<ConfigKey> make_keys() {
  return {
      {"model", T::string, "~", {}, "Base model: a Hugging Face model folder or a .gguf file (required)."},
      {"output_dir", T::string, "runs/slmtune", {}, "Run directory for checkpoints, metrics and the result."},
      {"method", T::choice, "lora", {"full", "lora", "dora", "qlora"}, "What is trained."},
      {"adapter", T::string, "\"\"", {}, "A PEFT adapter folder to continue training from (its LoRA settings replace lora.*); also --adapter."},
      {"lora.r", T::integer, "16", {}, "LoRA rank (> 0)."},
      {"lora.lora_alpha", T::number, "32", {}, "LoRA alpha; the update is scaled by alpha / r (alpha / sqrt(r) with use_rslora)."},
      {"lora.lora_dropout", T::number, "0.05", {}, "Dropout on the adapter input during training, in [0, 1)."},
      {"lora.target_modules", T::string_list, "[all-linear]", {},
       "Linear modules to adapt: short names (q_proj), full names, a regex, or all-linear."},
      {"lora.bias", T::choice, "none", {"none", "lora_only", "all"}, "Which base-model biases train with the adapters (PEFT's bias): lora_only = the targeted layers', all = every bias."},
      {"lora.use_rslora", T::boolean, "false", {}, "Rank-stabilised scaling alpha / sqrt(r)."},
      {"lora.use_dora", T::boolean, "false", {}, "DoRA: weight-decomposed LoRA (also implied by method: dora)."},
      {"optimizer.name", T::choice, "adamw", {"adamw", "adamw_8bit", "sgd"}, "The optimizer."},
      {"optimizer.beta1", T::number, "0.9", {}, "Adam's first-moment decay."},
      {"optimizer.beta2", T::number, "0.999", {}, "Adam's second-moment decay."},
      {"optimizer.eps", T::number, "1e-8", {}, "Adam's epsilon."},
      {"optimizer.weight_decay", T::number, "0.0", {}, "Decoupled weight decay (AdamW) or L2 (SGD)."},
      {"optimizer.momentum", T::number, "0.9", {}, "SGD momentum."},
      {"optimizer.paged", T::boolean, "false", {}, "Keep optimizer state in a file-backed memory map in output_dir."},
      {"learning_rate", T::number, "2e-4", {}, "Peak learning rate (> 0)."},
      {"lr_scheduler_type", T::choice, "linear", {"constant", "linear", "cosine"}, "Learning-rate schedule after warmup."},
      {"warmup_steps", T::integer, "0", {}, "Warmup steps; when > 0 it wins over warmup_ratio."},
      {"warmup_ratio", T::number, "0.0", {}, "Warmup as a fraction of the total steps, rounded up."},
      {"num_train_epochs", T::integer, "1", {}, "Passes over the training data (when max_steps is 0)."},
      {"max_steps", T::integer, "0", {}, "Optimizer steps to run; 0 = num_train_epochs decides."},
      {"batch_size", T::integer, "4", {}, "Samples per micro-batch."},
      {"gradient_accumulation_steps", T::integer, "1", {}, "Micro-batches per optimizer step."},
      {"max_grad_norm", T::number, "1.0", {}, "Clip gradients to this global L2 norm; 0 = no clipping."},
      {"logging_steps", T::integer, "10", {}, "Write a metrics line every this many steps."},
      {"eval_steps", T::integer, "0", {}, "Evaluate on the validation data every this many steps; 0 = only at the end."},
      {"task_metrics", T::boolean, "false", {},
       "Each evaluation also generates a reply for every function-calling validation row and scores the calls (eval_exact_match, ...)."},
      {"task_max_new_tokens", T::integer, "128", {}, "Longest reply task_metrics generates, in tokens."},
      {"save_steps", T::integer, "0", {}, "Write a checkpoint every this many steps; 0 = only at the end."},
      {"early_stopping.patience", T::integer, "0", {}, "Evaluations without improvement before stopping; 0 = off."},
      {"early_stopping.min_delta", T::number, "0.0", {}, "Smallest change of the metric that counts as improvement."},
      {"early_stopping.metric", T::string, "eval_loss", {}, "Metric to watch (eval_loss or a task metric)."},
      {"early_stopping.greater_is_better", T::boolean, "false", {}, "Whether a larger metric is better."},
      {"seed", T::integer, "42", {}, "Seed of data order, initialisation and dropout."},
      {"threads", T::integer, "0", {}, "Compute threads; 0 = all cores."},
      {"max_seq_len", T::integer, "2048", {}, "Truncate samples to this many tokens (counted and reported); 0 = no limit."},
      {"packing", T::boolean, "false", {}, "Pack each micro-batch's samples into as few rows of max_seq_len as fit (block-diagonal attention)."},
      {"recompute", T::boolean, "false", {}, "Activation checkpointing: recompute each block in backward."},
      {"train_on", T::choice, "assistant", {"assistant", "all"}, "Which tokens carry loss."},
      {"pad_token", T::choice, "auto", {"auto", "unk", "eos", "add"}, "Pad token when the tokenizer has none."},
      {"chat_template", T::string, "\"\"", {}, "Chat template: empty = the model's; a built-in name or a .jinja file."},
      {"prompt_format", T::choice, "definitions_in_prompt", {"definitions_in_prompt", "functional_tokens"},
       "How function-calling rows become chat messages: tool schemas in the prompt, or one token per function."},
      {"data.train", T::string, "~", {}, "Training data: chat JSONL, or a function-calling CSV/JSONL dataset (required)."},
      {"data.validation", T::string, "\"\"", {}, "Validation data in the same formats; empty = none or validation_split."},
      {"data.format", T::choice, "auto", {"auto", "chat", "function_calling"},
       "auto: .csv and JSONL with tool_calls are function-calling datasets, other JSONL is chat."},
      {"data.system_prompt", T::string, "\"\"", {}, "A file with the system message for function-calling rows; {{ name }} is filled from the row's columns."},
      {"data.validation_split", T::number, "0.0", {}, "Fraction of the training data held out when no validation file is given."},
  };
}

const ConfigKey* find_key(std::string_view name) {
  for (const auto& k : config_keys())
    if (k.name == name) return &k;
  return nullptr;
}

bool is_section(std::string_view name) {
  for (const auto& k : config_keys())
    if (k.name.size() > name.size() && k.name.compare(0, name.size(), name) == 0 && k.name[name.size()] == '.')
      return true;
  return false;
}

[[noreturn]] void unknown_key(const std::string& where, const std::string& name) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& k : config_keys()) {
    // Compare with the full dotted name and with its last part, so "lora.rank" and "rr" both find lora.r.
    const std::string_view leaf = std::string_view(k.name).substr(k.name.rfind('.') + 1);
    const size_t d = std::min(edit_distance(name, k.name), edit_distance(name, leaf) + (leaf.size() != k.name.size()));
    if (d < best_distance) best_distance = d, best = k.name;
  }
  fail("{}: unknown key '{}' (did you mean '{}'?)", where, name, best);
}

std::string at(const std::string& origin, const YAML::Node& node) {
  const auto mark = node.Mark();
  if (mark.line < 0) return origin;
  return fmt::format("{}:{}:{}", origin, mark.line + 1, mark.column + 1);
}

std::string type_name(const ConfigKey& key) {
  switch (key.type) {
    case T::string: return "a string";
    case T::integer: return "an integer";
    case T::number: return "a number";
    case T::boolean: return "true or false";
    case T::string_list: return "a list of strings";
    case T::choice: {
      std::string out = "one of";
      for (const auto& c : key.choices) out += " " + c;
      return out;
    }
  }
  return "?";
}

// Checks a value against its key's type and returns it in canonical form.
YAML::Node check_value(const ConfigKey& key, const YAML::Node& value, const std::string& where) {
  const auto bad = [&]() -> YAML::Node {
    std::string shown = value.IsScalar() ? value.Scalar() : (value.IsNull() ? "null" : "a collection");
    fail("{}: {}: expected {}, got '{}'", where, key.name, type_name(key), shown);
  };
  if (value.IsNull()) {
    if (key.default_yaml == "~") return YAML::Node();
    return bad();
  }
  try {
    switch (key.type) {
      case T::string:
        if (!value.IsScalar()) return bad();
        return YAML::Node(value.Scalar());
      case T::integer:
        if (!value.IsScalar()) return bad();
        return YAML::Node(value.as<int64_t>());
      case T::number: {
        if (!value.IsScalar()) return bad();
        const double v = value.as<double>();
        if (!std::isfinite(v)) return bad();
        return YAML::Node(v);
      }
      case T::boolean:
        if (!value.IsScalar()) return bad();
        return YAML::Node(value.as<bool>());
      case T::string_list: {
        YAML::Node out(YAML::NodeType::Sequence);
        if (value.IsScalar()) {  // PEFT also takes one string (a regex or all-linear)
          out.push_back(value.Scalar());
          return out;
        }
        if (!value.IsSequence()) return bad();
        for (const auto& item : value) {
          if (!item.IsScalar()) return bad();
          out.push_back(item.Scalar());
        }
        return out;
      }
      case T::choice:
        if (!value.IsScalar() || std::find(key.choices.begin(), key.choices.end(), value.Scalar()) == key.choices.end())
          return bad();
        return YAML::Node(value.Scalar());
    }
  } catch (const YAML::Exception&) {
    return bad();
  }
  return bad();
}

using Values = std::map<std::string, YAML::Node>;

void collect(const YAML::Node& map, const std::string& prefix, const std::string& origin, Values& out) {
  for (const auto& item : map) {
    if (!item.first.IsScalar()) fail("{}: keys must be plain names", at(origin, item.first));
    const std::string name = prefix + item.first.Scalar();
    const std::string where = at(origin, item.first);
    if (is_section(name)) {
      if (item.second.IsNull()) continue;
      if (!item.second.IsMap()) fail("{}: {}: expected a mapping of its keys", where, name);
      collect(item.second, name + ".", origin, out);
      continue;
    }
    const ConfigKey* key = find_key(name);
    if (!key) unknown_key(where, name);
    out[name] = check_value(*key, item.second, at(origin, item.second));
  }
}

YAML::Node parse_yaml(std::string_view text, const std::string& origin) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    fail("{}:{}:{}: invalid YAML: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
}

std::string emit(const Values& values) {
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& key : config_keys()) {
    const auto dot = key.name.find('.');
    const YAML::Node& v = values.at(key.name);
    if (dot == std::string::npos) root[key.name] = v;
    else root[key.name.substr(0, dot)][key.name.substr(dot + 1)] = v;
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = make_keys();
  return keys;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

TrainConfig parse_train_config(std::string_view yaml, const std::string& origin,
                               const std::vector<std::string>& overrides) {
  Values values;
  for (const auto& key : config_keys()) values[key.name] = check_value(key, YAML::Load(key.default_yaml), "default");
  const YAML::Node root = parse_yaml(yaml, origin);
  if (root.IsDefined() && !root.IsNull()) {
    if (!root.IsMap()) fail("{}: expected a mapping of configuration keys", origin);
    collect(root, "", origin, values);
  }
  for (const auto& item : overrides) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) fail("--set {}: expected key=value", item);
    const std::string name = item.substr(0, eq);
    const std::string where = fmt::format("--set {}", item);
    const ConfigKey* key = find_key(name);
    if (!key) unknown_key(where, name);
    const std::string text = item.substr(eq + 1);
    // Strings stay as written (a path like 1e5 or "on" is not a number or boolean).
    YAML::Node value = key->type == T::string ? YAML::Node(text) : parse_yaml(text, where);
    values[name] = check_value(*key, value, where);
  }

  const auto str = [&](const char* k) { return values[k].IsNull() ? std::string() : values[k].as<std::string>(); };
  const auto num = [&](const char* k) { return values[k].as<double>(); };
  const auto integer = [&](const char* k) { return values[k].as<int64_t>(); };
  const auto flag = [&](const char* k) { return values[k].as<bool>(); };

  TrainConfig c;
  c.model = str("model");
  c.output_dir = str("output_dir");
  c.method = str("method");
  c.adapter = str("adapter");
  c.prompt_format = str("prompt_format");
  c.data.format = str("data.format");
  c.data.system_prompt = str("data.system_prompt");
  c.lora.r = integer("lora.r");
  c.lora.lora_alpha = num("lora.lora_alpha");
  c.lora.lora_dropout = num("lora.lora_dropout");
  c.lora.target_modules = values["lora.target_modules"].as<std::vector<std::string>>();
  c.lora.bias = str("lora.bias");
  c.lora.use_rslora = flag("lora.use_rslora");
  c.lora.use_dora = flag("lora.use_dora") || c.method == "dora";
  c.optimizer.name = str("optimizer.name");
  c.optimizer.beta1 = num("optimizer.beta1");
  c.optimizer.beta2 = num("optimizer.beta2");
  c.optimizer.eps = num("optimizer.eps");
  c.optimizer.weight_decay = num("optimizer.weight_decay");
  c.optimizer.momentum = num("optimizer.momentum");
  c.optimizer.paged = flag("optimizer.paged");
  c.learning_rate = num("learning_rate");
  c.lr_scheduler_type = str("lr_scheduler_type");
  c.warmup_steps = integer("warmup_steps");
  c.warmup_ratio = num("warmup_ratio");
  c.num_train_epochs = integer("num_train_epochs");
  c.max_steps = integer("max_steps");
  c.batch_size = integer("batch_size");
  c.gradient_accumulation_steps = integer("gradient_accumulation_steps");
  c.max_grad_norm = num("max_grad_norm");
  c.logging_steps = integer("logging_steps");
  c.eval_steps = integer("eval_steps");
  c.save_steps = integer("save_steps");
  c.task_metrics = flag("task_metrics");
  c.task_max_new_tokens = integer("task_max_new_tokens");
  c.early_stopping.patience = integer("early_stopping.patience");
  c.early_stopping.min_delta = num("early_stopping.min_delta");
  c.early_stopping.metric = str("early_stopping.metric");
  c.early_stopping.greater_is_better = flag("early_stopping.greater_is_better");
  const int64_t seed = integer("seed");
  c.threads = integer("threads");
  c.max_seq_len = integer("max_seq_len");
  c.packing = flag("packing");
  c.recompute = flag("recompute");
  c.train_on = str("train_on");
  c.pad_token = str("pad_token");
  c.chat_template = str("chat_template");
  c.data.train = str("data.train");
  c.data.validation = str("data.validation");
  c.data.validation_split = num("data.validation_split");

  // Checks that need more than one key's type.
  if (c.model.empty()) fail("{}: model: required (a model folder or .gguf file)", origin);
  if (c.data.train.empty()) fail("{}: data.train: required (a chat JSONL file)", origin);
  if (c.output_dir.empty()) fail("{}: output_dir: must not be empty", origin);
  const auto positive = [&](const char* k, double v) {
    if (!(v > 0)) fail("{}: {}: expected a value > 0, got {}", origin, k, v);
  };
  const auto non_negative = [&](const char* k, double v) {
    if (v < 0) fail("{}: {}: expected a value >= 0, got {}", origin, k, v);
  };
  positive("lora.r", static_cast<double>(c.lora.r));
  positive("lora.lora_alpha", c.lora.lora_alpha);
  positive("learning_rate", c.learning_rate);
  positive("batch_size", static_cast<double>(c.batch_size));
  positive("task_max_new_tokens", static_cast<double>(c.task_max_new_tokens));
  positive("gradient_accumulation_steps", static_cast<double>(c.gradient_accumulation_steps));
  positive("optimizer.eps", c.optimizer.eps);
  for (const auto& [k, v] : {std::pair{"warmup_steps", double(c.warmup_steps)}, {"max_steps", double(c.max_steps)},
                             {"max_grad_norm", c.max_grad_norm}, {"logging_steps", double(c.logging_steps)},
                             {"eval_steps", double(c.eval_steps)}, {"save_steps", double(c.save_steps)},
                             {"early_stopping.patience", double(c.early_stopping.patience)},
                             {"early_stopping.min_delta", c.early_stopping.min_delta}, {"threads", double(c.threads)},
                             {"max_seq_len", double(c.max_seq_len)}, {"optimizer.weight_decay", c.optimizer.weight_decay},
                             {"optimizer.momentum", c.optimizer.momentum}, {"seed", double(seed)}})
    non_negative(k, v);
  if (c.max_steps == 0) positive("num_train_epochs", static_cast<double>(c.num_train_epochs));
  for (const auto& [k, v] : {std::pair{"lora.lora_dropout", c.lora.lora_dropout}, {"optimizer.beta1", c.optimizer.beta1},
                             {"optimizer.beta2", c.optimizer.beta2}, {"data.validation_split", c.data.validation_split}})
    if (!(v >= 0 && v < 1)) fail("{}: {}: expected a value in [0, 1), got {}", origin, k, v);
  if (!(c.warmup_ratio >= 0 && c.warmup_ratio <= 1))
    fail("{}: warmup_ratio: expected a value in [0, 1], got {}", origin, c.warmup_ratio);
  if (c.lora.target_modules.empty()) fail("{}: lora.target_modules: expected at least one module", origin);
  if (c.early_stopping.patience > 0 && c.data.validation.empty() && c.data.validation_split == 0)
    fail("{}: early_stopping.patience: needs validation data (data.validation or data.validation_split)", origin);
  c.seed = static_cast<uint64_t>(seed);
  c.resolved_yaml = emit(values);
  return c;
}

TrainConfig load_train_config(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  if (!std::filesystem::is_regular_file(path)) fail("{}: no such configuration file", path.string());
  return parse_train_config(read_file(path), path.string(), overrides);
}

}  // namespace slmtune::train
