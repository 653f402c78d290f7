// eval and assist load a run (model + --adapter) through LoadedModel: an adapter trained with
// lora.bias all must come with its trained biases, so the loaded model gives exactly the logits of the
// weights it was trained into (a tiny random phi-2 with phi-2's vocabulary, so its real tokenizer fits).
#include <gtest/gtest.h>

#include <random>

#include "eval/loaded_model.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "peft/adapter_biases.hpp"
#include "peft/adapter_io.hpp"
#include "support/test_support.hpp"

namespace slmtune::eval {
namespace {

using slmtune::testing::TempDir;
using slmtune::testing::testdata;

std::vector<float> logits_of(Transformer& model) {
  Batch batch;
  batch.batch_size = 1;
  batch.seq_len = 5;
  batch.input_ids = {464, 3290, 318, 257, 1332};
  return model.forward(batch).logits;
}

TEST(LoadedModel, AnAdapterWithTrainedBiasesBringsThem) {
  TempDir dir;
  ModelConfig config = find_model_preset("tiny-phi2").config;
  config.vocab_size = 51200;  // phi-2's, so that its tokenizer loads with the model
  write_random_model(config, dir / "model", RandomInitOptions{});
  std::filesystem::copy_file(testdata("tokenizers/microsoft-phi-2/tokenizer.json"), dir / "model" / "tokenizer.json");
  slmtune::testing::write_text(dir / "model" / "chat_template.jinja", "{% for m in messages %}{{ m.content }}{% endfor %}");

  // What a run leaves: the adapters and the biases moved by training, saved together.
  auto trained = std::make_shared<ModelWeights>(ModelWeights::load_hf(dir / "model"));
  peft::LoraConfig lora;
  lora.r = 4;
  lora.lora_alpha = 8;
  lora.target_modules = {"q_proj", "fc2"};
  lora.bias = peft::LoraBias::All;
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  for (const auto& b : peft::adapter_biases(lora, trained->config()))
    for (float& v : trained->trainable_values(static_cast<size_t>(trained->index(b.hf_name)))) v += normal(rng);
  peft::LoraModel adapters(lora, trained, 1);
  for (size_t i = 0; i < adapters.size(); ++i)
    for (const auto& p : adapters.adapter(i).parameters())
      for (float& v : p.value) v += normal(rng);
  adapters.set_training(false);
  peft::save_adapter(adapters, dir / "run");
  Transformer reference(trained);
  adapters.attach(reference);

  LoadedModel loaded = LoadedModel::load({dir / "model", dir / "run", "", ""});
  EXPECT_EQ(logits_of(*loaded.model.transformer), logits_of(reference));
  // The base model alone gives other logits, so the equality above says something.
  LoadedModel base = LoadedModel::load({dir / "model", "", "", ""});
  EXPECT_NE(logits_of(*base.model.transformer), logits_of(reference));
}

}  // namespace
}  // namespace slmtune::eval
