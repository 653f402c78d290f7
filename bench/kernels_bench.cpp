// Throughput of the hot kernels at SmolLM2-135M shapes, 2 threads (the benchmark setting).
// Built with the other benchmarks (cmake -DSLMTUNE_BENCH=ON); run build/kernels_bench [NAME], NAME one of
// linear, attention, decode-attention, cross-entropy, lora (a part of it selects every match; none: all).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/half.hpp"
#include "core/parallel.hpp"
#include "kernels/attention.hpp"
#include "core/blas_kernels.hpp"
#include "core/memory_reuse.hpp"
#include "kernels/cross_entropy.hpp"
#include "kernels/matmul.hpp"
#include "peft/lora.hpp"

using namespace slmtune;
using namespace slmtune::kernels;

namespace {

// Wall-clock and process CPU time of one run. The machine is shared, so next to the wall-clock rate
// the benchmark prints the rate per CPU-second: what one core sustains while it actually runs.
struct Timing {
  double wall = 1e30;
  double cpu = 1e30;
};

double cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return double(now.tv_sec) + double(now.tv_nsec) * 1e-9;
}

// Best of `repeats` timed runs after one warm-up: the least disturbed by other work on the machine.
Timing best_time(int repeats, const std::function<void()>& body) {
  body();
  Timing best;
  for (int i = 0; i < repeats; ++i) {
    const double cpu_start = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    body();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (wall < best.wall) best = Timing{wall, cpu_seconds() - cpu_start};
  }
  return best;
}

void print_rate(const char* label, const Timing& t, double flops) {
  std::printf("  %-22s %8.2f ms %6.1f GFLOP/s  (%5.1f GFLOP per CPU-second)\n", label, t.wall * 1e3,
              flops / t.wall * 1e-9, flops / t.cpu * 1e-9);
}

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> distribution(0.0f, 1.0f);
  std::vector<float> values(count);
  for (float& v : values) v = distribution(generator);
  return values;
}

void bench_linear() {
  const int64_t n = 1024, in = 576, out = 1536;
  const double flops = 2.0 * n * in * out;
  const auto x = random_floats(n * in, 1), w = random_floats(out * in, 2), dy = random_floats(n * out, 3);
  std::vector<uint16_t> w_bf16(w.size());
  f32_to_bf16(w.data(), w_bf16.data(), w.size());
  std::vector<float> y(n * out), dx(n * in);
  for (const auto& [name, weight] : {std::pair{"f32", WeightMatrix{w.data(), DType::F32, out, in}},
                                     std::pair{"bf16", WeightMatrix{w_bf16.data(), DType::BF16, out, in}}}) {
    std::printf("linear, %s weights: x[1024,576] · W[1536,576]ᵀ\n", name);
    print_rate("forward y = x·Wᵀ", best_time(20, [&] { linear_forward(y.data(), x.data(), weight, nullptr, n); }),
               flops);
    print_rate("backward dx = dy·W", best_time(20, [&] {
                 linear_backward(dx.data(), nullptr, nullptr, dy.data(), x.data(), weight, n);
               }),
               flops);
  }
}

void bench_attention() {
  const AttentionShape s{.batch = 4, .q_len = 256, .kv_len = 256, .q_heads = 9, .kv_heads = 3, .head_dim = 64};
  const size_t q_count = s.batch * s.q_len * s.q_heads * s.head_dim;
  const size_t kv_count = s.batch * s.kv_len * s.kv_heads * s.head_dim;
  const auto q = random_floats(q_count, 4), k = random_floats(kv_count, 5), v = random_floats(kv_count, 6);
  const auto dout = random_floats(q_count, 7);
  std::vector<float> out(q_count), lse(s.batch * s.q_heads * s.q_len), dq(q_count), dk(kv_count), dv(kv_count);
  const float scale = 1.0f / std::sqrt(64.0f);
  // Causal: T(T+1)/2 query-key pairs per head; forward does 2 products of 2·d flops per pair,
  // backward 5 (scores recomputed, dV, dP, dQ, dK).
  const double pairs = double(s.batch) * s.q_heads * s.q_len * (s.q_len + 1) / 2.0;
  const double forward_flops = pairs * 4.0 * s.head_dim, backward_flops = pairs * 10.0 * s.head_dim;
  const Timing forward = best_time(20, [&] {
    attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), nullptr, s, scale);
  });
  const Timing backward = best_time(20, [&] {
    attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(), out.data(),
                       lse.data(), nullptr, s, scale);
  });
  std::printf("attention, causal, B=4 H=9 (3 kv heads) T=256 d=64\n");
  print_rate("forward", forward, forward_flops);
  print_rate("backward", backward, backward_flops);
  print_rate("forward+backward", Timing{forward.wall + backward.wall, forward.cpu + backward.cpu},
             forward_flops + backward_flops);
}

