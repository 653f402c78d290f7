#include "peft/run_adapter.hpp"

#include "peft/adapter_biases.hpp"
#include "peft/adapter_io.hpp"
#include "peft/trainable_tokens.hpp"

namespace slmtune::peft {

RunAdapter load_run_adapter(const std::filesystem::path& dir, std::shared_ptr<const ModelWeights> base) {
  RunAdapter out;
  out.weights = std::move(base);
  if (auto grown = apply_trainable_tokens(dir, *out.weights)) {
    out.weights = std::move(grown);
    out.tokens_applied = true;
  }
  if (auto biased = apply_adapter_biases(dir, *out.weights)) {
    out.weights = std::move(biased);
    out.biases_applied = true;
  }
  out.adapters = load_adapter(dir, out.weights);
  return out;
}

}  // namespace slmtune::peft
