// lora.bias (PEFT's bias: "all" | "lora_only") on tiny random Qwen2 (q/k/v biases) and phi-2 (biases on
// every linear layer, the LayerNorms and lm_head): which biases are chosen, their gradients through the
// Transformer against central finite differences of the loss, and the adapter file (PEFT's names,
// base_layer for targeted layers) written, read back onto a fresh base, and merged.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "core/error.hpp"
#include "formats/safetensors.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "model/transformer.hpp"
#include "peft/adapter_biases.hpp"
#include "peft/adapter_io.hpp"
#include "peft/lora_model.hpp"
#include "support/random_batch.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using namespace slmtune::peft;
using slmtune::testing::TempDir;

namespace {

std::filesystem::path write_base(const std::string& preset, const TempDir& dir) {
  RandomInitOptions options;
  options.seed = 9;
  write_random_model(find_model_preset(preset).config, dir / "base", options);
  return dir / "base";
}

LoraConfig config_with(const std::vector<std::string>& targets, LoraBias bias) {
  LoraConfig c;
  c.r = 4;
  c.lora_alpha = 8;
  c.target_modules = targets;
  c.bias = bias;
  c.init_lora_weights = LoraInit::Zero;  // B random: the adapters take part in every gradient
  return c;
}

// The bias names of a model file, read from the file itself (not from the architecture table).
std::set<std::string> bias_names_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  const auto file = safetensors::File::open(dir / "model.safetensors");
  for (const auto& t : file.tensors())
    if (t.name.ends_with(".bias")) out.insert(t.name);
  return out;
}

Batch batch_for(int64_t vocab) { return slmtune::testing::random_batch(vocab, 2, 7, 4); }

// Moves every trained bias of `weights` away from its stored value, as training would.
void perturb_biases(ModelWeights& weights, const std::vector<AdapterBias>& biases, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  for (const auto& b : biases)
    for (float& v : weights.trainable_values(static_cast<size_t>(weights.index(b.hf_name)))) v += normal(rng);
}

void perturb_adapters(LoraModel& model) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  for (size_t i = 0; i < model.size(); ++i)
    for (const auto& p : model.adapter(i).parameters())
      for (float& v : p.value) v += normal(rng);
}

std::vector<float> logits_of(std::shared_ptr<const ModelWeights> weights, const LoraModel* adapters) {
  Transformer model(std::move(weights));
  if (adapters) adapters->attach(model);
  return model.forward(batch_for(model.config().vocab_size)).logits;
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  return worst;
}

}  // namespace

TEST(LoraBias, AllTakesEveryBiasOfTheFileAndLoraOnlyThoseOfTheTargets) {
  for (const std::string preset : {"tiny-qwen2", "tiny-phi2", "tiny-llama"}) {
    TempDir dir;
    const auto path = write_base(preset, dir);
    const ModelConfig model = ModelWeights::load_hf(path).config();
    const auto all = trained_bias_names(config_with({"q_proj"}, LoraBias::All), model);
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), bias_names_in(path)) << preset;
    EXPECT_TRUE(trained_bias_names(config_with({"q_proj"}, LoraBias::None), model).empty());
  }
  TempDir dir;
  const ModelConfig phi = ModelWeights::load_hf(write_base("tiny-phi2", dir)).config();
  EXPECT_EQ(trained_bias_names(config_with({"q_proj", "fc2"}, LoraBias::LoraOnly), phi),
            (std::vector<std::string>{"model.layers.0.self_attn.q_proj.bias", "model.layers.0.mlp.fc2.bias",
                                      "model.layers.1.self_attn.q_proj.bias", "model.layers.1.mlp.fc2.bias"}));
  // PEFT's names: a targeted layer's bias sits under its base_layer, any other keeps its own name.
  const auto biases = adapter_biases(config_with({"q_proj"}, LoraBias::All), phi);
  std::set<std::string> peft_names;
  for (const auto& b : biases) peft_names.insert(b.peft_name);
  EXPECT_TRUE(peft_names.count("base_model.model.model.layers.1.self_attn.q_proj.base_layer.bias"));
  EXPECT_TRUE(peft_names.count("base_model.model.model.layers.1.self_attn.k_proj.bias"));
  EXPECT_TRUE(peft_names.count("base_model.model.model.final_layernorm.bias"));
  EXPECT_TRUE(peft_names.count("base_model.model.lm_head.bias"));
  EXPECT_FALSE(peft_names.count("base_model.model.model.layers.1.self_attn.q_proj.bias"));
}

