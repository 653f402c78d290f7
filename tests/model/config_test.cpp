// config.json parsing, checked against the published facts of real models: their config.json files
// (key for key as on the Hugging Face hub) and the parameter counts that transformers'
// model.num_parameters() reports for them.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"

using namespace slmtune;

namespace {
ModelConfig parse(const char* text) { return parse_model_config(Json::parse(text), "config.json"); }

std::string error_of(const char* text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kSmolLM2 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 0, "eos_token_id": 0, "head_dim": 64, "hidden_act": "silu", "hidden_size": 576,
  "initializer_range": 0.041666666666666664, "intermediate_size": 1536, "is_llama_config": true,
  "max_position_embeddings": 8192, "mlp_bias": false, "model_type": "llama", "num_attention_heads": 9,
  "num_hidden_layers": 30, "num_key_value_heads": 3, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_interleaved": false, "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16", "transformers_version": "4.42.3", "use_cache": true, "vocab_size": 49152})";

constexpr const char* kQwen25 = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
  "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
  "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16", "transformers_version": "4.40.1", "use_cache": true,
  "use_sliding_window": false, "vocab_size": 151936})";

constexpr const char* kPhi3Mini4k = R"({
  "_name_or_path": "Phi-3-mini-4k-instruct", "architectures": ["Phi3ForCausalLM"],
  "attention_bias": false, "attention_dropout": 0.0,
  "auto_map": {"AutoConfig": "configuration_phi3.Phi3Config", "AutoModelForCausalLM": "modeling_phi3.Phi3ForCausalLM"},
  "bos_token_id": 1, "embd_pdrop": 0.0, "eos_token_id": 32000, "hidden_act": "silu", "hidden_size": 3072,
  "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 4096,
  "model_type": "phi3", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
  "original_max_position_embeddings": 4096, "pad_token_id": 32000, "resid_pdrop": 0.0,
  "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0, "sliding_window": 2047,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.40.2",
  "use_cache": true, "vocab_size": 32064})";

constexpr const char* kPhi2 = R"({
  "_name_or_path": "microsoft/phi-2", "architectures": ["PhiForCausalLM"], "attention_dropout": 0.0,
  "bos_token_id": 50256, "embd_pdrop": 0.0, "eos_token_id": 50256, "hidden_act": "gelu_new",
  "hidden_size": 2560, "initializer_range": 0.02, "intermediate_size": 10240, "layer_norm_eps": 1e-05,
  "max_position_embeddings": 2048, "model_type": "phi", "num_attention_heads": 32,
  "num_hidden_layers": 32, "num_key_value_heads": 32, "partial_rotary_factor": 0.4,
  "qk_layernorm": false, "resid_pdrop": 0.1, "rope_scaling": null, "rope_theta": 10000.0,
  "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.37.0",
  "use_cache": true, "vocab_size": 51200})";

constexpr const char* kLlama32_1B = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64, "hidden_act": "silu",
  "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32,
  "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256})";

constexpr const char* kTinyLlama = R"({
  "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
  "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 5632,
  "max_position_embeddings": 2048, "model_type": "llama", "num_attention_heads": 32,
  "num_hidden_layers": 22, "num_key_value_heads": 4, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "transformers_version": "4.35.0", "use_cache": true, "vocab_size": 32000})";

constexpr const char* kMistral7B = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
  "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
  "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
  "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
  "sliding_window": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "transformers_version": "4.34.0.dev0", "use_cache": true, "vocab_size": 32000})";
}  // namespace

TEST(ModelConfig, ParameterCountsMatchPublishedModels) {
  EXPECT_EQ(expected_parameter_count(parse(kSmolLM2)), 134515008);
  EXPECT_EQ(expected_parameter_count(parse(kQwen25)), 494032768);
  EXPECT_EQ(expected_parameter_count(parse(kPhi3Mini4k)), 3821079552);
  EXPECT_EQ(expected_parameter_count(parse(kPhi2)), 2779683840);
  EXPECT_EQ(expected_parameter_count(parse(kLlama32_1B)), 1235814400);
  EXPECT_EQ(expected_parameter_count(parse(kTinyLlama)), 1100048384);
  EXPECT_EQ(expected_parameter_count(parse(kMistral7B)), 7241732096);
}

TEST(ModelConfig, LlamaFamilyFields) {
  const ModelConfig c = parse(kSmolLM2);
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.num_kv_heads, 3);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c.rope_theta, 100000);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
  EXPECT_FALSE(c.rope_scaling.has_value());
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(linear_module_names(c),
            (std::vector<std::string>{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}));

  const ModelConfig l = parse(kLlama32_1B);
  ASSERT_TRUE(l.rope_scaling.has_value());
  EXPECT_EQ(l.rope_scaling->type, "llama3");
  EXPECT_DOUBLE_EQ(l.rope_scaling->factor, 32.0);
  EXPECT_EQ(l.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_EQ(l.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));

  const ModelConfig m = parse(kMistral7B);
  EXPECT_EQ(m.family, Family::Mistral);
  EXPECT_EQ(m.sliding_window, 4096);
}

TEST(ModelConfig, Qwen2HasQkvBiasOnly) {
  const ModelConfig c = parse(kQwen25);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.output_proj_bias);
  EXPECT_FALSE(c.sliding_window.has_value());  // use_sliding_window is false
  bool saw_q_bias = false;
  for (const auto& spec : expected_tensors(c)) {
    if (spec.hf_name == "model.layers.0.self_attn.q_proj.bias") {
      saw_q_bias = true;
      EXPECT_EQ(spec.shape, (Shape{896}));
      EXPECT_EQ(spec.gguf_name, "blk.0.attn_q.bias");
    }
    EXPECT_NE(spec.hf_name, "model.layers.0.self_attn.o_proj.bias");
    EXPECT_NE(spec.hf_name, "lm_head.weight");  // tied
  }
  EXPECT_TRUE(saw_q_bias);
}

