#include "kernels/cross_entropy.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "kernels/activations.hpp"

namespace slmtune::kernels {

CrossEntropyResult cross_entropy(const float* hidden, const WeightMatrix& output, const float* bias,
                                 const int32_t* targets, int64_t rows, float* dhidden, float* doutput, float* dbias,
                                 const CrossEntropyOptions& options) {
  const int64_t vocab = output.rows, dim = output.cols;
  if (vocab <= 0 || dim <= 0) fail("cross_entropy: output matrix is empty ({}x{})", vocab, dim);
  // Only counted rows are ever multiplied: prompt tokens under a loss mask cost nothing.
  std::vector<int64_t> counted;
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] == options.ignore_index) continue;
    if (targets[r] < 0 || targets[r] >= vocab)
      fail("cross_entropy: target {} at row {} is outside the vocabulary [0, {})", targets[r], r, vocab);
    counted.push_back(r);
  }
  CrossEntropyResult result;
  result.count = static_cast<int64_t>(counted.size());
  if (counted.empty()) return result;

  const bool backward = dhidden || doutput || dbias;
  // As few blocks as max_logits allows, of equal size: each block streams the whole output matrix
  // twice (logits, then d hidden), so fewer blocks cost less, and equal ones hold no more than needed.
  const int64_t largest_block = std::clamp<int64_t>(options.max_logits / vocab, 1, result.count);
  const int64_t blocks = (result.count + largest_block - 1) / largest_block;
  const int64_t block = (result.count + blocks - 1) / blocks;
  const float gradient_weight = options.grad_scale / static_cast<float>(result.count);
  std::vector<float> inputs(static_cast<size_t>(block * dim)), logits(static_cast<size_t>(block * vocab));
  std::vector<float> lse(static_cast<size_t>(block)), input_grads(dhidden ? static_cast<size_t>(block * dim) : 0);
  double total = 0.0;
  for (int64_t start = 0; start < result.count; start += block) {
    const int64_t n = std::min(block, result.count - start);
    for (int64_t i = 0; i < n; ++i)
      std::copy_n(hidden + counted[start + i] * dim, dim, inputs.data() + i * dim);
    linear_forward(logits.data(), inputs.data(), output, bias, n);
    // loss = lse − logit[target], read before the logits turn into probabilities in place.
    std::vector<float> target_logits(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) target_logits[i] = logits[i * vocab + targets[counted[start + i]]];
    // d(grad_scale × mean loss)/d logits = (softmax − one_hot(target)) × grad_scale / count: the
    // softmax comes out already weighted, on every thread.
    softmax_forward(logits.data(), logits.data(), n, vocab, lse.data(), backward ? gradient_weight : 1.0f);
    for (int64_t i = 0; i < n; ++i) total += static_cast<double>(lse[i]) - static_cast<double>(target_logits[i]);
    if (!backward) continue;
    for (int64_t i = 0; i < n; ++i) logits[i * vocab + targets[counted[start + i]]] -= gradient_weight;
    linear_backward(dhidden ? input_grads.data() : nullptr, doutput, dbias, logits.data(), inputs.data(), output, n,
                    GradientStore::Overwrite);
    if (dhidden)
      for (int64_t i = 0; i < n; ++i) {
        float* destination = dhidden + counted[start + i] * dim;
        for (int64_t c = 0; c < dim; ++c) destination[c] += input_grads[i * dim + c];
      }
  }
  result.loss = total / static_cast<double>(result.count);
  return result;
}

}  // namespace slmtune::kernels