TEST(LoraBias, GradientsThroughTheTransformerMatchFiniteDifferences) {
  struct Probe {
    std::string preset, bias;
  };
  const std::vector<Probe> probes = {
      {"tiny-qwen2", "model.layers.0.self_attn.q_proj.bias"}, {"tiny-qwen2", "model.layers.1.self_attn.v_proj.bias"},
      {"tiny-phi2", "model.layers.0.self_attn.k_proj.bias"},  {"tiny-phi2", "model.layers.0.self_attn.dense.bias"},
      {"tiny-phi2", "model.layers.1.mlp.fc1.bias"},           {"tiny-phi2", "model.layers.0.mlp.fc2.bias"},
      {"tiny-phi2", "model.layers.1.input_layernorm.bias"},   {"tiny-phi2", "model.final_layernorm.bias"},
      {"tiny-phi2", "lm_head.bias"}};
  for (const std::string preset : {"tiny-qwen2", "tiny-phi2"}) {
    TempDir dir;
    auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(write_base(preset, dir)));
    const LoraConfig config =
        config_with(preset == "tiny-phi2" ? std::vector<std::string>{"q_proj", "v_proj", "fc1"}
                                          : std::vector<std::string>{"q_proj", "v_proj", "down_proj"},
                    LoraBias::All);
    const auto biases = adapter_biases(config, weights->config());
    perturb_biases(*weights, biases, 3);
    LoraModel adapters(config, weights, 5);
    Transformer model(weights);
    adapters.attach(model);
    for (const auto& b : biases) model.set_trainable(static_cast<size_t>(weights->index(b.hf_name)), true);
    const Batch batch = batch_for(model.config().vocab_size);
    ForwardOptions keep;
    keep.logits = LogitsMode::None;
    keep.activations = Activations::Keep;
    model.forward(batch, keep);
    model.backward();
    for (const Probe& probe : probes) {
      if (probe.preset != preset) continue;
      const auto index = static_cast<size_t>(weights->index(probe.bias));
      const std::span<float> values = weights->trainable_values(index);
      const std::span<const float> grad = model.gradient(index);
      ASSERT_EQ(grad.size(), values.size()) << probe.bias;
      double largest = 0.0;
      for (size_t k : {size_t{0}, values.size() / 2, values.size() - 1}) {
        const float keep_value = values[k];
        const float h = 1e-2f;
        values[k] = keep_value + h;
        const double up = model.forward(batch, {LogitsMode::None}).loss;
        values[k] = keep_value - h;
        const double down = model.forward(batch, {LogitsMode::None}).loss;
        values[k] = keep_value;
        const double fd = (up - down) / (2.0 * h);
        EXPECT_NEAR(grad[k], fd, 3e-3 * std::fabs(fd) + 3e-5) << probe.bias << "[" << k << "]";
        largest = std::max(largest, std::fabs(fd));
      }
      EXPECT_GT(largest, 1e-4) << probe.bias << ": the loss must depend on the bias for the comparison to mean anything";
    }
  }
}

