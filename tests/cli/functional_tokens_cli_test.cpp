// Functional tokens end to end on the bundled model (models/maritime-lm, LoRA): `slmtune train` with
// prompt_format functional_tokens adds one special token per function after the vocabulary, grows
// the model, trains the new rows and leaves them in the run as PEFT trainable tokens, with a
// tokenizer that knows them; `slmtune eval` on the run directory loads them back. And pad_token: add.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/atomic_file.hpp"
#include "formats/json.hpp"
#include "formats/safetensors.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::testing::run_slmtune;
using slmtune::testing::shell_quote;
using slmtune::testing::source_dir;
using slmtune::testing::TempDir;

namespace {

std::string train_args(const std::filesystem::path& model, const std::filesystem::path& out, const std::string& extra) {
  return "train " + shell_quote(source_dir() / "examples/maritime/train.yaml") + " --set model=" + shell_quote(model) +
         " --set output_dir=" + shell_quote(out) + " --set data.train=" + shell_quote(source_dir() / "examples/maritime/data/train.csv") +
         " --set data.validation=" + shell_quote(source_dir() / "examples/maritime/data/validation.csv") +
         " --set data.system_prompt=" + shell_quote(source_dir() / "examples/maritime/system_prompt.txt") +
         " --set max_steps=30 --set threads=2 " + extra;
}

// A copy of the bundled model whose vocabulary does not spell the function tokens: the bundled
// tokenizer reserves them (ids 6 and 7, as its pretraining used them); renamed, training must add them.
std::filesystem::path model_without_function_tokens(const TempDir& dir) {
  const auto model = dir / "model";
  std::filesystem::copy(source_dir() / "models/maritime-lm", model, std::filesystem::copy_options::recursive);
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"}) {
    std::string text = read_file(model / file);
    for (const auto& [from, to] : {std::pair{"<fn_categorize_emergency>", "<reserved_6>"},
                                   std::pair{"<fn_broadcast_emergency_message>", "<reserved_7>"}})
      for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at))
        text.replace(at, std::string_view(from).size(), to);
    write_file_atomically(model / file, text);
  }
  return model;
}

}  // namespace

