#include "model/transformer.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "kernels/cross_entropy.hpp"
#include "kernels/matmul.hpp"
#include "kernels/norm.hpp"
#include "model/kv_cache.hpp"
#include "model/transformer_block.hpp"
#include "model/transformer_rope.hpp"

namespace slmtune {

using detail::BlockActivations;
using detail::BlockContext;
using detail::BlockParams;

struct Transformer::Impl {
  std::shared_ptr<const ModelWeights> weights;
  const ModelConfig* config = nullptr;
  std::vector<BlockParams> blocks;
  int embedding = -1, final_norm = -1, final_norm_bias = -1, lm_head = -1, lm_head_bias = -1;
  std::vector<std::vector<float>> gradients;  // by parameter; empty = frozen
  std::vector<bool> is_trainable;

  // The last training forward's state, which backward consumes.
  struct Saved {
    bool valid = false;
    Activations mode = Activations::None;
    Batch batch;  // ids, mask and positions, normalised
    kernels::RopeTable rope;
    std::vector<BlockActivations> layers;  // Keep: all; Recompute: only x_in of each
    std::vector<float> final_in, final_mean, final_rstd, final_out;
    std::vector<float> dfinal_out;  // the loss's gradient at the final norm's output
  } saved;
  int64_t peak_scratch = 0;

