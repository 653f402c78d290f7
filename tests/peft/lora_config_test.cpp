// target_modules resolved as PEFT resolves them (suffix match on module names, full-match regex,
// all-linear without lm_head), the config's validation, and PEFT's JSON keys.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/presets.hpp"
#include "peft/lora_config.hpp"

using namespace slmtune;
using namespace slmtune::peft;

namespace {

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> modules(const std::vector<LoraTarget>& targets) {
  std::vector<std::string> names;
  for (const auto& t : targets) names.push_back(t.module_name);
  return names;
}

LoraConfig with_targets(std::vector<std::string> targets) {
  LoraConfig c;
  c.target_modules = std::move(targets);
  return c;
}

}  // namespace

TEST(LoraConfig, ShortAndFullNamesMatchModuleSuffixes) {
  const ModelConfig llama = find_model_preset("tiny-llama").config;
  const auto t = resolve_targets(with_targets({"v_proj", "q_proj", "model.layers.1.mlp.down_proj"}), llama);
  EXPECT_EQ(modules(t), (std::vector<std::string>{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                                                  "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
                                                  "model.layers.1.mlp.down_proj"}));
  EXPECT_EQ(t[0].out_features, llama.q_size());
  EXPECT_EQ(t[0].in_features, llama.hidden_size);
  EXPECT_EQ(t[1].out_features, llama.kv_size());
  EXPECT_EQ(t[4].in_features, llama.intermediate_size);
  EXPECT_EQ(t[4].layer, 1);
  EXPECT_EQ(t[4].linear_name, "down_proj");
}

TEST(LoraConfig, RegexMustMatchTheWholeModuleName) {
  const ModelConfig llama = find_model_preset("tiny-llama").config;
  LoraConfig c;
  c.target_regex = R"(.*\.1\.self_attn\.(q|k)_proj)";
  EXPECT_EQ(modules(resolve_targets(c, llama)),
            (std::vector<std::string>{"model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj"}));
  c.target_regex = "q_proj";  // re.fullmatch: a bare name matches no full module name
  EXPECT_NE(error_of([&] { resolve_targets(c, llama); }).find("matches no linear module"), std::string::npos);
  c.target_regex = "(";
  EXPECT_NE(error_of([&] { resolve_targets(c, llama); }).find("not a valid regular expression"), std::string::npos);
}

TEST(LoraConfig, AllLinearCoversEveryBlockLinearButNotLmHead) {
  const ModelConfig phi3 = find_model_preset("tiny-phi3").config;
  ASSERT_FALSE(phi3.tie_word_embeddings);  // an lm_head exists and must be left out
  LoraConfig c;
  c.target_regex = "all-linear";
  const auto t = resolve_targets(c, phi3);
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[0].module_name, "model.layers.0.self_attn.qkv_proj");
  EXPECT_EQ(t[0].out_features, phi3.q_size() + 2 * phi3.kv_size());
  EXPECT_EQ(t[2].module_name, "model.layers.0.mlp.gate_up_proj");
  for (const auto& target : t) EXPECT_EQ(target.module_name.find("lm_head"), std::string::npos);
}

TEST(LoraConfig, UnknownTargetListsTheLinearModulesThatExist) {
  const ModelConfig phi2 = find_model_preset("tiny-phi2").config;
  const std::string message = error_of([&] { resolve_targets(with_targets({"q_proj", "o_proj"}), phi2); });
  EXPECT_NE(message.find("'o_proj' is not a linear module of this PhiForCausalLM model"), std::string::npos) << message;
  EXPECT_NE(message.find("(linear modules: q_proj, k_proj, v_proj, dense, fc1, fc2)"), std::string::npos) << message;
  EXPECT_NE(error_of([&] { resolve_targets(with_targets({"lm_head"}), phi2); }).find("selects lm_head"), std::string::npos);
}

