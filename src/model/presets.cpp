#include "model/presets.hpp"

#include "core/error.hpp"

namespace slmtune {
namespace {

ModelConfig make(Family family, const char* architecture, int64_t vocab, int64_t hidden, int64_t intermediate,
                 int64_t layers, int64_t heads, int64_t kv_heads, bool tied) {
  ModelConfig c;
  c.family = family;
  c.architecture = architecture;
  c.model_type = std::string(family_name(family));
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.intermediate_size = intermediate;
  c.num_layers = layers;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_dim = hidden / heads;
  c.max_position_embeddings = 2048;
  c.tie_word_embeddings = tied;
  c.torch_dtype = "float32";
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  switch (family) {
    case Family::Qwen2:
      c.qkv_bias = true;
      c.rope_theta = 1000000.0;
      break;
    case Family::Phi3:
      c.fused_qkv = c.fused_gate_up = true;
      c.norm_eps = 1e-5;
      break;
    case Family::Phi:
      c.norm = Norm::LayerNorm;
      c.norm_eps = 1e-5;
      c.activation = Activation::GeluTanh;
      c.partial_rotary_factor = 0.5;
      c.qkv_bias = c.output_proj_bias = c.mlp_bias = c.lm_head_bias = true;
      c.parallel_block = true;
      break;
    default:
      break;
  }
  return c;
}

std::vector<ModelPreset> build() {
  std::vector<ModelPreset> presets;
  {
    ModelConfig c = make(Family::Llama, "LlamaForCausalLM", 49152, 576, 1536, 30, 9, 3, true);
    c.rope_theta = 100000.0;
    c.norm_eps = 1e-5;
    c.max_position_embeddings = 8192;
    c.bos_token_id = 0;
    c.eos_token_ids = {0};
    presets.push_back({"smollm2-135m", "SmolLM2-135M's shape (Llama, 135M parameters, tied)", c});
  }
  {
    ModelConfig c = make(Family::Qwen2, "Qwen2ForCausalLM", 151936, 896, 4864, 24, 14, 2, true);
    c.max_position_embeddings = 32768;
    presets.push_back({"qwen2.5-0.5b", "Qwen2.5-0.5B's shape (494M parameters, q/k/v bias, tied)", c});
  }
  presets.push_back({"tiny-llama", "a 2-layer Llama for tests and demos",
                     make(Family::Llama, "LlamaForCausalLM", 512, 64, 128, 2, 4, 2, false)});
  presets.push_back({"tiny-mistral", "a 2-layer Mistral",
                     make(Family::Mistral, "MistralForCausalLM", 512, 64, 128, 2, 4, 2, false)});
  presets.push_back({"tiny-qwen2", "a 2-layer Qwen2 (q/k/v bias, tied)",
                     make(Family::Qwen2, "Qwen2ForCausalLM", 512, 64, 128, 2, 4, 2, true)});
  presets.push_back({"tiny-phi3", "a 2-layer Phi-3 (fused qkv_proj and gate_up_proj)",
                     make(Family::Phi3, "Phi3ForCausalLM", 512, 64, 128, 2, 4, 2, false)});
  presets.push_back({"tiny-phi2", "a 2-layer phi-2 (LayerNorm, GELU, partial rotary, parallel block, biases)",
                     make(Family::Phi, "PhiForCausalLM", 512, 64, 256, 2, 4, 4, false)});
  return presets;
}

}  // namespace

const std::vector<ModelPreset>& model_presets() {
  static const std::vector<ModelPreset> presets = build();
  return presets;
}

const ModelPreset& find_model_preset(const std::string& name) {
  std::string names;
  for (const auto& preset : model_presets()) {
    if (preset.name == name) return preset;
    names += (names.empty() ? "" : ", ") + preset.name;
  }
  fail("unknown model preset '{}'; presets: {}", name, names);
}

}  // namespace slmtune