TEST(ModelConfig, Phi3FusedProjectionsAndLongRope) {
  const ModelConfig c = parse(kPhi3Mini4k);
  EXPECT_TRUE(c.fused_qkv);
  EXPECT_TRUE(c.fused_gate_up);
  EXPECT_EQ(c.pad_token_id, 32000);
  EXPECT_EQ(linear_module_names(c), (std::vector<std::string>{"qkv_proj", "o_proj", "gate_up_proj", "down_proj"}));

  // The 128k variant: rope_scaling of the older "su" type with 48 factors (head_dim 96 / 2).
  Json long_context = Json::parse(kPhi3Mini4k);
  long_context["max_position_embeddings"] = 131072;
  Json short_factor = Json::array(), long_factor = Json::array();
  for (int i = 0; i < 48; ++i) {
    short_factor.push_back(1.0 + i * 0.01);
    long_factor.push_back(1.0 + i * 0.5);
  }
  long_context["rope_scaling"] = {{"type", "su"}, {"short_factor", short_factor}, {"long_factor", long_factor}};
  const ModelConfig l = parse_model_config(long_context, "config.json");
  ASSERT_TRUE(l.rope_scaling.has_value());
  EXPECT_EQ(l.rope_scaling->type, "longrope");
  EXPECT_EQ(l.rope_scaling->original_max_position_embeddings, 4096);
  EXPECT_EQ(l.rope_scaling->long_factor.size(), 48u);
  EXPECT_DOUBLE_EQ(l.rope_scaling->long_factor[2], 2.0);

  long_context["rope_scaling"]["long_factor"] = Json::array({1.0, 2.0});
  EXPECT_THROW(parse_model_config(long_context, "config.json"), Error);
}

TEST(ModelConfig, Phi2PartialRotaryLayerNormParallelBlock) {
  const ModelConfig c = parse(kPhi2);
  EXPECT_EQ(c.family, Family::Phi);
  EXPECT_EQ(c.norm, Norm::LayerNorm);
  EXPECT_EQ(c.activation, Activation::GeluTanh);
  EXPECT_TRUE(c.parallel_block);
  EXPECT_EQ(c.head_dim, 80);
  EXPECT_EQ(c.rotary_dim(), 32);  // 80 × 0.4
  EXPECT_EQ(linear_module_names(c), (std::vector<std::string>{"q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"}));
}

TEST(ModelConfig, RefusesOtherObjectivesWithAReason) {
  const std::string bert = error_of(R"({"architectures": ["BertForMaskedLM"], "model_type": "bert",
      "hidden_size": 768, "num_attention_heads": 12, "num_hidden_layers": 12, "vocab_size": 30522})");
  EXPECT_NE(bert.find("masked language model"), std::string::npos) << bert;
  EXPECT_NE(bert.find("config.json"), std::string::npos);
  const std::string t5 = error_of(R"({"architectures": ["T5ForConditionalGeneration"], "model_type": "t5",
      "is_encoder_decoder": true, "d_model": 512, "num_heads": 8, "num_layers": 6, "vocab_size": 32128})");
  EXPECT_NE(t5.find("encoder-decoder (seq2seq)"), std::string::npos) << t5;
  const std::string bare_t5 = error_of(R"({"architectures": ["T5ForConditionalGeneration"]})");
  EXPECT_NE(bare_t5.find("seq2seq"), std::string::npos) << bare_t5;
  const std::string bart = error_of(R"({"architectures": ["BartForConditionalGeneration"], "model_type": "bart"})");
  EXPECT_NE(bart.find("seq2seq"), std::string::npos) << bart;
  const std::string neox = error_of(R"({"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox"})");
  EXPECT_NE(neox.find("'GPTNeoXForCausalLM' is not supported; supported: LlamaForCausalLM"), std::string::npos) << neox;
}

TEST(ModelConfig, BadValuesNameTheKey) {
  EXPECT_NE(error_of(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 10})").find("'hidden_size' is missing"),
            std::string::npos);
  const std::string text = error_of(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 10, "hidden_size": "64",
      "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2})");
  EXPECT_NE(text.find("'hidden_size' must be an integer"), std::string::npos) << text;
  const std::string heads = error_of(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 10, "hidden_size": 64,
      "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3})");
  EXPECT_NE(heads.find("multiple of num_key_value_heads"), std::string::npos) << heads;
  EXPECT_THROW(parse_model_config(Json::array(), "config.json"), Error);
}

TEST(ModelConfig, RoundTripsThroughJson) {
  for (const char* text : {kSmolLM2, kQwen25, kPhi3Mini4k, kPhi2, kLlama32_1B}) {
    const ModelConfig a = parse(text);
    const ModelConfig b = parse_model_config(model_config_to_json(a), "written");
    EXPECT_EQ(expected_tensors(a).size(), expected_tensors(b).size());
    EXPECT_EQ(expected_parameter_count(a), expected_parameter_count(b));
    EXPECT_EQ(a.rotary_dim(), b.rotary_dim());
    EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
    EXPECT_EQ(a.rope_scaling.has_value(), b.rope_scaling.has_value());
  }
}