// Decoding's attention: one query per head over a KV cache of 288 positions (a 256-token prompt and 32
// generated), SmolLM2-135M's heads, 30 layers' worth per call.
void bench_decode_attention() {
  const AttentionShape s{.batch = 1, .q_len = 1, .kv_len = 288, .q_heads = 9, .kv_heads = 3, .head_dim = 64,
                         .kv_capacity = 512};
  const int layers = 30;
  const size_t q_count = s.q_heads * s.head_dim, kv_count = s.kv_capacity * s.kv_heads * s.head_dim;
  const auto q = random_floats(q_count, 10), k = random_floats(kv_count * layers, 11),
             v = random_floats(kv_count * layers, 12);
  std::vector<float> out(q_count);
  const float scale = 1.0f / std::sqrt(64.0f);
  const Timing timing = best_time(50, [&] {
    for (int layer = 0; layer < layers; ++layer)
      attention_forward(out.data(), nullptr, q.data(), k.data() + layer * kv_count, v.data() + layer * kv_count,
                        nullptr, s, scale);
  });
  std::printf("decoding attention, H=9 (3 kv heads) d=64, 288 cached positions, 30 layers: %.3f ms per token\n",
              timing.wall * 1e3);
}

// The loss head of SmolLM2 (tied 49152×576 embedding, frozen): logits and d hidden for 1024 tokens.
void bench_cross_entropy() {
  const int64_t rows = 1024, dim = 576, vocab = 49152;
  // Hidden states of norm ~2.4 give logits of standard deviation ~2.4, as a trained model's are. Unit
  // normal ones would give ~24, a softmax that is all but one-hot, and probabilities so small that
  // the CPU's slow path for subnormal floats would be what is timed.
  auto hidden = random_floats(rows * dim, 8);
  for (float& h : hidden) h *= 0.1f;
  const auto embedding = random_floats(vocab * dim, 9);
  std::vector<int32_t> targets(rows);
  for (int64_t r = 0; r < rows; ++r) targets[r] = static_cast<int32_t>(r * 7919 % vocab);
  std::vector<float> dhidden(rows * dim);
  const WeightMatrix output{embedding.data(), DType::F32, vocab, dim};
  const Timing timing = best_time(3, [&] {
    cross_entropy(hidden.data(), output, nullptr, targets.data(), rows, dhidden.data(), nullptr, nullptr);
  });
  std::printf("cross-entropy, 1024 tokens, vocab 49152, dim 576 (loss and d hidden)\n");
  print_rate("logits + d hidden", timing, 2.0 * 2.0 * rows * dim * vocab);
}

