#include "model/transformer_block.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "kernels/activations.hpp"
#include "kernels/matmul.hpp"
#include "kernels/norm.hpp"
#include "quant/nf4_linear.hpp"

namespace slmtune::detail {
namespace {

template <class... V>
int64_t vector_bytes(const V&... vectors) {
  return ((static_cast<int64_t>(vectors.capacity() * sizeof(float))) + ...);
}

// Sizes an activation buffer; what it held is not kept (every caller overwrites it in full).
void fit(UninitializedFloats& buffer, int64_t count) { buffer.resize(static_cast<size_t>(count)); }
// A gradient buffer that kernels add into.
UninitializedFloats zeros(int64_t count) { return UninitializedFloats(static_cast<size_t>(count), 0.0f); }

int find(const ModelWeights& weights, const std::string& name) { return weights.index(name); }

LinearRef linear_ref(const ModelWeights& weights, const std::string& prefix, const std::string& module,
                     std::string short_name) {
  LinearRef ref;
  ref.weight = find(weights, prefix + module + ".weight");
  ref.bias = find(weights, prefix + module + ".bias");
  ref.name = std::move(short_name);
  return ref;
}

const float* bias_of(const BlockContext& ctx, const LinearRef& linear) {
  return linear.bias >= 0 ? (*ctx.weights)[static_cast<size_t>(linear.bias)].vector() : nullptr;
}

// A QLoRA base (NF4) is de-quantized tile by tile inside the quant kernels; it is frozen, so only
// its bias (trainable when asked) gets a gradient here.
void linear_forward(const BlockContext& ctx, const LinearRef& linear, const float* x, float* y, int64_t n) {
  const WeightEntry& weight = (*ctx.weights)[static_cast<size_t>(linear.weight)];
  if (weight.nf4)
    quant::nf4_linear_forward(y, x, *weight.nf4, bias_of(ctx, linear), n);
  else
    kernels::linear_forward(y, x, weight.matrix(), bias_of(ctx, linear), n);
  if (linear.adapter) linear.adapter->forward(y, x, n);
}

// dx receives the base layer's input gradient as `store` says; an adapter's part is then added to it.
void linear_backward(const BlockContext& ctx, const LinearRef& linear, float* dx, const float* dy, const float* x,
                     int64_t n, const GradientLookup& grad,
                     kernels::GradientStore store = kernels::GradientStore::Add) {
  const WeightEntry& weight = (*ctx.weights)[static_cast<size_t>(linear.weight)];
  float* dbias = linear.bias >= 0 ? grad(linear.bias) : nullptr;
  if (weight.nf4) {
    if (store == kernels::GradientStore::Overwrite) std::fill_n(dx, n * weight.nf4->shape()[1], 0.0f);
    quant::nf4_linear_backward_input(dx, dy, *weight.nf4, n);
    if (dbias) {
      const int64_t out = weight.nf4->shape()[0];
      for (int64_t r = 0; r < n; ++r)
        for (int64_t o = 0; o < out; ++o) dbias[o] += dy[r * out + o];
    }
  } else {
    kernels::linear_backward(dx, grad(linear.weight), dbias, dy, x, weight.matrix(), n, store);
  }
  if (linear.adapter) linear.adapter->backward(dx, dy, x, n);
}

void norm_forward(const BlockContext& ctx, int weight, int bias, const float* x, float* y, float* mean, float* rstd) {
  const ModelConfig& c = *ctx.config;
  const float* w = (*ctx.weights)[static_cast<size_t>(weight)].vector();
  const int64_t n = ctx.tokens();
  if (c.norm == Norm::LayerNorm) {
    const float* b = bias >= 0 ? (*ctx.weights)[static_cast<size_t>(bias)].vector() : nullptr;
    kernels::layernorm_forward(y, mean, rstd, x, w, b, n, c.hidden_size, static_cast<float>(c.norm_eps));
  } else {
    kernels::rmsnorm_forward(y, rstd, x, w, n, c.hidden_size, static_cast<float>(c.norm_eps));
  }
}

void norm_backward(const BlockContext& ctx, int weight, int bias, float* dx, const float* dy, const float* x,
                   const float* mean, const float* rstd, const GradientLookup& grad) {
  const ModelConfig& c = *ctx.config;
  const float* w = (*ctx.weights)[static_cast<size_t>(weight)].vector();
  const int64_t n = ctx.tokens();
  if (c.norm == Norm::LayerNorm)
    kernels::layernorm_backward(dx, grad(weight), bias >= 0 ? grad(bias) : nullptr, dy, x, w, mean, rstd, n,
                                c.hidden_size);
  else
    kernels::rmsnorm_backward(dx, grad(weight), dy, x, w, rstd, n, c.hidden_size);
}

float attention_scale(const ModelConfig& c) { return 1.0f / std::sqrt(static_cast<float>(c.head_dim)); }

// q, k, v from the normed input: three projections, or Phi-3's one fused projection split by rows.
void qkv_forward(const BlockContext& ctx, const BlockParams& p, BlockActivations& a) {
  const ModelConfig& c = *ctx.config;
  const int64_t n = ctx.tokens(), qs = c.q_size(), kvs = c.kv_size();
  if (c.fused_qkv) {
    std::vector<float> fused(static_cast<size_t>(n * (qs + 2 * kvs)));
    linear_forward(ctx, p.qkv, a.norm1.data(), fused.data(), n);
    for (int64_t t = 0; t < n; ++t) {
      const float* row = fused.data() + t * (qs + 2 * kvs);
      std::copy(row, row + qs, a.q.data() + t * qs);
      std::copy(row + qs, row + qs + kvs, a.k.data() + t * kvs);
      std::copy(row + qs + kvs, row + qs + 2 * kvs, a.v.data() + t * kvs);
    }
  } else {
    linear_forward(ctx, p.q, a.norm1.data(), a.q.data(), n);
    linear_forward(ctx, p.k, a.norm1.data(), a.k.data(), n);
    linear_forward(ctx, p.v, a.norm1.data(), a.v.data(), n);
  }
}

void qkv_backward(const BlockContext& ctx, const BlockParams& p, const float* norm1, const float* dq, const float* dk,
                  const float* dv, float* dnorm1, const GradientLookup& grad, kernels::GradientStore store) {
  const ModelConfig& c = *ctx.config;
  const int64_t n = ctx.tokens(), qs = c.q_size(), kvs = c.kv_size();
  if (c.fused_qkv) {
    std::vector<float> fused(static_cast<size_t>(n * (qs + 2 * kvs)));
    for (int64_t t = 0; t < n; ++t) {
      float* row = fused.data() + t * (qs + 2 * kvs);
      std::copy(dq + t * qs, dq + (t + 1) * qs, row);
      std::copy(dk + t * kvs, dk + (t + 1) * kvs, row + qs);
      std::copy(dv + t * kvs, dv + (t + 1) * kvs, row + qs + kvs);
    }
    linear_backward(ctx, p.qkv, dnorm1, fused.data(), norm1, n, grad, store);
  } else {
    linear_backward(ctx, p.q, dnorm1, dq, norm1, n, grad, store);
    linear_backward(ctx, p.k, dnorm1, dk, norm1, n, grad);
    linear_backward(ctx, p.v, dnorm1, dv, norm1, n, grad);
  }
}

// SwiGLU's gate and up share mlp_pre: fused rows [gate | up] (stride 2I), or two [N, I] halves.
struct GateUpLayout {
  int64_t up_offset, stride;
};
GateUpLayout gate_up_layout(const ModelConfig& c, int64_t n) {
  if (c.fused_gate_up) return {c.intermediate_size, 2 * c.intermediate_size};
  return {n * c.intermediate_size, c.intermediate_size};
}

// mlp_act = GELU(mlp_pre) or SiLU(gate)·up.
void mlp_activation(const ModelConfig& c, int64_t n, const float* mlp_pre, float* mlp_act) {
  if (c.activation == Activation::GeluTanh) return kernels::gelu_forward(mlp_act, mlp_pre, n * c.intermediate_size);
  const auto layout = gate_up_layout(c, n);
  kernels::swiglu_forward(mlp_act, mlp_pre, mlp_pre + layout.up_offset, n, c.intermediate_size, layout.stride);
}

// The activations release_rebuildable() dropped, rebuilt for one backward; each pointer is the kept
// vector's data when it was not dropped.
struct Rebuilt {
  UninitializedFloats norm1_buffer, norm2_buffer, act_buffer, mean, rstd;
  const float* norm1 = nullptr;
  const float* norm2 = nullptr;
  const float* mlp_act = nullptr;

