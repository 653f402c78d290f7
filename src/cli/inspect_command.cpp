// `slmtune inspect MODEL [--json]`: what a base model is, before any fine-tuning — architecture and
// training objective, parameter counts, storage dtype, context and RoPE, every tensor, the linear
// modules LoRA can target, the chat template and special tokens. Reads file headers only.
#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/format_number.hpp"
#include "cli/model_tokens_report.hpp"
#include "core/log.hpp"
#include "formats/json.hpp"
#include "model/model_report.hpp"

namespace slmtune::cli {
namespace {

std::string rope_summary(const ModelConfig& c) {
  std::string text = fmt::format("theta {:g}, rotary dim {} of head dim {}", c.rope_theta, c.rotary_dim(), c.head_dim);
  if (c.partial_rotary_factor != 1.0) text += fmt::format(" (partial_rotary_factor {:g})", c.partial_rotary_factor);
  if (c.rope_scaling) {
    const RopeScaling& s = *c.rope_scaling;
    text += fmt::format(", scaling {}", s.type);
    if (s.type == "llama3")
      text += fmt::format(" (factor {:g}, low/high freq factor {:g}/{:g}, original context {})", s.factor,
                          s.low_freq_factor, s.high_freq_factor, s.original_max_position_embeddings);
    else if (s.type == "longrope")
      text += fmt::format(" ({} short/long factors, original context {})", s.short_factor.size(),
                          s.original_max_position_embeddings);
    else
      text += fmt::format(" (factor {:g})", s.factor);
  } else {
    text += ", no scaling";
  }
  return text;
}

// "model.layers.{0..29}.self_attn.q_proj" for a group of per-layer modules.
std::string module_pattern(const LoraTargetGroup& group) {
  if (group.modules.empty()) return "";
  const std::string& first = group.modules.front();
  if (group.modules.size() == 1) return first;
  const auto dot = first.find('.', std::string("model.layers.").size());
  return fmt::format("model.layers.{{0..{}}}{}", group.modules.size() - 1, first.substr(dot));
}

Json shape_json(const Shape& shape) { return Json(shape); }

Json report_json(const ModelReport& r, const TokensReport& tokens) {
  const ModelConfig& c = r.config;
  Json json;
  json["path"] = r.source.string();
  json["format"] = r.format;
  json["architecture"] = c.architecture;
  json["family"] = std::string(family_name(c.family));
  json["objective"] = "causal-lm";
  json["trainable"] = true;
  Json parameters;
  parameters["total"] = r.total_parameters;
  for (const auto& kind : r.parameters_by_kind) parameters[kind.kind] = kind.count;
  json["parameters"] = parameters;
  json["dtypes"] = r.dtypes;
  json["files"] = r.file_count;
  json["vocab_size"] = c.vocab_size;
  json["hidden_size"] = c.hidden_size;
  json["intermediate_size"] = c.intermediate_size;
  json["num_layers"] = c.num_layers;
  json["num_heads"] = c.num_heads;
  json["num_kv_heads"] = c.num_kv_heads;
  json["head_dim"] = c.head_dim;
  json["context_length"] = c.max_position_embeddings;
  json["norm"] = {{"type", c.norm == Norm::RMSNorm ? "rmsnorm" : "layernorm"}, {"eps", c.norm_eps}};
  json["activation"] = c.activation == Activation::SiLU ? "silu" : "gelu_new";
  json["parallel_block"] = c.parallel_block;
  json["tie_word_embeddings"] = c.tie_word_embeddings;
  Json rope;
  rope["theta"] = c.rope_theta;
  rope["rotary_dim"] = c.rotary_dim();
  rope["partial_rotary_factor"] = c.partial_rotary_factor;
  if (c.rope_scaling) {
    const RopeScaling& s = *c.rope_scaling;
    rope["scaling"] = {{"type", s.type},
                       {"factor", s.factor},
                       {"original_max_position_embeddings", s.original_max_position_embeddings}};
    if (s.type == "llama3") {
      rope["scaling"]["low_freq_factor"] = s.low_freq_factor;
      rope["scaling"]["high_freq_factor"] = s.high_freq_factor;
    }
  } else {
    rope["scaling"] = nullptr;
  }
  json["rope"] = rope;
  Json targets = Json::array();
  for (const auto& group : r.lora_targets)
    targets.push_back({{"name", group.short_name},
                       {"count", group.modules.size()},
                       {"shape", shape_json(group.shape)},
                       {"modules", group.modules}});
  json["lora_targets"] = targets;
  Json tensors = Json::array();
  for (const auto& t : r.tensors) tensors.push_back({{"name", t.name}, {"shape", shape_json(t.shape)}, {"dtype", t.dtype}});
  json["tensors"] = tensors;
  json["unknown_tensors"] = r.unknown_tensors;
  add_tokens_json(tokens, json);
  return json;
}

void print_report(const ModelReport& r, const TokensReport& tokens) {
  const ModelConfig& c = r.config;
  fmt::print("model          {} ({}{})\n", r.source.string(), r.format == "gguf" ? "GGUF file" : "Hugging Face directory",
             r.format == "gguf" ? "" : fmt::format(", {} safetensors file{}", r.file_count, r.file_count == 1 ? "" : "s"));
  fmt::print("architecture   {} ({}) — causal LM: can be fine-tuned\n", c.architecture, family_name(c.family));
  fmt::print("parameters     {} ({})\n", with_commas(r.total_parameters), short_count(r.total_parameters));
  for (const auto& kind : r.parameters_by_kind)
    fmt::print("  {:<12} {:>15}  {:5.1f}%\n", kind.kind, with_commas(kind.count),
               100.0 * static_cast<double>(kind.count) / static_cast<double>(std::max<int64_t>(1, r.total_parameters)));
  std::string dtypes;
  for (const auto& d : r.dtypes) dtypes += (dtypes.empty() ? "" : ", ") + d;
  fmt::print("storage        {}\n", dtypes);
  fmt::print("context        {} tokens\n", with_commas(c.max_position_embeddings));
  fmt::print("shape          vocab {}, hidden {}, MLP {}, {} layers\n", with_commas(c.vocab_size), c.hidden_size,
             c.intermediate_size, c.num_layers);
  fmt::print("attention      {} heads, {} KV heads{}, head dim {}{}\n", c.num_heads, c.num_kv_heads,
             c.num_kv_heads < c.num_heads ? " (grouped-query)" : "", c.head_dim,
             c.sliding_window ? fmt::format(", sliding window {}", *c.sliding_window) : "");
  fmt::print("rope           {}\n", rope_summary(c));
  fmt::print("block          {} (eps {:g}), {}{}{}\n", c.norm == Norm::RMSNorm ? "RMSNorm" : "LayerNorm", c.norm_eps,
             c.activation == Activation::SiLU ? "SwiGLU MLP" : "GELU (tanh) MLP",
             c.parallel_block ? ", attention and MLP in parallel" : "",
             c.tie_word_embeddings ? ", output tied to embeddings" : "");
  fmt::print("\nLoRA target modules (PEFT target_modules names)\n");
  for (const auto& group : r.lora_targets)
    fmt::print("  {:<14} {:>3} × {:<14} {}\n", group.short_name, group.modules.size(), shape_string(group.shape),
               module_pattern(group));
  print_tokens_text(tokens);
  fmt::print("\ntensors ({}, file order)\n", r.tensors.size());
  size_t width = 0;
  for (const auto& t : r.tensors) width = std::max(width, t.name.size());
  for (const auto& t : r.tensors) fmt::print("  {:<{}}  {:<16} {}\n", t.name, width, shape_string(t.shape), t.dtype);
  if (!r.unknown_tensors.empty())
    fmt::print("\n{} tensor(s) not used by {}: {}{}\n", r.unknown_tensors.size(), c.architecture, r.unknown_tensors.front(),
               r.unknown_tensors.size() > 1 ? ", …" : "");
}

const CommandRegistration registration(10, [](CLI::App& app) {
  auto* command = app.add_subcommand(
      "inspect",
      "Describe a base model: architecture and training objective, parameter counts, dtypes, context and\n"
      "RoPE, every tensor (the state_dict keys), LoRA target modules, chat template and special tokens.\n"
      "Reads headers only, so even multi-gigabyte models take well under a second.\n"
      "Example: slmtune inspect models/phi-3-mini-4k-instruct --json");
  auto model = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  command->add_option("MODEL", *model, "Hugging Face model directory (config.json + safetensors) or a .gguf file")
      ->required();
  command->add_flag("--json", *as_json, "Print one JSON object with the same facts");
  command->callback([model, as_json] {
    const ModelReport report = inspect_model(*model);
    const TokensReport tokens = read_tokens_report(*model);
    if (*as_json) {
      fmt::print("{}\n", report_json(report, tokens).dump(2));
    } else {
      print_report(report, tokens);
    }
    for (const auto& warning : tokens.warnings) log::warn("{}", warning);
  });
});

}  // namespace
}  // namespace slmtune::cli