TEST(FunctionalTokensCli, TrainAddsTrainsAndSavesTheTokensAndEvalLoadsThem) {
  TempDir dir;
  const auto model = model_without_function_tokens(dir);
  const int64_t vocab = read_json_file(model / "config.json").at("vocab_size").get<int64_t>();
  const auto r = run_slmtune(train_args(model, dir / "run", ""));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("functional tokens: added 2 special tokens"), std::string::npos) << r.err;

  // The run's tokenizer: both function tokens right after the base vocabulary, special.
  const Json tokenizer = read_json_file(dir / "run/tokenizer.json");
  std::map<std::string, int64_t> ids;
  for (const auto& t : tokenizer.at("added_tokens"))
    if (t.at("id").get<int64_t>() >= vocab) ids[t.at("content")] = t.at("id").get<int64_t>();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_TRUE(ids.count("<fn_categorize_emergency>") && ids.count("<fn_broadcast_emergency_message>"));
  for (const auto& [name, id] : ids) EXPECT_LT(id, vocab + 2) << name;
  EXPECT_TRUE(read_json_file(dir / "run/tokenizer_config.json").at("added_tokens_decoder").contains(std::to_string(vocab)));

  // PEFT trainable tokens: indices and a delta that training moved away from zero.
  const Json config = read_json_file(dir / "run/adapter_config.json");
  EXPECT_EQ(config.at("trainable_token_indices").at("embed_tokens"), Json::array({vocab, vocab + 1}));
  const auto file = safetensors::File::open(dir / "run/adapter_model.safetensors");
  const char* delta_name = "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta";
  ASSERT_NE(file.find(delta_name), nullptr);
  float largest = 0;
  for (float v : file.tensor(delta_name).to_f32_vector()) largest = std::max(largest, std::abs(v));
  EXPECT_GT(largest, 1e-4f);

  // eval on the run directory: the base grows back, the rows are applied, generation runs.
  const auto e = run_slmtune("eval --model " + shell_quote(model) + " --adapter " + shell_quote(dir / "run") + " --data " +
                             shell_quote(source_dir() / "examples/maritime/data/test.csv") + " --max-new-tokens 8 --json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.err.find("trained token rows applied"), std::string::npos) << e.err;
  const Json metrics = Json::parse(e.out);
  EXPECT_EQ(metrics.at("prompt_format"), "functional_tokens");
  EXPECT_EQ(metrics.at("n"), 20);

  // merge: the merged folder holds the grown vocabulary with the trained rows (mean row + delta).
  const auto m = run_slmtune("merge --model " + shell_quote(model) + " --adapter " + shell_quote(dir / "run") +
                             " --out " + shell_quote(dir / "merged"));
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_EQ(m.err.find("ignoring tensor"), std::string::npos) << m.err;  // the token deltas are not stray
  EXPECT_EQ(read_json_file(dir / "merged/config.json").at("vocab_size").get<int64_t>(), vocab + 2);
  const auto base_file = safetensors::File::open(model / "model.safetensors");
  const auto merged_file = safetensors::File::open(dir / "merged/model.safetensors");
  const auto base_rows = base_file.tensor("model.embed_tokens.weight").to_f32_vector();
  const auto merged_rows = merged_file.tensor("model.embed_tokens.weight").to_f32_vector();
  const auto delta = file.tensor(delta_name).to_f32_vector();
  const auto hidden = static_cast<int64_t>(delta.size() / 2);
  ASSERT_EQ(static_cast<int64_t>(merged_rows.size()), (vocab + 2) * hidden);
  for (int64_t j = 0; j < hidden; ++j) {
    double mean = 0;
    for (int64_t r = 0; r < vocab; ++r) mean += base_rows[static_cast<size_t>(r * hidden + j)];
    mean /= static_cast<double>(vocab);
    const double want = mean + delta[static_cast<size_t>(j)];  // the first new token's row
    // The grown row is held in the base's dtype (bf16 here) before the delta is added: its rounding,
    // up to 2^-8 of the mean, stays in the sum even where mean and delta nearly cancel.
    const double tolerance = 1e-2 * (std::abs(want) + 1e-2) + std::ldexp(std::abs(mean), -8);
    EXPECT_NEAR(merged_rows[static_cast<size_t>(vocab * hidden + j)], want, tolerance) << "column " << j;
  }
}

// The bundled tokenizer already holds both function tokens: training uses them as they are, grows
// nothing and saves no trainable-token rows (the adapters alone carry what fine-tuning learns).
TEST(FunctionalTokensCli, TokensTheVocabularyAlreadyHoldsAreUsedAsTheyAre) {
  TempDir dir;
  const auto model = source_dir() / "models/maritime-lm";
  const int64_t vocab = read_json_file(model / "config.json").at("vocab_size").get<int64_t>();
  const auto r = run_slmtune(train_args(model, dir / "run", "--set max_steps=2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("functional tokens: added"), std::string::npos) << r.err;
  EXPECT_FALSE(read_json_file(dir / "run/adapter_config.json").contains("trainable_token_indices"));
  const Json tokenizer = read_json_file(dir / "run/tokenizer.json");  // named: a range-for over a temporary's member dangles
  for (const auto& t : tokenizer.at("added_tokens")) EXPECT_LT(t.at("id").get<int64_t>(), vocab);
}

// The bundled tokenizer already spells <|pad|> (just not configured as pad): `add` reuses it and
// grows nothing (the growth path itself is tested in tests/tokenizer/added_tokens_writer_test.cpp).
TEST(FunctionalTokensCli, PadTokenAddReusesAnExistingPadSpelling) {
  TempDir dir;
  const auto model = model_without_function_tokens(dir);  // so the two function tokens are the only new rows
  Json tc = read_json_file(model / "tokenizer_config.json");
  tc.erase("pad_token");
  write_file_atomically(model / "tokenizer_config.json", tc.dump(2));
  const auto r = run_slmtune(train_args(model, dir / "run", "--set pad_token=add --set max_steps=2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("is already token 3; reusing it (no new row)"), std::string::npos) << r.err;
  EXPECT_EQ(read_json_file(dir / "run/adapter_config.json").at("trainable_token_indices").at("embed_tokens").size(), 2u);
}
