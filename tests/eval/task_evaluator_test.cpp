// The evaluator on a real (tiny, random) transformer: the trainer's hook returns the metrics over every
// validation row, and the greedy generator's token is the argmax of a full forward pass without the
// KV cache (an independent path through the model).
#include <gtest/gtest.h>

#include <memory>

#include "chat/builtin_templates.hpp"
#include "core/atomic_file.hpp"
#include "data/dataset.hpp"
#include "eval/evaluator.hpp"
#include "infer/sampling.hpp"
#include "infer/transformer_model.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "model/weights.hpp"
#include "support/test_support.hpp"
#include "tokenizer/bpe_trainer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::eval {
namespace {

using slmtune::testing::source_dir;
using slmtune::testing::TempDir;

TEST(TaskEvaluator, GreedyMetricsOnATinyTransformer) {
  TempDir dir;
  write_random_model(find_model_preset("tiny-llama").config, dir.path(), RandomInitOptions{});
  tokenizer::BpeTrainerOptions bpe;
  bpe.vocab_size = 512;
  bpe.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  auto trained = tokenizer::train_byte_level_bpe({read_file(source_dir() / "examples/maritime/data/train.csv")}, bpe);
  slmtune::testing::write_text(dir / "tokenizer.json", trained.to_tokenizer_json().dump(2));
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(dir.path());
  auto weights = std::make_shared<const ModelWeights>(ModelWeights::load(dir.path()));
  Transformer transformer(weights);

  data::LoadOptions load;
  load.system_template = read_file(source_dir() / "examples/maritime/system_prompt.txt");
  auto dataset = data::load_dataset(source_dir() / "examples/maritime/data/validation.csv", load);
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  std::vector<data::Example> rows(dataset.examples.begin(), dataset.examples.begin() + std::min<size_t>(3, dataset.examples.size()));
  const chat::ChatTemplate chatml(chat::builtin_template("chatml"), chat::SpecialTokens{});

  GeneratorOptions generation;
  generation.max_new_tokens = 1;
  generation.eos_ids = {*tok.token_to_id("<|im_end|>")};
  TaskEvaluatorFunction evaluator = make_task_evaluator(tok, chatml, rows, EvalOptions{}, generation);
  const auto metrics = evaluator(transformer);
  EXPECT_EQ(metrics.at("n"), static_cast<double>(rows.size()));
  for (const char* key : {"exact_match", "json_valid"}) {
    ASSERT_EQ(metrics.count(key), 1u) << key;
    EXPECT_GE(metrics.at(key), 0.0);
    EXPECT_LE(metrics.at(key), 1.0);
  }
  // Calling it again (the trainer does, every eval_steps) gives the same numbers: greedy, no state kept.
  EXPECT_EQ(evaluator(transformer), metrics);

  const std::string prompt = render_eval_prompt(rows[0], chatml, EvalOptions{});
  TransformerGenerator generator(transformer, tok, generation);
  const Completion c = generator.complete(prompt, rows[0].tools);
  const std::vector<int32_t> ids = tok.encode(prompt, false, true);
  EXPECT_EQ(c.cost.prompt_tokens, static_cast<int64_t>(ids.size()));
  EXPECT_EQ(c.cost.generated_tokens, 1);
  infer::TransformerModel uncached(transformer, false, /*use_cache=*/false);
  uncached.reset(static_cast<int64_t>(ids.size()));
  const std::vector<float> logits = uncached.next_logits(ids);
  const int32_t top = infer::argmax(logits);
  EXPECT_EQ(c.text, top == generation.eos_ids[0] ? std::string() : tok.decode(std::vector<int32_t>{top}));
}

}  // namespace
}  // namespace slmtune::eval