TEST(LoraBias, AdapterFilesCarryTheBiasesUnderPeftNamesAndRoundTrip) {
  for (const LoraBias mode : {LoraBias::All, LoraBias::LoraOnly}) {
    TempDir dir;
    const auto path = write_base("tiny-phi2", dir);
    // Training's view: the biases change in the base weights the adapters sit on.
    auto trained = std::make_shared<ModelWeights>(ModelWeights::load_hf(path));
    const LoraConfig config = config_with({"q_proj", "fc1"}, mode);
    const auto biases = adapter_biases(config, trained->config());
    perturb_biases(*trained, biases, 11);
    LoraModel adapters(config, trained, 2);
    perturb_adapters(adapters);
    adapters.set_training(false);
    save_adapter(adapters, dir / "adapter");

    EXPECT_EQ(read_json_file(dir / "adapter" / "adapter_config.json").at("bias"), mode == LoraBias::All ? "all" : "lora_only");
    const auto file = safetensors::File::open(dir / "adapter" / "adapter_model.safetensors");
    std::set<std::string> bias_tensors;
    for (const auto& t : file.tensors())
      if (t.name.ends_with(".bias")) bias_tensors.insert(t.name);
    std::set<std::string> expected;
    for (const std::string layer : {"0", "1"}) {
      const std::string prefix = "base_model.model.model.layers." + layer;
      expected.insert(prefix + ".self_attn.q_proj.base_layer.bias");
      expected.insert(prefix + ".mlp.fc1.base_layer.bias");
    }
    if (mode == LoraBias::All)
      for (const auto& name : bias_names_in(path))
        if (name.find("q_proj") == std::string::npos && name.find("fc1") == std::string::npos)
          expected.insert("base_model.model." + name);
    EXPECT_EQ(bias_tensors, expected);
    const auto* q_bias = file.find("base_model.model.model.layers.1.self_attn.q_proj.base_layer.bias");
    ASSERT_NE(q_bias, nullptr);
    const auto q_index = static_cast<size_t>(trained->index("model.layers.1.self_attn.q_proj.bias"));
    EXPECT_EQ(file.tensor(q_bias->name).to_f32_vector(),
              std::vector<float>((*trained)[q_index].vector(), (*trained)[q_index].vector() + 64));

    // Eval's view: a fresh base, the adapter's biases put in, then its adapters attached.
    const ModelWeights fresh = ModelWeights::load_hf(path);
    const std::shared_ptr<const ModelWeights> loaded_base = apply_adapter_biases(dir / "adapter", fresh);
    ASSERT_NE(loaded_base, nullptr);
    const auto loaded = load_adapter(dir / "adapter", loaded_base);
    loaded->set_training(false);
    const auto want = logits_of(trained, &adapters);
    EXPECT_EQ(logits_of(loaded_base, loaded.get()), want);
    // Without the biases the outputs differ (the biases matter), so the equality above is not vacuous.
    const auto without = load_adapter(dir / "adapter", std::make_shared<const ModelWeights>(fresh));
    without->set_training(false);
    EXPECT_GT(max_difference(logits_of(std::make_shared<const ModelWeights>(fresh), without.get()), want), 1e-3);

    // The merged folder holds the trained biases: a plain model with the adapter-and-biases outputs.
    save_merged_model(*loaded, dir / "merged");
    const auto merged = std::make_shared<const ModelWeights>(ModelWeights::load_hf(dir / "merged"));
    double scale = 0.0;
    for (float v : want) scale = std::max(scale, static_cast<double>(std::fabs(v)));
    EXPECT_LE(max_difference(logits_of(merged, nullptr), want), 1e-5 * scale);
  }
}

TEST(LoraBias, PlainNamesAreAcceptedAndAPartialSetIsOneLine) {
  TempDir dir;
  const auto path = write_base("tiny-qwen2", dir);
  auto trained = std::make_shared<ModelWeights>(ModelWeights::load_hf(path));
  const LoraConfig config = config_with({"q_proj"}, LoraBias::LoraOnly);
  const auto biases = adapter_biases(config, trained->config());
  perturb_biases(*trained, biases, 5);
  LoraModel adapters(config, trained, 2);
  save_adapter(adapters, dir / "adapter");
  const auto weights_path = dir / "adapter" / "adapter_model.safetensors";

  // The same tensors with the targeted biases under their plain names (as hand-written adapters have).
  const auto rewrite = [&](bool drop_one) {
    safetensors::Writer writer;
    {
      const auto file = safetensors::File::open(weights_path);
      for (const auto& t : file.tensors()) {
        std::string name = t.name;
        if (name.ends_with(".bias") && drop_one && name.find("layers.1.") != std::string::npos) continue;
        if (const auto at = name.find(".base_layer.bias"); at != std::string::npos) name = name.substr(0, at) + ".bias";
        writer.add(name, Tensor::from_bytes(t.dtype, t.shape, file.tensor(t.name).bytes()));
      }
    }
    writer.write(weights_path);
  };
  rewrite(false);
  const auto loaded = apply_adapter_biases(dir / "adapter", ModelWeights::load_hf(path));
  ASSERT_NE(loaded, nullptr);
  for (const auto& b : biases) {
    const auto& want = (*trained)[static_cast<size_t>(trained->index(b.hf_name))];
    const auto& got = (*loaded)[static_cast<size_t>(loaded->index(b.hf_name))];
    EXPECT_TRUE(std::equal(want.vector(), want.vector() + 64, got.vector())) << b.hf_name;
  }
  rewrite(true);
  try {
    apply_adapter_biases(dir / "adapter", ModelWeights::load_hf(path));
    FAIL() << "a partial set of biases was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_NE(message.find("holds 1 of the 2 biases that bias=lora_only trains"), std::string::npos) << message;
    EXPECT_NE(message.find("layers.1.self_attn.q_proj.base_layer.bias' is missing"), std::string::npos) << message;
  }
}