  float* grad(int index) {
    if (index < 0) return nullptr;
    auto& g = gradients[static_cast<size_t>(index)];
    return g.empty() ? nullptr : g.data();
  }
  const WeightEntry& entry(int index) const { return (*weights)[static_cast<size_t>(index)]; }
  BlockContext context(const Batch& batch, const kernels::RopeTable& rope) const;
  void embed(const Batch& batch, float* x) const;
  void embed_backward(const Batch& batch, const float* dx);
  void final_norm_forward(const float* x, float* y, float* mean, float* rstd, int64_t n) const;
};

namespace {

Batch normalised(const Batch& batch, const ModelConfig& config) {
  const int64_t n = batch.batch_size * batch.seq_len;
  if (batch.batch_size <= 0 || batch.seq_len <= 0)
    fail("transformer: batch of {}×{} tokens; both must be positive", batch.batch_size, batch.seq_len);
  if (static_cast<int64_t>(batch.input_ids.size()) != n)
    fail("transformer: {} input ids for a {}×{} batch", batch.input_ids.size(), batch.batch_size, batch.seq_len);
  auto check_size = [&](size_t size, const char* what) {
    if (size != 0 && static_cast<int64_t>(size) != n)
      fail("transformer: {} has {} entries, expected {} ({}×{}) or none", what, size, n, batch.batch_size,
           batch.seq_len);
  };
  check_size(batch.attention_mask.size(), "attention_mask");
  check_size(batch.position_ids.size(), "position_ids");
  check_size(batch.labels.size(), "labels");
  check_size(batch.segment_ids.size(), "segment_ids");
  Batch out = batch;
  for (int64_t i = 0; i < n; ++i)
    if (out.input_ids[i] < 0 || out.input_ids[i] >= config.vocab_size)
      fail("transformer: token id {} at batch row {}, position {} is outside the vocabulary (size {})",
           out.input_ids[i], i / batch.seq_len, i % batch.seq_len, config.vocab_size);
  if (out.attention_mask.empty()) out.attention_mask.assign(static_cast<size_t>(n), 1);
  if (out.position_ids.empty()) {
    out.position_ids.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = i % batch.seq_len;
      const bool restart = t == 0 || (!out.segment_ids.empty() && out.segment_ids[i] != out.segment_ids[i - 1]);
      out.position_ids[i] = restart ? 0 : out.position_ids[i - 1] + 1;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    if (out.position_ids[i] < 0)
      fail("transformer: position id {} at batch row {}, position {} is negative", out.position_ids[i],
           i / batch.seq_len, i % batch.seq_len);
  if (config.max_position_embeddings > 0) {
    const int32_t top = *std::max_element(out.position_ids.begin(), out.position_ids.end());
    if (top >= config.max_position_embeddings)
      fail("transformer: position {} is beyond the model's context of {} tokens", top,
           config.max_position_embeddings);
  }
  if (config.sliding_window && batch.seq_len > *config.sliding_window)
    fail("transformer: sequence of {} tokens is longer than sliding_window {}, which is not supported",
         batch.seq_len, *config.sliding_window);
  return out;
}

void check_finite(const float* x, int64_t count, const std::string& where) {
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(x[i])) fail("transformer: non-finite value {} in the output of {} (element {})", x[i], where, i);
}

// The next-token targets of HF's shifted loss: position t predicts labels[t + 1]. In a packed row the
// last token of a segment has no target: the next token starts another sample.
std::vector<int32_t> shifted_targets(const Batch& batch) {
  std::vector<int32_t> targets(batch.labels.size(), -100);
  const bool packed = !batch.segment_ids.empty();
  for (int64_t b = 0; b < batch.batch_size; ++b)
    for (int64_t t = 0; t + 1 < batch.seq_len; ++t) {
      const int64_t i = b * batch.seq_len + t;
      if (packed && batch.segment_ids[i] != batch.segment_ids[i + 1]) continue;
      targets[i] = batch.labels[i + 1];
    }
  return targets;
}

}  // namespace

BlockContext Transformer::Impl::context(const Batch& batch, const kernels::RopeTable& rope) const {
  BlockContext ctx;
  ctx.weights = weights.get();
  ctx.config = config;
  ctx.shape.batch = batch.batch_size;
  ctx.shape.q_len = batch.seq_len;
  ctx.shape.kv_len = batch.seq_len;
  ctx.shape.q_heads = config->num_heads;
  ctx.shape.kv_heads = config->num_kv_heads;
  ctx.shape.head_dim = config->head_dim;
  ctx.key_mask = batch.attention_mask.data();
  ctx.segments = batch.segment_ids.empty() ? nullptr : batch.segment_ids.data();
  ctx.positions = batch.position_ids.data();
  ctx.rope = &rope;
  return ctx;
}

void Transformer::Impl::embed(const Batch& batch, float* x) const {
  const WeightEntry& table = entry(embedding);
  const int64_t h = config->hidden_size;
  const size_t row_bytes = static_cast<size_t>(h) * dtype_size(table.tensor.dtype());
  for (size_t i = 0; i < batch.input_ids.size(); ++i)
    kernels::expand_to_f32(table.tensor.data() + row_bytes * static_cast<size_t>(batch.input_ids[i]),
                           table.tensor.dtype(), h, x + static_cast<int64_t>(i) * h);
}

void Transformer::Impl::embed_backward(const Batch& batch, const float* dx) {
  float* g = grad(embedding);
  if (!g) return;
  const int64_t h = config->hidden_size;
  for (size_t i = 0; i < batch.input_ids.size(); ++i) {
    float* row = g + static_cast<int64_t>(batch.input_ids[i]) * h;
    const float* d = dx + static_cast<int64_t>(i) * h;
    for (int64_t j = 0; j < h; ++j) row[j] += d[j];
  }
}

void Transformer::Impl::final_norm_forward(const float* x, float* y, float* mean, float* rstd, int64_t n) const {
  const float* w = entry(final_norm).vector();
  const auto eps = static_cast<float>(config->norm_eps);
  if (config->norm == Norm::LayerNorm)
    kernels::layernorm_forward(y, mean, rstd, x, w, final_norm_bias >= 0 ? entry(final_norm_bias).vector() : nullptr,
                               n, config->hidden_size, eps);
  else
    kernels::rmsnorm_forward(y, rstd, x, w, n, config->hidden_size, eps);
}

Transformer::Transformer(std::shared_ptr<const ModelWeights> weights) : impl_(std::make_unique<Impl>()) {
  if (!weights) fail("transformer: no weights");
  impl_->weights = std::move(weights);
  const ModelWeights& w = *impl_->weights;
  impl_->config = &w.config();
  for (int64_t l = 0; l < w.config().num_layers; ++l) impl_->blocks.push_back(detail::block_params(w, l));
  impl_->embedding = w.index("model.embed_tokens.weight");
  const bool phi = w.config().family == Family::Phi;
  impl_->final_norm = w.index(phi ? "model.final_layernorm.weight" : "model.norm.weight");
  impl_->final_norm_bias = w.index(phi ? "model.final_layernorm.bias" : "model.norm.bias");
  impl_->lm_head = w.config().tie_word_embeddings ? impl_->embedding : w.index("lm_head.weight");
  impl_->lm_head_bias = w.index("lm_head.bias");
  if (impl_->embedding < 0 || impl_->final_norm < 0 || impl_->lm_head < 0)
    fail("{}: weights lack the embedding, final norm or lm_head", w.origin());
  impl_->gradients.resize(w.size());
  impl_->is_trainable.assign(w.size(), false);
}

Transformer::~Transformer() = default;

const ModelConfig& Transformer::config() const { return *impl_->config; }
const ModelWeights& Transformer::weights() const { return *impl_->weights; }

ForwardResult Transformer::forward(const Batch& input, const ForwardOptions& options) {
  Impl& m = *impl_;
  const ModelConfig& c = *m.config;
  const bool training = options.activations != Activations::None;
  if (training && input.labels.empty()) fail("transformer: a training forward needs labels");
  m.saved.valid = false;
  Batch batch = normalised(input, c);
  const int64_t n = batch.batch_size * batch.seq_len, h = c.hidden_size;
  const int32_t top_position = *std::max_element(batch.position_ids.begin(), batch.position_ids.end());
  kernels::RopeTable rope =
      kernels::rope_table(kernels::rope_frequencies(rope_config_of(c), top_position + 1), top_position + 1);
  const BlockContext ctx = m.context(batch, rope);
  kernels::check_attention_shape(ctx.shape);

  auto& layers = m.saved.layers;
  const auto layer_count = static_cast<size_t>(c.num_layers);
  if (options.activations == Activations::Keep) layers.resize(layer_count);
  else if (options.activations == Activations::Recompute) layers.assign(layer_count, {});
  BlockActivations scratch;
  std::vector<float> x(static_cast<size_t>(n * h));
  m.embed(batch, x.data());
  for (size_t l = 0; l < layer_count; ++l) {
    BlockActivations& acts = options.activations == Activations::Keep ? layers[l] : scratch;
    acts.x_in.assign(x.begin(), x.end());
    if (options.activations == Activations::Recompute) layers[l].x_in = acts.x_in;
    detail::block_forward(ctx, m.blocks[l], acts, x.data());
    if (options.activations == Activations::Keep) detail::release_rebuildable(acts);
    if (options.check_numerics) check_finite(x.data(), n * h, "model.layers." + std::to_string(l));
  }
  scratch = {};

  auto& s = m.saved;
  s.final_in = std::move(x);
  s.final_mean.resize(static_cast<size_t>(n));
  s.final_rstd.resize(static_cast<size_t>(n));
  s.final_out.resize(static_cast<size_t>(n * h));
  m.final_norm_forward(s.final_in.data(), s.final_out.data(), s.final_mean.data(), s.final_rstd.data(), n);
  if (options.check_numerics) check_finite(s.final_out.data(), n * h, "the final norm");

  ForwardResult result;
  const kernels::WeightMatrix head = m.entry(m.lm_head).matrix();
  const float* head_bias = m.lm_head_bias >= 0 ? m.entry(m.lm_head_bias).vector() : nullptr;
  if (options.logits == LogitsMode::All) {
    result.logits_rows = n;
    result.logits.resize(static_cast<size_t>(n * c.vocab_size));
    kernels::linear_forward(result.logits.data(), s.final_out.data(), head, head_bias, n);
  } else if (options.logits == LogitsMode::Last) {
    result.logits_rows = batch.batch_size;
    std::vector<float> last(static_cast<size_t>(batch.batch_size * h));
    for (int64_t b = 0; b < batch.batch_size; ++b) {
      int64_t t = batch.seq_len - 1;
      while (t > 0 && !batch.attention_mask[b * batch.seq_len + t]) --t;
      std::copy_n(s.final_out.data() + (b * batch.seq_len + t) * h, h, last.data() + b * h);
    }
    result.logits.resize(static_cast<size_t>(batch.batch_size * c.vocab_size));
    kernels::linear_forward(result.logits.data(), last.data(), head, head_bias, batch.batch_size);
  }

  if (!batch.labels.empty()) {
    const std::vector<int32_t> targets = shifted_targets(batch);
    kernels::CrossEntropyOptions ce;
    ce.grad_scale = options.grad_scale;
    if (training) s.dfinal_out.assign(static_cast<size_t>(n * h), 0.0f);
    const auto loss = kernels::cross_entropy(s.final_out.data(), head, head_bias, targets.data(), n,
                                             training ? s.dfinal_out.data() : nullptr,
                                             training ? m.grad(m.lm_head) : nullptr,
                                             training ? m.grad(m.lm_head_bias) : nullptr, ce);
    result.loss = loss.loss;
    result.loss_tokens = loss.count;
  }
  if (training) {
    s.valid = true;
    s.mode = options.activations;
    s.batch = std::move(batch);
    s.rope = std::move(rope);
  } else {
    s = {};
  }
  return result;
}

std::vector<float> Transformer::forward_cached(std::span<const int32_t> tokens, KvCache& cache, LogitsMode logits,
                                              bool check_numerics) {
  Impl& m = *impl_;
  const ModelConfig& c = *m.config;
  const auto n = static_cast<int64_t>(tokens.size());
  const int64_t start = cache.length(), h = c.hidden_size;
  if (n == 0) fail("transformer: forward_cached needs at least one token");
  if (start + n > cache.capacity())
    fail("transformer: {} tokens after {} cached exceed the cache's capacity of {} (the context is {})", n, start,
         cache.capacity(), c.max_position_embeddings);
  Batch batch;
  batch.seq_len = n;
  batch.input_ids.assign(tokens.begin(), tokens.end());
  for (int64_t i = 0; i < n; ++i) batch.position_ids.push_back(static_cast<int32_t>(start + i));
  batch = normalised(batch, c);
  const kernels::RopeTable rope =
      kernels::rope_table(kernels::rope_frequencies(rope_config_of(c), start + n), start + n);
  BlockContext ctx = m.context(batch, rope);
  ctx.key_mask = nullptr;
  ctx.shape.kv_len = start + n;
  ctx.shape.kv_capacity = cache.capacity();
  kernels::check_attention_shape(ctx.shape);

  BlockActivations scratch;
  std::vector<float> x(static_cast<size_t>(n * h));
  m.embed(batch, x.data());
  for (size_t l = 0; l < m.blocks.size(); ++l) {
    ctx.cache_keys = cache.keys(static_cast<int64_t>(l));
    ctx.cache_values = cache.values(static_cast<int64_t>(l));
    scratch.x_in.assign(x.begin(), x.end());
    detail::block_forward(ctx, m.blocks[l], scratch, x.data());
    if (check_numerics) check_finite(x.data(), n * h, "model.layers." + std::to_string(l));
  }
  cache.advance(n);
  const int64_t rows = logits == LogitsMode::All ? n : 1;
  const float* last = x.data() + (n - rows) * h;
  std::vector<float> normed(static_cast<size_t>(rows * h)), mean(static_cast<size_t>(rows)), rstd(mean.size());
  m.final_norm_forward(last, normed.data(), mean.data(), rstd.data(), rows);
  if (logits == LogitsMode::None) return {};
  std::vector<float> out(static_cast<size_t>(rows * c.vocab_size));
  kernels::linear_forward(out.data(), normed.data(), m.entry(m.lm_head).matrix(),
                          m.lm_head_bias >= 0 ? m.entry(m.lm_head_bias).vector() : nullptr, rows);
  return out;
}

void Transformer::backward(const GradientObserver& observer) {
  Impl& m = *impl_;
  auto& s = m.saved;
  if (!s.valid) fail("transformer: backward() needs a training forward (Activations::Keep or Recompute) first");
  const ModelConfig& c = *m.config;
  const int64_t n = s.batch.batch_size * s.batch.seq_len, h = c.hidden_size;
  const BlockContext ctx = m.context(s.batch, s.rope);
  if (observer) observer("lm_head.input", s.dfinal_out);

  std::vector<float> dx(static_cast<size_t>(n * h), 0.0f);
  {
    const float* w = m.entry(m.final_norm).vector();
    if (c.norm == Norm::LayerNorm)
      kernels::layernorm_backward(dx.data(), m.grad(m.final_norm), m.grad(m.final_norm_bias), s.dfinal_out.data(),
                                  s.final_in.data(), w, s.final_mean.data(), s.final_rstd.data(), n, h);
    else
      kernels::rmsnorm_backward(dx.data(), m.grad(m.final_norm), s.dfinal_out.data(), s.final_in.data(), w,
                                s.final_rstd.data(), n, h);
  }
  const detail::GradientLookup grad = [&m](int index) { return m.grad(index); };
  BlockActivations scratch;
  std::vector<float> discard;
  int64_t peak = 0;
  for (size_t l = s.layers.size(); l-- > 0;) {
    const BlockActivations* acts = &s.layers[l];
    if (s.mode == Activations::Recompute) {
      scratch.x_in = s.layers[l].x_in;
      discard.resize(static_cast<size_t>(n * h));
      detail::block_forward(ctx, m.blocks[l], scratch, discard.data());
      acts = &scratch;
      peak = std::max(peak, scratch.bytes());
    }
    detail::block_backward(ctx, m.blocks[l], *acts, dx.data(), dx.data(), grad, observer);
    if (s.mode == Activations::Keep) s.layers[l] = {};  // consumed: release as we go
  }
  m.embed_backward(s.batch, dx.data());
  m.peak_scratch = peak;
  s = {};
}

void Transformer::set_trainable(size_t parameter, bool trainable) {
  Impl& m = *impl_;
  if (parameter >= m.gradients.size()) fail("transformer: parameter index {} out of range", parameter);
  if (trainable && (*m.weights)[parameter].nf4)
    fail("transformer: '{}' is stored in NF4 (a frozen QLoRA base) and cannot be trainable",
         (*m.weights)[parameter].spec.hf_name);
  m.is_trainable[parameter] = trainable;
  if (trainable)
    m.gradients[parameter].assign(static_cast<size_t>(shape_numel((*m.weights)[parameter].spec.shape)), 0.0f);
  else
    std::vector<float>().swap(m.gradients[parameter]);
}

void Transformer::set_trainable(std::string_view hf_name, bool trainable) {
  const int index = impl_->weights->index(hf_name);
  if (index < 0) fail("transformer: no parameter named '{}'", hf_name);
  set_trainable(static_cast<size_t>(index), trainable);
}

void Transformer::set_all_trainable(bool trainable) {
  for (size_t i = 0; i < impl_->gradients.size(); ++i) set_trainable(i, trainable);
}

bool Transformer::trainable(size_t parameter) const { return impl_->is_trainable.at(parameter); }

std::span<float> Transformer::gradient(size_t parameter) { return impl_->gradients.at(parameter); }

void Transformer::zero_gradients() {
  for (auto& g : impl_->gradients) std::fill(g.begin(), g.end(), 0.0f);
}

int64_t Transformer::gradient_bytes() const {
  int64_t total = 0;
  for (const auto& g : impl_->gradients) total += static_cast<int64_t>(g.size() * sizeof(float));
  return total;
}

void Transformer::set_adapter(int64_t layer, std::string_view linear_name, std::shared_ptr<LinearAdapter> adapter) {
  Impl& m = *impl_;
  if (layer < 0 || layer >= static_cast<int64_t>(m.blocks.size()))
    fail("transformer: layer {} out of range (model has {})", layer, m.blocks.size());
  BlockParams& p = m.blocks[static_cast<size_t>(layer)];
  for (detail::LinearRef* ref : {&p.q, &p.k, &p.v, &p.qkv, &p.o, &p.gate, &p.up, &p.gate_up, &p.down}) {
    if (ref->weight >= 0 && ref->name == linear_name) {
      ref->adapter = std::move(adapter);
      return;
    }
  }
  fail("transformer: {} has no linear layer '{}' (see linear_module_names)", m.config->architecture, linear_name);
}

int64_t Transformer::activation_bytes() const {
  int64_t total = 0;
  for (const auto& layer : impl_->saved.layers) total += layer.bytes();
  const auto& s = impl_->saved;
  for (const auto* v : {&s.final_in, &s.final_mean, &s.final_rstd, &s.final_out, &s.dfinal_out})
    total += static_cast<int64_t>(v->capacity() * sizeof(float));
  return total;
}

int64_t Transformer::peak_scratch_bytes() const { return impl_->peak_scratch; }

}  // namespace slmtune