  Rebuilt(const BlockContext& ctx, const BlockParams& p, const BlockActivations& a) {
    const ModelConfig& c = *ctx.config;
    const int64_t n = ctx.tokens(), h = c.hidden_size;
    auto norm = [&](UninitializedFloats& buffer, int weight, int bias, const UninitializedFloats& x) {
      buffer.resize(static_cast<size_t>(n * h));
      mean.resize(static_cast<size_t>(n));
      rstd.resize(static_cast<size_t>(n));
      norm_forward(ctx, weight, bias, x.data(), buffer.data(), mean.data(), rstd.data());
      return buffer.data();
    };
    norm1 = a.norm1.empty() ? norm(norm1_buffer, p.norm1_weight, p.norm1_bias, a.x_in) : a.norm1.data();
    if (!c.parallel_block)
      norm2 = a.norm2.empty() ? norm(norm2_buffer, p.norm2_weight, p.norm2_bias, a.x_mid) : a.norm2.data();
    if (a.mlp_act.empty()) {
      act_buffer.resize(static_cast<size_t>(n * c.intermediate_size));
      mlp_activation(c, n, a.mlp_pre.data(), act_buffer.data());
      mlp_act = act_buffer.data();
    } else {
      mlp_act = a.mlp_act.data();
    }
  }
};

}  // namespace

void release_rebuildable(BlockActivations& acts) {
  UninitializedFloats().swap(acts.norm1);
  UninitializedFloats().swap(acts.norm2);
  UninitializedFloats().swap(acts.mlp_act);
}

int64_t BlockActivations::bytes() const {
  return vector_bytes(x_in, norm1, mean1, rstd1, q, k, v, attn, lse, x_mid, norm2, mean2, rstd2, mlp_pre, mlp_act);
}

BlockParams block_params(const ModelWeights& weights, int64_t layer) {
  BlockParams p;
  p.prefix = "model.layers." + std::to_string(layer) + ".";
  const std::string& s = p.prefix;
  p.norm1_weight = find(weights, s + "input_layernorm.weight");
  p.norm1_bias = find(weights, s + "input_layernorm.bias");
  p.norm2_weight = find(weights, s + "post_attention_layernorm.weight");
  p.norm2_bias = find(weights, s + "post_attention_layernorm.bias");
  const ModelConfig& c = weights.config();
  const bool phi = c.family == Family::Phi;
  if (c.fused_qkv) {
    p.qkv = linear_ref(weights, s, "self_attn.qkv_proj", "qkv_proj");
  } else {
    p.q = linear_ref(weights, s, "self_attn.q_proj", "q_proj");
    p.k = linear_ref(weights, s, "self_attn.k_proj", "k_proj");
    p.v = linear_ref(weights, s, "self_attn.v_proj", "v_proj");
  }
  p.o = phi ? linear_ref(weights, s, "self_attn.dense", "dense") : linear_ref(weights, s, "self_attn.o_proj", "o_proj");
  if (phi) {
    p.up = linear_ref(weights, s, "mlp.fc1", "fc1");
    p.down = linear_ref(weights, s, "mlp.fc2", "fc2");
  } else {
    if (c.fused_gate_up) {
      p.gate_up = linear_ref(weights, s, "mlp.gate_up_proj", "gate_up_proj");
    } else {
      p.gate = linear_ref(weights, s, "mlp.gate_proj", "gate_proj");
      p.up = linear_ref(weights, s, "mlp.up_proj", "up_proj");
    }
    p.down = linear_ref(weights, s, "mlp.down_proj", "down_proj");
  }
  return p;
}

void block_forward(const BlockContext& ctx, const BlockParams& p, BlockActivations& a, float* x_out) {
  const ModelConfig& c = *ctx.config;
  const auto& shape = ctx.shape;
  const int64_t n = ctx.tokens(), h = c.hidden_size, qs = c.q_size(), kvs = c.kv_size(), inter = c.intermediate_size;
  fit(a.norm1, n * h), fit(a.mean1, n), fit(a.rstd1, n);
  fit(a.q, n * qs), fit(a.k, n * kvs), fit(a.v, n * kvs);
  fit(a.attn, n * qs), fit(a.lse, shape.batch * shape.q_heads * shape.q_len);
  fit(a.mlp_act, n * inter);
  fit(a.mlp_pre, c.activation == Activation::GeluTanh ? n * inter : 2 * n * inter);

  norm_forward(ctx, p.norm1_weight, p.norm1_bias, a.x_in.data(), a.norm1.data(), a.mean1.data(), a.rstd1.data());
  qkv_forward(ctx, p, a);
  kernels::rope_forward(a.q.data(), a.q.data(), ctx.positions, n, c.num_heads, c.head_dim, *ctx.rope);
  kernels::rope_forward(a.k.data(), a.k.data(), ctx.positions, n, c.num_kv_heads, c.head_dim, *ctx.rope);
  const float* keys = a.k.data();
  const float* values = a.v.data();
  if (ctx.cache_keys) {
    const int64_t offset = (shape.kv_len - shape.q_len) * kvs;
    std::copy(a.k.begin(), a.k.end(), ctx.cache_keys + offset);
    std::copy(a.v.begin(), a.v.end(), ctx.cache_values + offset);
    keys = ctx.cache_keys;
    values = ctx.cache_values;
  }
  kernels::attention_forward(a.attn.data(), a.lse.data(), a.q.data(), keys, values, ctx.key_mask, ctx.segments, shape,
                             attention_scale(c));
  UninitializedFloats branch(static_cast<size_t>(n * h));
  linear_forward(ctx, p.o, a.attn.data(), branch.data(), n);

  const float* mlp_in = a.norm1.data();
  if (c.parallel_block) {
    for (int64_t i = 0; i < n * h; ++i) x_out[i] = a.x_in[i] + branch[i];
  } else {
    fit(a.x_mid, n * h), fit(a.norm2, n * h), fit(a.mean2, n), fit(a.rstd2, n);
    for (int64_t i = 0; i < n * h; ++i) a.x_mid[i] = a.x_in[i] + branch[i];
    norm_forward(ctx, p.norm2_weight, p.norm2_bias, a.x_mid.data(), a.norm2.data(), a.mean2.data(), a.rstd2.data());
    mlp_in = a.norm2.data();
    std::copy(a.x_mid.begin(), a.x_mid.end(), x_out);
  }

  if (c.activation == Activation::GeluTanh) {
    linear_forward(ctx, p.up, mlp_in, a.mlp_pre.data(), n);
  } else if (c.fused_gate_up) {
    linear_forward(ctx, p.gate_up, mlp_in, a.mlp_pre.data(), n);
  } else {
    linear_forward(ctx, p.gate, mlp_in, a.mlp_pre.data(), n);
    linear_forward(ctx, p.up, mlp_in, a.mlp_pre.data() + gate_up_layout(c, n).up_offset, n);
  }
  mlp_activation(c, n, a.mlp_pre.data(), a.mlp_act.data());
  linear_forward(ctx, p.down, a.mlp_act.data(), branch.data(), n);
  for (int64_t i = 0; i < n * h; ++i) x_out[i] += branch[i];
}

void block_backward(const BlockContext& ctx, const BlockParams& p, const BlockActivations& a, const float* dx_out,
                    float* dx_in, const GradientLookup& grad, const GradientObserver& observer) {
  const ModelConfig& c = *ctx.config;
  const int64_t n = ctx.tokens(), h = c.hidden_size, qs = c.q_size(), kvs = c.kv_size(), inter = c.intermediate_size;
  auto observe = [&](const std::string& module, const UninitializedFloats& gradient) {
    if (observer) observer(p.prefix + module + ".input", gradient);
  };
  // The residual stream's gradient: dx_out flows to x_in (parallel) or x_mid (sequential) unchanged.
  std::vector<float> residual(dx_out, dx_out + n * h);
  const bool phi = c.family == Family::Phi;
  const Rebuilt rebuilt(ctx, p, a);

  // MLP branch. Each gradient buffer's first writer overwrites it (no zero-filling); later ones add.
  constexpr auto overwrite = kernels::GradientStore::Overwrite;
  UninitializedFloats dmlp_act(static_cast<size_t>(n * inter));
  linear_backward(ctx, p.down, dmlp_act.data(), dx_out, rebuilt.mlp_act, n, grad, overwrite);
  observe(phi ? "mlp.fc2" : "mlp.down_proj", dmlp_act);
  UninitializedFloats dmlp_pre(a.mlp_pre.size());
  UninitializedFloats dnorm_mlp(static_cast<size_t>(n * h));
  const float* mlp_in = c.parallel_block ? rebuilt.norm1 : rebuilt.norm2;
  if (c.activation == Activation::GeluTanh) {
    kernels::gelu_backward(dmlp_pre.data(), dmlp_act.data(), a.mlp_pre.data(), n * inter, overwrite);
    linear_backward(ctx, p.up, dnorm_mlp.data(), dmlp_pre.data(), mlp_in, n, grad, overwrite);
  } else {
    // Gate and up halves together cover mlp_pre's layout (fused rows or two blocks), every element once.
    const auto layout = gate_up_layout(c, n);
    kernels::swiglu_backward(dmlp_pre.data(), dmlp_pre.data() + layout.up_offset, dmlp_act.data(), a.mlp_pre.data(),
                             a.mlp_pre.data() + layout.up_offset, n, inter, layout.stride, overwrite);
    if (c.fused_gate_up) {
      linear_backward(ctx, p.gate_up, dnorm_mlp.data(), dmlp_pre.data(), mlp_in, n, grad, overwrite);
    } else {
      linear_backward(ctx, p.gate, dnorm_mlp.data(), dmlp_pre.data(), mlp_in, n, grad, overwrite);
      linear_backward(ctx, p.up, dnorm_mlp.data(), dmlp_pre.data() + layout.up_offset, mlp_in, n, grad);
    }
  }
  if (!c.parallel_block) {
    observe(c.fused_gate_up ? "mlp.gate_up_proj" : "mlp.gate_proj", dnorm_mlp);
    norm_backward(ctx, p.norm2_weight, p.norm2_bias, residual.data(), dnorm_mlp.data(), a.x_mid.data(),
                  a.mean2.data(), a.rstd2.data(), grad);
  }

  // Attention branch: its output's gradient is the residual gradient at x_mid (or x_out, parallel).
  UninitializedFloats dattn(static_cast<size_t>(n * qs));
  linear_backward(ctx, p.o, dattn.data(), residual.data(), a.attn.data(), n, grad, overwrite);
  observe(phi ? "self_attn.dense" : "self_attn.o_proj", dattn);
  UninitializedFloats dq = zeros(n * qs), dk = zeros(n * kvs), dv = zeros(n * kvs);
  kernels::attention_backward(dq.data(), dk.data(), dv.data(), dattn.data(), a.q.data(), a.k.data(), a.v.data(),
                              a.attn.data(), a.lse.data(), ctx.key_mask, ctx.segments, ctx.shape,
                              attention_scale(c));
  kernels::rope_backward(dq.data(), dq.data(), ctx.positions, n, c.num_heads, c.head_dim, *ctx.rope);
  kernels::rope_backward(dk.data(), dk.data(), ctx.positions, n, c.num_kv_heads, c.head_dim, *ctx.rope);
  // phi-2's attention and MLP read the same normed input, so their input gradients add up.
  const bool dnorm1_fresh = !c.parallel_block;
  UninitializedFloats dnorm1 = c.parallel_block ? std::move(dnorm_mlp) : UninitializedFloats(static_cast<size_t>(n * h));
  qkv_backward(ctx, p, rebuilt.norm1, dq.data(), dk.data(), dv.data(), dnorm1.data(), grad,
               dnorm1_fresh ? overwrite : kernels::GradientStore::Add);
  observe(c.fused_qkv ? "self_attn.qkv_proj" : "self_attn.q_proj", dnorm1);
  if (c.parallel_block) observe("mlp.fc1", dnorm1);

  norm_backward(ctx, p.norm1_weight, p.norm1_bias, residual.data(), dnorm1.data(), a.x_in.data(), a.mean1.data(),
                a.rstd1.data(), grad);
  std::copy(residual.begin(), residual.end(), dx_in);
}

}  // namespace slmtune::detail