TEST(LoraConfig, ValidationRefusesBadValues) {
  LoraConfig c = with_targets({"q_proj"});
  c.r = 0;
  EXPECT_NE(error_of([&] { validate(c, "cfg.yaml"); }).find("cfg.yaml: r must be a positive integer, got 0"), std::string::npos);
  c.r = -3;
  EXPECT_NE(error_of([&] { validate(c, "x"); }).find("got -3"), std::string::npos);
  c.r = 8;
  c.lora_dropout = 1.0;
  EXPECT_NE(error_of([&] { validate(c, "x"); }).find("lora_dropout must be in [0, 1)"), std::string::npos);
  c.lora_dropout = 0.1;
  c.target_modules.clear();
  EXPECT_NE(error_of([&] { validate(c, "x"); }).find("target_modules is empty"), std::string::npos);
  const Json bad = Json::parse(R"({"peft_type": "LORA", "r": 0, "target_modules": ["q_proj"]})");
  EXPECT_NE(error_of([&] { lora_config_from_json(bad, "adapter_config.json"); }).find("adapter_config.json: r must be"),
            std::string::npos);
  const Json wrong = Json::parse(R"({"peft_type": "LORA", "r": 4, "target_modules": ["q_proj"], "bias": "some"})");
  EXPECT_NE(error_of([&] { lora_config_from_json(wrong, "a.json"); }).find("bias is 'some'"), std::string::npos);
  const Json ia3 = Json::parse(R"({"peft_type": "IA3", "target_modules": ["q_proj"]})");
  EXPECT_NE(error_of([&] { lora_config_from_json(ia3, "a.json"); }).find("peft_type is 'IA3'"), std::string::npos);
}

TEST(LoraConfig, ScalingIsAlphaOverRankOrOverSqrtRank) {
  LoraConfig c = with_targets({"q_proj"});
  c.r = 16;
  c.lora_alpha = 32;
  EXPECT_DOUBLE_EQ(c.scaling(), 2.0);
  c.use_rslora = true;
  EXPECT_DOUBLE_EQ(c.scaling(), 8.0);
}

TEST(LoraConfig, ReadsAPeftAdapterConfig) {
  // The keys PEFT 0.13 writes for a DoRA adapter (values as in its documentation's example).
  const Json json = Json::parse(R"({
    "alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M",
    "bias": "lora_only", "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": "gaussian",
    "layers_pattern": null, "layers_to_transform": null, "lora_alpha": 32, "lora_dropout": 0.05,
    "modules_to_save": ["lm_head"], "peft_type": "LORA", "r": 16, "rank_pattern": {}, "revision": null,
    "target_modules": ["q_proj", "v_proj"], "task_type": "CAUSAL_LM", "use_dora": true, "use_rslora": true})");
  const LoraConfig c = lora_config_from_json(json, "adapter_config.json");
  EXPECT_EQ(c.r, 16);
  EXPECT_EQ(c.lora_alpha, 32.0);
  EXPECT_EQ(c.lora_dropout, 0.05);
  EXPECT_EQ(c.bias, LoraBias::LoraOnly);
  EXPECT_TRUE(c.use_dora);
  EXPECT_TRUE(c.use_rslora);
  EXPECT_EQ(c.init_lora_weights, LoraInit::Gaussian);
  EXPECT_EQ(c.modules_to_save, std::vector<std::string>{"lm_head"});
  EXPECT_EQ(c.target_modules, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(c.base_model_name_or_path, "HuggingFaceTB/SmolLM2-135M");
  const Json back = lora_config_to_json(c);
  for (const char* key : {"peft_type", "r", "lora_alpha", "lora_dropout", "target_modules", "bias", "use_dora",
                          "use_rslora", "base_model_name_or_path", "modules_to_save", "init_lora_weights"})
    EXPECT_EQ(back.at(key), json.at(key)) << key;
  EXPECT_EQ(back.at("task_type"), "CAUSAL_LM");
}

TEST(LoraConfig, BiasAndModulesToSaveSelectBaseParameters) {
  const ModelConfig qwen = find_model_preset("tiny-qwen2").config;  // q/k/v biases
  LoraConfig c = with_targets({"q_proj"});
  EXPECT_TRUE(trainable_base_parameters(c, qwen).empty());
  c.bias = LoraBias::LoraOnly;
  EXPECT_EQ(trainable_base_parameters(c, qwen),
            (std::vector<std::string>{"model.layers.0.self_attn.q_proj.bias", "model.layers.1.self_attn.q_proj.bias"}));
  c.bias = LoraBias::All;
  EXPECT_EQ(trainable_base_parameters(c, qwen).size(), 6u);
  c.bias = LoraBias::None;
  c.modules_to_save = {"embed_tokens"};
  EXPECT_EQ(trainable_base_parameters(c, qwen), std::vector<std::string>{"model.embed_tokens.weight"});
  c.modules_to_save = {"nothing_here"};
  EXPECT_NE(error_of([&] { trainable_base_parameters(c, qwen); }).find("modules_to_save: 'nothing_here'"), std::string::npos);
}