// One SmolLM2-135M block's seven linears, frozen f32 base plus LoRA (r 16, alpha 32, dropout 0.05,
// as transformer_bench --mode lora), forward and backward (input gradients, adapter gradients) for
// 1024 tokens, in the order a training step runs them: q, k and v read one input, gate and up another,
// so that input is in cache for the later ones, as in the real step. Printed twice: the base products
// alone, and with the adapters (the difference is what LoRA adds to a step). NODROP=1 in the
// environment turns the dropout off.
void bench_lora() {
  const int64_t n = 1024;
  struct Linear {
    int64_t in, out;
    int input;  // which input it reads: linears with the same one share it
  };
  const Linear linears[] = {{576, 576, 0},  {576, 192, 0},  {576, 192, 0}, {576, 576, 1},
                            {576, 1536, 2}, {576, 1536, 2}, {1536, 576, 3}};
  peft::LoraConfig config;
  config.r = 16;
  config.lora_alpha = 32;
  config.lora_dropout = std::getenv("NODROP") ? 0.0 : 0.05;
  config.target_regex = "all-linear";
  std::vector<peft::LoraAdapter> adapters;
  std::vector<std::vector<float>> weights, inputs, ys, dys, dxs;
  const int64_t widths[] = {576, 576, 576, 1536};
  for (int64_t i = 0; i < 4; ++i) inputs.push_back(random_floats(n * widths[i], 30 + i));
  double base_flops = 0.0, lora_flops = 0.0;
  uint32_t seed = 40;
  for (const Linear& linear : linears) {
    adapters.emplace_back(linear.in, linear.out, config, seed);
    auto w = random_floats(linear.out * linear.in, seed++);
    for (float& v : w) v *= 0.05f;
    weights.push_back(std::move(w));
    dys.push_back(random_floats(n * linear.out, seed++));
    ys.emplace_back(n * linear.out, 0.0f);
    dxs.emplace_back(n * linear.in, 0.0f);
    base_flops += 2.0 * 2.0 * n * linear.in * linear.out;
    lora_flops += 2.0 * n * config.r * (linear.in + linear.out) * 3.0;  // forward (1×), backward (2×)
  }
  for (auto& adapter : adapters) {
    auto b = adapter.lora_B();
    const auto values = random_floats(b.size(), seed++);
    std::copy(values.begin(), values.end(), b.begin());
  }
  uint64_t step = 0;
  auto run = [&](bool with_lora) {
    for (size_t i = 0; i < adapters.size(); ++i) {
      const WeightMatrix w{weights[i].data(), DType::F32, linears[i].out, linears[i].in};
      const float* x = inputs[static_cast<size_t>(linears[i].input)].data();
      linear_forward(ys[i].data(), x, w, nullptr, n);
      if (!with_lora) continue;
      adapters[i].set_step(step);
      adapters[i].forward(ys[i].data(), x, n);
    }
    for (size_t i = adapters.size(); i-- > 0;) {
      const WeightMatrix w{weights[i].data(), DType::F32, linears[i].out, linears[i].in};
      const float* x = inputs[static_cast<size_t>(linears[i].input)].data();
      linear_backward(dxs[i].data(), nullptr, nullptr, dys[i].data(), x, w, n, GradientStore::Overwrite);
      if (with_lora) adapters[i].backward(dxs[i].data(), dys[i].data(), x, n);
    }
    ++step;
  };
  // Alternated, so that a change in the host's load between the two measures does not land on one.
  Timing base, with_lora;
  for (int round = 0; round < 8; ++round) {
    const Timing b = best_time(1, [&] { run(false); }), l = best_time(1, [&] { run(true); });
    if (b.wall < base.wall) base = b;
    if (l.wall < with_lora.wall) with_lora = l;
  }
  std::printf("one SmolLM2 block's linears, 1024 tokens, forward + input gradients; LoRA r 16, dropout %.2f\n",
              config.lora_dropout);
  print_rate("frozen base", base, base_flops);
  print_rate("base + LoRA", with_lora, base_flops + lora_flops);
  std::printf("  LoRA adds %.2f ms (%.0f%% of the base's time)\n", (with_lora.wall - base.wall) * 1e3,
              100.0 * (with_lora.wall - base.wall) / base.wall);
}

}  // namespace

int main(int argc, char** argv) {
  match_blas_kernels_to_cpu(argv);  // the kernels slmtune runs (see core/blas_kernels.hpp)
  keep_freed_memory_for_reuse();    // and its allocation policy (core/memory_reuse.hpp)
  set_threads(2);
  std::printf("threads: %d, %s\n", threads(), blas_kernels_summary().c_str());
  // `kernels_bench [NAME]` runs only the benchmarks whose name contains NAME.
  const std::string only = argc > 1 ? argv[1] : "";
  const std::pair<const char*, void (*)()> benches[] = {{"linear", bench_linear},
                                                        {"attention", bench_attention},
                                                        {"decode-attention", bench_decode_attention},
                                                        {"cross-entropy", bench_cross_entropy},
                                                        {"lora", bench_lora}};
  for (const auto& [name, run] : benches)
    if (std::string(name).find(only) != std::string::npos) run();
  return 0;
}
