// Whole-model speed and memory at the shapes (random weights, f32): training steps with a
// frozen base and rank-16 LoRA-style adapters on q,k,v,o,gate,up,down (the shape of
// ../shared/bench/torch_lora_baseline.py --mode lora), prompt processing, and peak RSS.
//
// Build (from the repository root, after building test_model in build-transformer):
//   g++ -O2 -std=c++20 -fopenmp -Isrc -I/usr/include/x86_64-linux-gnu/openblas-openmp bench/transformer_bench.cpp
//       build-transformer/libslmtune_model.a build-transformer/libslmtune_kernels.a
//       build-transformer/libslmtune_formats.a build-transformer/libslmtune_core.a
//       -L/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas -lfmt -o build-transformer/transformer_bench
// (or configure with -DSLMTUNE_BENCH=ON and build the target transformer_bench). Run:
//   build-transformer/transformer_bench [--shape smollm2-135m|qwen2.5-0.5b] [--seq 256] [--batch 4]
//       [--steps 2] [--threads 2] [--recompute] [--rank 16]
// Peak RSS is the process's, so run keep and --recompute as separate processes to compare them.
#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "core/parallel.hpp"
#include "kernels/matmul.hpp"
#include "model/presets.hpp"
#include "model/transformer.hpp"

using namespace slmtune;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The machine is shared: CPU-seconds the process got, next to wall time, give a rate per core that
// other load disturbs less (the PyTorch baseline prints its own CPU share the same way).
double cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

double peak_rss_gb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}

void fill_normal(float* data, int64_t count, float stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  for (int64_t i = 0; i < count; ++i) data[i] = normal(rng);
}

// y += scale · (x·Aᵀ)·Bᵀ with A [r, in], B [out, r] trainable: what a LoRA layer costs. The low-rank
// product is recomputed in backward (r·in flops per token), so the adapter keeps no state.
class LowRankAdapter : public LinearAdapter {
 public:
  LowRankAdapter(int64_t in, int64_t out, int64_t rank, uint32_t seed)
      : a_(static_cast<size_t>(rank * in)), b_(static_cast<size_t>(out * rank)), da_(a_.size()), db_(b_.size()),
        in_(in), out_(out), rank_(rank) {
    fill_normal(a_.data(), rank * in, 0.02f, seed);
    fill_normal(b_.data(), out * rank, 0.02f, seed + 1);  // nonzero so backward does real work
  }
  void forward(float* y, const float* x, int64_t n) override {
    std::vector<float> t(static_cast<size_t>(n * rank_)), delta(static_cast<size_t>(n * out_));
    kernels::linear_forward(t.data(), x, {a_.data(), DType::F32, rank_, in_}, nullptr, n);
    kernels::linear_forward(delta.data(), t.data(), {b_.data(), DType::F32, out_, rank_}, nullptr, n);
    for (size_t i = 0; i < delta.size(); ++i) y[i] += delta[i];
  }
  void backward(float* dx, const float* dy, const float* x, int64_t n) override {
    std::vector<float> t(static_cast<size_t>(n * rank_)), dt(static_cast<size_t>(n * rank_), 0.0f);
    kernels::linear_forward(t.data(), x, {a_.data(), DType::F32, rank_, in_}, nullptr, n);
    kernels::linear_backward(dt.data(), db_.data(), nullptr, dy, t.data(), {b_.data(), DType::F32, out_, rank_}, n);
    kernels::linear_backward(dx, da_.data(), nullptr, dt.data(), x, {a_.data(), DType::F32, rank_, in_}, n);
  }

 private:
  std::vector<float> a_, b_, da_, db_;
  int64_t in_, out_, rank_;
};

