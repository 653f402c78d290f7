// `slmtune logits MODEL --text T [--top K] [--json]`: the last position's K largest next-token logits,
// for comparing a model's numbers with another implementation (transformers, llama.cpp). The text is
// tokenized as the model's tokenizer config says (BOS for Llama-2), special tokens in it recognised.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "formats/json.hpp"
#include "infer/inference_model.hpp"
#include "infer/transformer_model.hpp"

namespace slmtune::cli {
namespace {

struct LogitsOptions {
  std::string model;
  std::string text;
  int64_t top = 10;
  bool json = false;
  bool check_numerics = false;
};

void run_logits(const LogitsOptions& o) {
  if (o.top < 1) fail("logits: --top {} must be at least 1", o.top);
  infer::InferenceModel model = infer::InferenceModel::load(o.model);
  const std::vector<int32_t> ids = model.tokenizer.encode(o.text, /*add_special=*/true, /*parse_special=*/true);
  if (ids.empty()) fail("logits: --text gives no tokens (and the tokenizer adds none); give some text");
  // One full forward: the plainest path, which is what a parity check wants.
  infer::TransformerModel lm(*model.transformer, o.check_numerics, /*use_cache=*/false);
  if (lm.context_length() > 0 && static_cast<int64_t>(ids.size()) > lm.context_length())
    fail("logits: the text has {} tokens, more than the model's context of {} tokens", ids.size(), lm.context_length());
  lm.reset(static_cast<int64_t>(ids.size()));
  const std::vector<float> logits = lm.next_logits(ids);

  const size_t k = std::min<size_t>(static_cast<size_t>(o.top), logits.size());
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  // Descending logit, ties by id, so the listing is the same on every run.
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  if (o.json) {
    Json top = Json::array();
    for (size_t i = 0; i < k; ++i) top.push_back({{"id", order[i]}, {"logit", logits[order[i]]}});
    const Json out = {{"tokens", ids}, {"top", std::move(top)}};
    fmt::print("{}\n", out.dump());
    return;
  }
  for (size_t i = 0; i < k; ++i) {
    const int32_t id = order[i];
    const std::string token = static_cast<size_t>(id) < model.tokenizer.vocab_size() ? model.tokenizer.id_to_token(id) : "";
    fmt::print("{}\t{:.6f}\t{}\n", id, logits[id], Json(token).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

const CommandRegistration registration(62, [](CLI::App& app) {
  auto o = std::make_shared<LogitsOptions>();
  auto* cmd = app.add_subcommand("logits", "Print the last position's top-K next-token logits (for parity checks).\n"
                                           "Example: slmtune logits model.gguf --text 'Hello' --top 5 --json");
  cmd->add_option("MODEL", o->model, "A Hugging Face directory or a .gguf file")->required();
  cmd->add_option("--text", o->text, "The text to run through the model")->required();
  cmd->add_option("--top", o->top, "How many logits to print, largest first")->default_val(10);
  cmd->add_flag("--json", o->json, "Print {\"tokens\": [ids], \"top\": [{\"id\": i, \"logit\": x}, ...]}");
  cmd->add_flag("--check-numerics", o->check_numerics, "Fail naming the layer where a NaN or Inf first appears");
  cmd->callback([o] { run_logits(*o); });
});

}  // namespace
}  // namespace slmtune::cli
