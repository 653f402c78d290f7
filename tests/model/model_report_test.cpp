// Model directories built the way Hugging Face saves them, checked against the state_dict keys and
// shapes of transformers' modeling code (written out here by hand from modeling_llama.py,
// modeling_mistral.py, modeling_qwen2.py, modeling_phi3.py and modeling_phi.py), and the GGUF models
// of ../shared/testdata checked against the facts SOURCES.md gives for them.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.hpp"
#include "formats/safetensors.hpp"
#include "model/model_report.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;

namespace {
using NamedShapes = std::map<std::string, Shape>;

NamedShapes layer0_and_globals(const ModelReport& report) {
  NamedShapes out;
  for (const auto& t : report.tensors)
    if (t.name.find("layers.1.") == std::string::npos) out[t.name] = t.shape;
  return out;
}

ModelReport fixture(const std::string& preset, const TempDir& dir) {
  write_random_model(find_model_preset(preset).config, dir.path(), {});
  return inspect_model(dir.path());
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

// hidden 64, 4 heads of 16, 2 KV heads, MLP 128, vocab 512, 2 layers.
TEST(ModelReport, LlamaStateDictKeys) {
  TempDir dir;
  const ModelReport r = fixture("tiny-llama", dir);
  const NamedShapes expected = {
      {"model.embed_tokens.weight", {512, 64}},
      {"model.layers.0.self_attn.q_proj.weight", {64, 64}},
      {"model.layers.0.self_attn.k_proj.weight", {32, 64}},
      {"model.layers.0.self_attn.v_proj.weight", {32, 64}},
      {"model.layers.0.self_attn.o_proj.weight", {64, 64}},
      {"model.layers.0.mlp.gate_proj.weight", {128, 64}},
      {"model.layers.0.mlp.up_proj.weight", {128, 64}},
      {"model.layers.0.mlp.down_proj.weight", {64, 128}},
      {"model.layers.0.input_layernorm.weight", {64}},
      {"model.layers.0.post_attention_layernorm.weight", {64}},
      {"model.norm.weight", {64}},
      {"lm_head.weight", {512, 64}},
  };
  EXPECT_EQ(layer0_and_globals(r), expected);
  EXPECT_EQ(r.tensors.size(), 3u + 9u * 2u);
  // embed + lm_head + 2 × (q,o 64×64; k,v 32×64; 3 MLP 128×64; 2 norms) + final norm
  const int64_t per_layer = 2 * 64 * 64 + 2 * 32 * 64 + 3 * 128 * 64 + 2 * 64;
  EXPECT_EQ(r.total_parameters, 2 * 512 * 64 + 2 * per_layer + 64);
  EXPECT_EQ(r.dtypes, (std::vector<std::string>{"F32"}));
  ASSERT_EQ(r.lora_targets.size(), 7u);
  EXPECT_EQ(r.lora_targets[0].short_name, "q_proj");
  EXPECT_EQ(r.lora_targets[0].modules,
            (std::vector<std::string>{"model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj"}));
  EXPECT_TRUE(r.unknown_tensors.empty());
}

TEST(ModelReport, MistralStateDictKeysAreLlamas) {
  TempDir dir;
  const ModelReport r = fixture("tiny-mistral", dir);
  EXPECT_EQ(r.config.family, Family::Mistral);
  EXPECT_EQ(r.tensors.size(), 21u);
  EXPECT_EQ(layer0_and_globals(r).count("model.layers.0.mlp.gate_proj.weight"), 1u);
}

TEST(ModelReport, Qwen2StateDictKeys) {
  TempDir dir;
  const ModelReport r = fixture("tiny-qwen2", dir);
  const NamedShapes expected = {
      {"model.embed_tokens.weight", {512, 64}},
      {"model.layers.0.self_attn.q_proj.weight", {64, 64}},
      {"model.layers.0.self_attn.q_proj.bias", {64}},
      {"model.layers.0.self_attn.k_proj.weight", {32, 64}},
      {"model.layers.0.self_attn.k_proj.bias", {32}},
      {"model.layers.0.self_attn.v_proj.weight", {32, 64}},
      {"model.layers.0.self_attn.v_proj.bias", {32}},
      {"model.layers.0.self_attn.o_proj.weight", {64, 64}},
      {"model.layers.0.mlp.gate_proj.weight", {128, 64}},
      {"model.layers.0.mlp.up_proj.weight", {128, 64}},
      {"model.layers.0.mlp.down_proj.weight", {64, 128}},
      {"model.layers.0.input_layernorm.weight", {64}},
      {"model.layers.0.post_attention_layernorm.weight", {64}},
      {"model.norm.weight", {64}},
  };  // tied: no lm_head.weight
  EXPECT_EQ(layer0_and_globals(r), expected);
}

TEST(ModelReport, Phi3StateDictKeys) {
  TempDir dir;
  const ModelReport r = fixture("tiny-phi3", dir);
  const NamedShapes expected = {
      {"model.embed_tokens.weight", {512, 64}},
      {"model.layers.0.self_attn.qkv_proj.weight", {64 + 2 * 32, 64}},
      {"model.layers.0.self_attn.o_proj.weight", {64, 64}},
      {"model.layers.0.mlp.gate_up_proj.weight", {2 * 128, 64}},
      {"model.layers.0.mlp.down_proj.weight", {64, 128}},
      {"model.layers.0.input_layernorm.weight", {64}},
      {"model.layers.0.post_attention_layernorm.weight", {64}},
      {"model.norm.weight", {64}},
      {"lm_head.weight", {512, 64}},
  };
  EXPECT_EQ(layer0_and_globals(r), expected);
  std::vector<std::string> names;
  for (const auto& g : r.lora_targets) names.push_back(g.short_name);
  EXPECT_EQ(names, (std::vector<std::string>{"qkv_proj", "o_proj", "gate_up_proj", "down_proj"}));
}

TEST(ModelReport, Phi2StateDictKeys) {
  TempDir dir;
  const ModelReport r = fixture("tiny-phi2", dir);
  const NamedShapes expected = {
      {"model.embed_tokens.weight", {512, 64}},
      {"model.layers.0.self_attn.q_proj.weight", {64, 64}},
      {"model.layers.0.self_attn.q_proj.bias", {64}},
      {"model.layers.0.self_attn.k_proj.weight", {64, 64}},
      {"model.layers.0.self_attn.k_proj.bias", {64}},
      {"model.layers.0.self_attn.v_proj.weight", {64, 64}},
      {"model.layers.0.self_attn.v_proj.bias", {64}},
      {"model.layers.0.self_attn.dense.weight", {64, 64}},
      {"model.layers.0.self_attn.dense.bias", {64}},
      {"model.layers.0.mlp.fc1.weight", {256, 64}},
      {"model.layers.0.mlp.fc1.bias", {256}},
      {"model.layers.0.mlp.fc2.weight", {64, 256}},
      {"model.layers.0.mlp.fc2.bias", {64}},
      {"model.layers.0.input_layernorm.weight", {64}},
      {"model.layers.0.input_layernorm.bias", {64}},
      {"model.final_layernorm.weight", {64}},
      {"model.final_layernorm.bias", {64}},
      {"lm_head.weight", {512, 64}},
      {"lm_head.bias", {512}},
  };
  EXPECT_EQ(layer0_and_globals(r), expected);
  EXPECT_EQ(r.config.rotary_dim(), 8);
}

TEST(ModelReport, StoredDtypeIsReported) {
  TempDir dir;
  RandomInitOptions options;
  options.dtype = DType::BF16;
  write_random_model(find_model_preset("tiny-llama").config, dir.path(), options);
  const ModelReport r = inspect_model(dir.path());
  EXPECT_EQ(r.dtypes, (std::vector<std::string>{"BF16"}));
  EXPECT_EQ(r.config.torch_dtype, "bfloat16");
}

TEST(ModelReport, ShardedDirectory) {
  TempDir source, sharded;
  write_random_model(find_model_preset("tiny-llama").config, source.path(), {});
  const auto model = safetensors::Model::open(source.path());
  safetensors::Writer first, second;
  Json weight_map;
  for (const auto& name : model.names()) {
    const bool in_first = name.find("layers.1.") == std::string::npos;
    (in_first ? first : second).add(name, model.tensor(name).to_f32());
    weight_map[name] = in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  first.write(sharded / "model-00001-of-00002.safetensors");
  second.write(sharded / "model-00002-of-00002.safetensors");
  slmtune::testing::write_text(sharded / "model.safetensors.index.json",
                               Json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump());
  std::filesystem::copy_file(source / "config.json", sharded / "config.json");
  const ModelReport r = inspect_model(sharded.path());
  EXPECT_EQ(r.file_count, 2u);
  EXPECT_EQ(r.tensors.size(), 21u);

  std::filesystem::remove(sharded / "model-00002-of-00002.safetensors");
  EXPECT_NE(error_of([&] { inspect_model(sharded.path()); }).find("model-00002-of-00002.safetensors"), std::string::npos);
}

TEST(ModelReport, MissingOrMisshapedTensorIsNamed) {
  TempDir source, broken;
  write_random_model(find_model_preset("tiny-qwen2").config, source.path(), {});
  const auto model = safetensors::Model::open(source.path());
  std::filesystem::copy_file(source / "config.json", broken / "config.json");
  {
    safetensors::Writer writer;
    for (const auto& name : model.names())
      if (name != "model.layers.1.self_attn.k_proj.bias") writer.add(name, model.tensor(name).to_f32());
    writer.write(broken / "model.safetensors");
  }
  const std::string missing = error_of([&] { inspect_model(broken.path()); });
  EXPECT_NE(missing.find("tensor 'model.layers.1.self_attn.k_proj.bias' is missing (expected shape [32]"),
            std::string::npos)
      << missing;
  {
    safetensors::Writer writer;
    for (const auto& name : model.names())
      writer.add(name, name == "model.layers.0.mlp.up_proj.weight" ? Tensor::zeros(DType::F32, {64, 128})
                                                                    : model.tensor(name).to_f32());
    writer.write(broken / "model.safetensors");
  }
  const std::string shape = error_of([&] { inspect_model(broken.path()); });
  EXPECT_NE(shape.find("tensor 'model.layers.0.mlp.up_proj.weight' has shape [64, 128], expected [128, 64]"),
            std::string::npos)
      << shape;
}

TEST(ModelReport, BadPathsAndConfigs) {
  TempDir dir;
  EXPECT_NE(error_of([&] { inspect_model(dir / "nope"); }).find("no such file or directory"), std::string::npos);
  EXPECT_NE(error_of([&] { inspect_model(dir.path()); }).find("no config.json"), std::string::npos);
  slmtune::testing::write_text(dir / "config.json", R"({"architectures": ["RobertaForMaskedLM"], "model_type": "roberta"})");
  EXPECT_NE(error_of([&] { inspect_model(dir.path()); }).find("masked language model"), std::string::npos);
  slmtune::testing::write_text(dir / "config.json", R"({"architectures": ["FalconForCausalLM"]})");
  EXPECT_NE(error_of([&] { inspect_model(dir.path()); }).find("supported: LlamaForCausalLM"), std::string::npos);
  write_random_model(find_model_preset("tiny-llama").config, dir.path(), {});
  std::filesystem::remove(dir / "model.safetensors");
  EXPECT_NE(error_of([&] { inspect_model(dir.path()); }).find("no model.safetensors"), std::string::npos);
}

// Facts from SOURCES.md: 18 KV, 12 tensors, n_embd 8, 1 block, 2 heads, ff 32, vocab 32000, F16
// matrices and F32 norms.
TEST(ModelReport, LlamaTinyRandomGguf) {
  const ModelReport r = inspect_model(testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"));
  EXPECT_EQ(r.format, "gguf");
  EXPECT_EQ(r.config.family, Family::Llama);
  EXPECT_EQ(r.config.hidden_size, 8);
  EXPECT_EQ(r.config.num_layers, 1);
  EXPECT_EQ(r.config.num_heads, 2);
  EXPECT_EQ(r.config.intermediate_size, 32);
  EXPECT_EQ(r.config.vocab_size, 32000);
  EXPECT_FALSE(r.config.tie_word_embeddings);
  EXPECT_EQ(r.tensors.size(), 12u);
  std::set<std::string> dtypes(r.dtypes.begin(), r.dtypes.end());
  EXPECT_EQ(dtypes, (std::set<std::string>{"F16", "F32"}));
  for (const auto& t : r.tensors)
    EXPECT_EQ(t.dtype, t.shape.size() == 2 ? "F16" : "F32") << t.name;
}

// hidden 64, 2 layers, 4 heads, 2 KV heads (head dim 16), FFN 128, tied; qwen2 with q/k/v biases and
// rope base 1e6; phi3 with fused attn_qkv and ffn_up, vocab 32064.
TEST(ModelReport, TinyRandomQwen2AndPhi3Gguf) {
  const ModelReport q = inspect_model(testdata("models/tiny-random-gguf/tiny-random-qwen2.gguf"));
  EXPECT_EQ(q.config.family, Family::Qwen2);
  EXPECT_EQ(q.config.head_dim, 16);
  EXPECT_EQ(q.config.num_kv_heads, 2);
  EXPECT_TRUE(q.config.tie_word_embeddings);
  EXPECT_TRUE(q.config.qkv_bias);
  EXPECT_DOUBLE_EQ(q.config.rope_theta, 1e6);
  EXPECT_EQ(q.config.vocab_size, 50257);
  const ModelReport p = inspect_model(testdata("models/tiny-random-gguf/tiny-random-phi3.gguf"));
  EXPECT_EQ(p.config.family, Family::Phi3);
  EXPECT_EQ(p.config.vocab_size, 32064);
  EXPECT_EQ(p.config.intermediate_size, 128);
  bool fused = false;
  for (const auto& t : p.tensors)
    if (t.name == "blk.0.attn_qkv.weight") fused = (t.shape == Shape{128, 64});
  EXPECT_TRUE(fused);
}
