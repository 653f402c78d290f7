#include "model/architecture.hpp"

#include <unordered_set>

#include "core/error.hpp"

namespace slmtune {
namespace {

struct Builder {
  const ModelConfig& c;
  std::vector<TensorSpec> specs;

  void add(std::string hf, std::string gguf, Shape shape, TensorKind kind, std::string linear = "", int64_t layer = -1) {
    specs.push_back({std::move(hf), std::move(gguf), std::move(shape), kind, std::move(linear), layer});
  }
  // A linear layer: weight [out, in] and an optional bias [out].
  void linear(int64_t layer, const std::string& hf_module, const std::string& gguf_module, const std::string& short_name,
              int64_t out, int64_t in, bool bias, TensorKind kind) {
    const std::string hf = "model.layers." + std::to_string(layer) + "." + hf_module;
    const std::string gguf = "blk." + std::to_string(layer) + "." + gguf_module;
    add(hf + ".weight", gguf + ".weight", {out, in}, kind, short_name, layer);
    if (bias) add(hf + ".bias", gguf + ".bias", {out}, kind, "", layer);
  }
  void norm(int64_t layer, const std::string& hf_module, const std::string& gguf_module, bool bias) {
    const std::string hf = layer < 0 ? hf_module : "model.layers." + std::to_string(layer) + "." + hf_module;
    const std::string gguf = layer < 0 ? gguf_module : "blk." + std::to_string(layer) + "." + gguf_module;
    add(hf + ".weight", gguf + ".weight", {c.hidden_size}, TensorKind::Norm, "", layer);
    if (bias) add(hf + ".bias", gguf + ".bias", {c.hidden_size}, TensorKind::Norm, "", layer);
  }
};

}  // namespace

std::string_view tensor_kind_name(TensorKind kind) {
  switch (kind) {
    case TensorKind::Embedding: return "embeddings";
    case TensorKind::Attention: return "attention";
    case TensorKind::Mlp: return "mlp";
    case TensorKind::Norm: return "norms";
    case TensorKind::Output: return "output";
  }
  return "?";
}

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) {
  Builder b{c, {}};
  const bool layer_norm = c.norm == Norm::LayerNorm;
  b.add("model.embed_tokens.weight", "token_embd.weight", {c.vocab_size, c.hidden_size}, TensorKind::Embedding);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    b.norm(i, "input_layernorm", "attn_norm", layer_norm);
    if (c.fused_qkv) {
      b.linear(i, "self_attn.qkv_proj", "attn_qkv", "qkv_proj", c.q_size() + 2 * c.kv_size(), c.hidden_size, c.qkv_bias,
               TensorKind::Attention);
    } else {
      b.linear(i, "self_attn.q_proj", "attn_q", "q_proj", c.q_size(), c.hidden_size, c.qkv_bias, TensorKind::Attention);
      b.linear(i, "self_attn.k_proj", "attn_k", "k_proj", c.kv_size(), c.hidden_size, c.qkv_bias, TensorKind::Attention);
      b.linear(i, "self_attn.v_proj", "attn_v", "v_proj", c.kv_size(), c.hidden_size, c.qkv_bias, TensorKind::Attention);
    }
    // phi-2 calls the attention output projection `dense`.
    const bool phi = c.family == Family::Phi;
    b.linear(i, phi ? "self_attn.dense" : "self_attn.o_proj", "attn_output", phi ? "dense" : "o_proj", c.hidden_size,
             c.q_size(), c.output_proj_bias, TensorKind::Attention);
    if (!c.parallel_block) b.norm(i, "post_attention_layernorm", "ffn_norm", layer_norm);
    if (phi) {
      b.linear(i, "mlp.fc1", "ffn_up", "fc1", c.intermediate_size, c.hidden_size, c.mlp_bias, TensorKind::Mlp);
      b.linear(i, "mlp.fc2", "ffn_down", "fc2", c.hidden_size, c.intermediate_size, c.mlp_bias, TensorKind::Mlp);
    } else if (c.fused_gate_up) {
      b.linear(i, "mlp.gate_up_proj", "ffn_up", "gate_up_proj", 2 * c.intermediate_size, c.hidden_size, c.mlp_bias,
               TensorKind::Mlp);
      b.linear(i, "mlp.down_proj", "ffn_down", "down_proj", c.hidden_size, c.intermediate_size, c.mlp_bias,
               TensorKind::Mlp);
    } else {
      b.linear(i, "mlp.gate_proj", "ffn_gate", "gate_proj", c.intermediate_size, c.hidden_size, c.mlp_bias,
               TensorKind::Mlp);
      b.linear(i, "mlp.up_proj", "ffn_up", "up_proj", c.intermediate_size, c.hidden_size, c.mlp_bias, TensorKind::Mlp);
      b.linear(i, "mlp.down_proj", "ffn_down", "down_proj", c.hidden_size, c.intermediate_size, c.mlp_bias,
               TensorKind::Mlp);
    }
  }
  b.norm(-1, c.family == Family::Phi ? "model.final_layernorm" : "model.norm", "output_norm", layer_norm);
  if (!c.tie_word_embeddings) {
    b.add("lm_head.weight", "output.weight", {c.vocab_size, c.hidden_size}, TensorKind::Output, "lm_head");
    if (c.lm_head_bias) b.add("lm_head.bias", "output.bias", {c.vocab_size}, TensorKind::Output);
  }
  return b.specs;
}

std::vector<std::string> linear_module_names(const ModelConfig& config) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  for (const auto& spec : expected_tensors(config))
    if (spec.layer >= 0 && !spec.linear_name.empty() && seen.insert(spec.linear_name).second)
      names.push_back(spec.linear_name);
  return names;
}

int64_t expected_parameter_count(const ModelConfig& config) {
  int64_t total = 0;
  for (const auto& spec : expected_tensors(config)) total += shape_numel(spec.shape);
  return total;
}

std::vector<std::string> check_tensors(const ModelConfig& config,
                                       const std::function<std::optional<Shape>(const std::string&)>& shape_of,
                                       const std::vector<std::string>& present_names, const std::string& origin,
                                       bool gguf_names) {
  std::unordered_set<std::string> known;
  for (const auto& spec : expected_tensors(config)) {
    const std::string& name = gguf_names ? spec.gguf_name : spec.hf_name;
    known.insert(name);
    const auto shape = shape_of(name);
    if (!shape)
      fail("{}: tensor '{}' is missing (expected shape {} for {})", origin, name, shape_string(spec.shape),
           config.architecture);
    if (*shape != spec.shape)
      fail("{}: tensor '{}' has shape {}, expected {} from config", origin, name, shape_string(*shape),
           shape_string(spec.shape));
  }
  std::vector<std::string> unknown;
  for (const auto& name : present_names)
    if (!known.count(name)) unknown.push_back(name);
  return unknown;
}

}  // namespace slmtune