std::shared_ptr<ModelWeights> random_weights(const ModelConfig& config) {
  uint32_t seed = 1;
  return std::make_shared<ModelWeights>(ModelWeights::from_tensors(
      config,
      [&](const std::string& name) {
        const auto specs = expected_tensors(config);
        Shape shape;
        for (const auto& spec : specs)
          if (spec.hf_name == name) shape = spec.shape;
        Tensor t = Tensor::zeros(DType::F32, shape);
        if (shape.size() == 1) {
          const bool norm = name.find("norm") != std::string::npos;
          std::fill_n(t.as_mutable<float>(), t.numel(), norm ? 1.0f : 0.0f);
        } else {
          fill_normal(t.as_mutable<float>(), t.numel(), 0.02f, seed++);
        }
        return t;
      },
      "random " + config.architecture));
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape = "smollm2-135m";
  int64_t seq = 256, batch_size = 4, steps = 2, rank = 16;
  int threads = 2;
  bool recompute = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (arg == "--shape") shape = next();
    else if (arg == "--seq") seq = std::stoll(next());
    else if (arg == "--batch") batch_size = std::stoll(next());
    else if (arg == "--steps") steps = std::stoll(next());
    else if (arg == "--threads") threads = std::stoi(next());
    else if (arg == "--rank") rank = std::stoll(next());
    else if (arg == "--recompute") recompute = true;
    else {
      std::fprintf(stderr, "error: unknown argument %s\n", arg.c_str());
      return 1;
    }
  }
  set_threads(threads);
  const ModelConfig config = find_model_preset(shape).config;
  const auto weights = random_weights(config);
  std::printf("%s: %lld layers, hidden %lld, vocab %lld; seq %lld, batch %lld, %d threads, %s, LoRA rank %lld\n",
              shape.c_str(), static_cast<long long>(config.num_layers), static_cast<long long>(config.hidden_size),
              static_cast<long long>(config.vocab_size), static_cast<long long>(seq),
              static_cast<long long>(batch_size), threads, recompute ? "recompute" : "keep activations",
              static_cast<long long>(rank));
  Transformer model(weights);
  if (rank > 0) {
    uint32_t seed = 100;
    for (int64_t l = 0; l < config.num_layers; ++l)
      for (const auto& spec : expected_tensors(config))
        if (spec.layer == l && !spec.linear_name.empty())
          model.set_adapter(l, spec.linear_name,
                            std::make_shared<LowRankAdapter>(spec.shape[1], spec.shape[0], rank, seed++));
  }

  Batch batch;
  batch.batch_size = batch_size;
  batch.seq_len = seq;
  std::mt19937 rng(7);
  for (int64_t i = 0; i < batch_size * seq; ++i)
    batch.input_ids.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(config.vocab_size)));
  batch.labels = batch.input_ids;
  ForwardOptions train;
  train.logits = LogitsMode::None;
  train.activations = recompute ? Activations::Recompute : Activations::Keep;

  int64_t kept = 0;
  double best = 1e30, best_cpu = 0.0, loss = 0.0;
  for (int64_t step = 0; step <= steps; ++step) {  // step 0 warms up
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    loss = model.forward(batch, train).loss;
    kept = model.activation_bytes();
    model.backward();
    const double elapsed = seconds_since(start);
    if (step > 0 && elapsed < best) best = elapsed, best_cpu = cpu_seconds() - cpu_start;
  }
  const double train_tps = static_cast<double>(batch_size * seq) / best;
  std::printf("train (frozen base, grads to linear inputs + adapters): %.2f s/step, %.1f tokens/s, loss %.3f "
              "[own CPU %.2f cores: %.1f tokens per CPU-second]\n",
              best, train_tps, loss, best_cpu / best, static_cast<double>(batch_size * seq) / best_cpu);
  std::printf("  activations kept %.1f MB, backward recompute scratch %.1f MB, gradient buffers %.1f MB\n",
              static_cast<double>(kept) / 1e6, static_cast<double>(model.peak_scratch_bytes()) / 1e6,
              static_cast<double>(model.gradient_bytes()) / 1e6);
  const double train_rss = peak_rss_gb();

  Transformer plain(weights);  // prompt processing without adapters
  Batch prompt;
  prompt.seq_len = seq;
  prompt.input_ids.assign(batch.input_ids.begin(), batch.input_ids.begin() + seq);
  ForwardOptions infer;
  infer.logits = LogitsMode::Last;
  double prompt_best = 1e30;
  for (int i = 0; i <= 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    plain.forward(prompt, infer);
    if (i > 0) prompt_best = std::min(prompt_best, seconds_since(start));
  }
  std::printf("prompt processing (batch 1, %lld tokens): %.1f tokens/s\n", static_cast<long long>(seq),
              static_cast<double>(seq) / prompt_best);
  std::printf("peak RSS %.2f GB (after training steps %.2f GB)\n", peak_rss_gb(), train_rss);
  std::printf("RESULT {\"shape\": \"%s\", \"recompute\": %s, \"train_tokens_per_s\": %.2f, \"s_per_step\": %.3f, "
              "\"prompt_tokens_per_s\": %.2f, \"peak_rss_gb\": %.3f}\n",
              shape.c_str(), recompute ? "true" : "false", train_tps, best, static_cast<double>(seq) / prompt_best,
              train_rss);
  return 0;
}
