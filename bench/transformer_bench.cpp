// Whole-model training speed and memory at the shapes, the way a training step really runs:
// forward + backward + AdamW step, labels masked on the first quarter of each row (as
// ../shared/bench/torch_lora_baseline.py does), 2 threads.
//   --mode lora   peft's LoRA adapters (r 16, alpha 32, dropout 0.05) on all linear modules of a frozen
//                 base (torch_lora_baseline.py --mode lora); AdamW over the adapters
//   --mode qlora  the same on a base whose block linears are NF4 (ModelWeights::quantize_linears_nf4)
//   --mode full   every parameter trainable (trainable_values), AdamW over all of them (--mode full)
//   --mode frozen the old kernel-level measure: bench-local rank-r adapters, no optimizer
// Weights: random in memory (f32), or `--model DIR` (a HF directory, mapped as the real loader does;
// make one with `--write-model DIR [--dtype f32|bf16]`, which writes random weights and exits — the
// writer holds the whole model, so do it in its own process before measuring RSS).
//
// Build: configure with -DSLMTUNE_BENCH=ON and build the target transformer_bench. Run:
//   build/transformer_bench [--shape smollm2-135m|qwen2.5-0.5b] [--mode lora|qlora|full|frozen]
//       [--model DIR] [--seq 256] [--batch 4] [--steps 2] [--threads 2] [--recompute] [--rank 16] [--prompt] [--decode N]
// Peak RSS is the process's, so run each mode as its own process. --decode also prints the read roofline:
// the same weights read once with no arithmetic, right after decoding (see read_bandwidth_gbs).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "core/parallel.hpp"
#include "core/blas_kernels.hpp"
#include "core/memory_reuse.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/matmul.hpp"
#include "kernels/simd_math.hpp"
#include "model/kv_cache.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "model/transformer.hpp"
#include "peft/lora_model.hpp"
#include "quant/nf4.hpp"
#include "train/optimizer.hpp"

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

// The roofline of decoding on this machine, measured now: the same weight matrices, read once each
// with the same threads and the same split into row runs, summed with no other work. Decoding can be
// no faster than this; its tokens/s times the bytes per token, over this, is how much of the memory
// bus it uses (the bus is shared with the rest of the host, so measure it in the same run).
SLMTUNE_TARGET_AVX2 float sum_rows_avx2(const float* w, int64_t count) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= count; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(w + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(w + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(w + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(w + i + 24));
  }
  float sum = kernels::simd::horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < count; ++i) sum += w[i];
  return sum;
}

// On AVX-512, in the decoding loop's order: four rows side by side, each line prefetched
// kernels::kGemvPrefetchBytes ahead. Four streams with the prefetch read faster here than one
// sequential stream (~29 against ~26 GB/s on SmolLM2's matrices), so the roofline reads that way too.
SLMTUNE_TARGET_AVX512 float sum_rows_avx512(const float* w, int64_t rows, int64_t cols) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  float sum = 0.0f;
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4, w += 4 * cols) {
    int64_t c = 0;
    for (; c + 16 <= cols; c += 16) {
      for (int64_t k = 0; k < 4; ++k)
        _mm_prefetch(reinterpret_cast<const char*>(w + k * cols + c) + kernels::kGemvPrefetchBytes, _MM_HINT_T0);
      a0 = _mm512_add_ps(a0, _mm512_loadu_ps(w + c));
      a1 = _mm512_add_ps(a1, _mm512_loadu_ps(w + cols + c));
      a2 = _mm512_add_ps(a2, _mm512_loadu_ps(w + 2 * cols + c));
      a3 = _mm512_add_ps(a3, _mm512_loadu_ps(w + 3 * cols + c));
    }
    for (; c < cols; ++c) sum += w[c] + w[cols + c] + w[2 * cols + c] + w[3 * cols + c];
  }
  for (int64_t i = 0; i < (rows - r) * cols; ++i) sum += w[i];
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  for (float lane : lanes) sum += lane;
  return sum;
}

// Best of three passes over `matrices` (f32 [rows, cols]), in GB/s; 0 without AVX2.
double read_bandwidth_gbs(const std::vector<kernels::WeightMatrix>& matrices) {
  if (!kernels::use_avx2()) return 0.0;
  const bool avx512 = kernels::use_avx512();
  double bytes = 0.0, best = 1e30;
  for (const auto& m : matrices) bytes += static_cast<double>(m.rows * m.cols) * 4.0;
  volatile float sink = 0.0f;  // a use of each sum that the compiler cannot drop
  for (int pass = 0; pass < 3; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    for (const auto& m : matrices) {
      const float* w = static_cast<const float*>(m.data);
      parallel_for(m.rows, kernels::gemv_row_grain(m.cols), [&](int64_t first, int64_t last) {
        const float* rows = w + first * m.cols;
        const float s = avx512 ? sum_rows_avx512(rows, last - first, m.cols)
                               : sum_rows_avx2(rows, (last - first) * m.cols);
        if (s == 12345.678f) sink = s;
      });
    }
    best = std::min(best, seconds_since(start));
  }
  return bytes / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  slmtune::match_blas_kernels_to_cpu(argv);  // the kernels slmtune runs (see core/blas_kernels.hpp)
  slmtune::keep_freed_memory_for_reuse();    // and its allocation policy (core/memory_reuse.hpp)
  std::string shape = "smollm2-135m", mode = "lora", model_dir, write_dir, dtype = "f32";
  int64_t seq = 256, batch_size = 4, steps = 2, rank = 16;
  int threads = 2;
  bool recompute = false, prompt_bench = false;
  int64_t decode_tokens = 0;  // --decode N: greedy decoding after a --seq prompt, KV cache, batch 1
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (arg == "--shape") shape = next();
    else if (arg == "--mode") mode = next();
    else if (arg == "--model") model_dir = next();
    else if (arg == "--write-model") write_dir = next();
    else if (arg == "--dtype") dtype = next();
    else if (arg == "--seq") seq = std::stoll(next());
    else if (arg == "--batch") batch_size = std::stoll(next());
    else if (arg == "--steps") steps = std::stoll(next());
    else if (arg == "--threads") threads = std::stoi(next());
    else if (arg == "--rank") rank = std::stoll(next());
    else if (arg == "--recompute") recompute = true;
    else if (arg == "--prompt") prompt_bench = true;
    else if (arg == "--decode" && i + 1 < argc) decode_tokens = std::stoll(argv[++i]);
    else {
      std::fprintf(stderr, "error: unknown argument %s\n", arg.c_str());
      return 1;
    }
  }
  if (mode != "lora" && mode != "qlora" && mode != "full" && mode != "frozen") {
    std::fprintf(stderr, "error: --mode must be lora, qlora, full or frozen, not %s\n", mode.c_str());
    return 1;
  }
  set_threads(threads);
  const ModelConfig config = find_model_preset(shape).config;
  if (!write_dir.empty()) {
    RandomInitOptions init;
    init.dtype = dtype == "bf16" ? DType::BF16 : DType::F32;
    write_random_model(config, write_dir, init);
    std::printf("wrote random %s weights (%s) to %s\n", shape.c_str(), dtype.c_str(), write_dir.c_str());
    return 0;
  }
  const auto start_load = std::chrono::steady_clock::now();
  const auto weights = model_dir.empty() ? random_weights(config)
                                         : std::make_shared<ModelWeights>(ModelWeights::load(model_dir));
  if (mode == "qlora") {
    const int64_t bytes = weights->quantize_linears_nf4();
    std::printf("NF4 base: %lld parameters in %.1f MB = %.4f bytes per parameter\n",
                static_cast<long long>(weights->nf4_parameters()), static_cast<double>(bytes) / 1e6,
                static_cast<double>(bytes) / static_cast<double>(weights->nf4_parameters()));
  }
  std::printf("%s: %lld layers, hidden %lld, vocab %lld; seq %lld, batch %lld, %d threads, %s, mode %s, rank %lld; "
              "weights %s (ready in %.1f s, RSS %.2f GB)\n",
              shape.c_str(), static_cast<long long>(config.num_layers), static_cast<long long>(config.hidden_size),
              static_cast<long long>(config.vocab_size), static_cast<long long>(seq),
              static_cast<long long>(batch_size), threads, recompute ? "recompute" : "keep activations", mode.c_str(),
              static_cast<long long>(rank), model_dir.empty() ? "random f32 in memory" : model_dir.c_str(),
              seconds_since(start_load), peak_rss_gb());
  std::printf("%s\n", slmtune::blas_kernels_summary().c_str());
  Transformer model(weights);
  std::unique_ptr<peft::LoraModel> lora;
  std::vector<train::NamedParameter> trainable;
  if (mode == "frozen") {
    uint32_t seed = 100;
    for (int64_t l = 0; l < config.num_layers; ++l)
      for (const auto& spec : expected_tensors(config))
        if (spec.layer == l && !spec.linear_name.empty())
          model.set_adapter(l, spec.linear_name,
                            std::make_shared<LowRankAdapter>(spec.shape[1], spec.shape[0], rank, seed++));
  } else if (mode == "full") {
    model.set_all_trainable(true);
    for (size_t i = 0; i < weights->size(); ++i)
      trainable.push_back({(*weights)[i].spec.hf_name, weights->trainable_values(i), model.gradient(i)});
  } else {
    peft::LoraConfig lora_config;
    lora_config.r = rank;
    lora_config.lora_alpha = 32.0;
    lora_config.lora_dropout = 0.05;
    lora_config.target_regex = "all-linear";
    lora = std::make_unique<peft::LoraModel>(lora_config, weights, 1);
    lora->attach(model);
    lora->set_training(true);
    for (size_t i = 0; i < lora->size(); ++i)
      for (const auto& p : lora->adapter(i).parameters())
        trainable.push_back({lora->targets()[i].module_name + "." + p.name, p.value, p.gradient});
  }
  std::unique_ptr<train::Optimizer> optimizer;
  if (!trainable.empty()) optimizer = std::make_unique<train::Optimizer>(train::OptimizerSettings{}, trainable);
  int64_t trainable_count = 0;
  for (const auto& p : trainable) trainable_count += static_cast<int64_t>(p.value.size());
  std::printf("trainable parameters: %lld\n", static_cast<long long>(trainable_count));

  Batch batch;
  batch.batch_size = batch_size;
  batch.seq_len = seq;
  std::mt19937 rng(7);
  for (int64_t i = 0; i < batch_size * seq; ++i)
    batch.input_ids.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(config.vocab_size)));
  batch.labels = batch.input_ids;
  for (int64_t b = 0; b < batch_size; ++b)  // the first quarter of each row is "prompt": no loss
    for (int64_t t = 0; t < seq / 4; ++t) batch.labels[static_cast<size_t>(b * seq + t)] = -100;
  ForwardOptions train;
  train.logits = LogitsMode::None;
  train.activations = recompute ? Activations::Recompute : Activations::Keep;

  int64_t kept = 0;
  double total = 0.0, total_cpu = 0.0, best = 1e30, loss = 0.0;
  for (int64_t step = 0; step <= steps; ++step) {  // step 0 warms up
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    if (lora) lora->set_step(static_cast<uint64_t>(step));
    loss = model.forward(batch, train).loss;
    kept = model.activation_bytes();
    model.backward();
    if (optimizer) optimizer->step(1e-4f);
    if (lora) lora->zero_gradients();
    model.zero_gradients();
    const double elapsed = seconds_since(start);
    std::printf("%s step %lld: %.2f s, loss %.4f\n", step == 0 ? "warm-up" : "timed", static_cast<long long>(step),
                elapsed, loss);
    std::fflush(stdout);
    if (step > 0) total += elapsed, total_cpu += cpu_seconds() - cpu_start, best = std::min(best, elapsed);
  }
  const double tokens = static_cast<double>(batch_size * seq);
  const double train_tps = steps > 0 ? tokens * static_cast<double>(steps) / total : 0.0;
  const double train_rss = peak_rss_gb();
  std::printf("TRAIN %s: %.2f s/step (min %.2f), %.1f tokens/s, loss %.3f [own CPU %.2f cores: %.1f tokens per "
              "CPU-second]; peak RSS %.2f GB\n",
              mode.c_str(), steps > 0 ? total / static_cast<double>(steps) : 0.0, best, train_tps, loss,
              total > 0 ? total_cpu / total : 0.0, total_cpu > 0 ? tokens * static_cast<double>(steps) / total_cpu : 0.0,
              train_rss);
  std::printf("  activations kept %.1f MB, backward recompute scratch %.1f MB, gradient buffers %.1f MB, "
              "optimizer state %.1f MB\n",
              static_cast<double>(kept) / 1e6, static_cast<double>(model.peak_scratch_bytes()) / 1e6,
              static_cast<double>(model.gradient_bytes()) / 1e6,
              optimizer ? static_cast<double>(optimizer->state_bytes()) / 1e6 : 0.0);

  double prompt_tps = 0.0;
  if (prompt_bench) {
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
    prompt_tps = static_cast<double>(seq) / prompt_best;
    std::printf("prompt processing (batch 1, %lld tokens): %.1f tokens/s\n", static_cast<long long>(seq), prompt_tps);
  }
  // Decoding is bound by memory bandwidth: every new token streams every weight matrix once (the
  // embedding contributes one row, a tied lm_head the whole matrix), so report the weight bytes
  // streamed per second next to tokens/s.
  double decode_tps = 0.0, decode_gbs = 0.0, read_gbs = 0.0;
  if (decode_tokens > 0) {
    Transformer plain(weights);
    double bytes_per_token = 0.0;
    std::vector<kernels::WeightMatrix> streamed;  // what a token reads in full (f32 weights only)
    bool all_f32 = true;  // the roofline reads f32 matrices, so it describes an all-f32 model only
    for (const auto& entry : weights->entries()) {
      if (entry.spec.shape.size() != 2) continue;
      const bool embedding = entry.spec.hf_name == "model.embed_tokens.weight";
      // The bytes as stored: f32, bf16 and f16 weights stream as they are (widened in registers or a
      // tile at a time), NF4 ones as their packed codes and scales.
      const double bytes = entry.is_nf4() ? static_cast<double>(entry.nf4->storage_bytes())
                                          : static_cast<double>(entry.spec.shape[0] * entry.spec.shape[1]) *
                                                static_cast<double>(dtype_size(entry.tensor.dtype()));
      bytes_per_token += embedding ? (weights->config().tie_word_embeddings ? bytes : bytes / static_cast<double>(entry.spec.shape[0])) : bytes;
      if (!embedding || weights->config().tie_word_embeddings) {
        if (!entry.nf4 && entry.tensor.dtype() == DType::F32)
          streamed.push_back(entry.matrix());
        else
          all_f32 = false;
      }
    }
    const std::vector<int32_t> prompt_ids(batch.input_ids.begin(), batch.input_ids.begin() + seq);
    double decode_best = 1e30;
    for (int i = 0; i <= 2; ++i) {
      KvCache cache(weights->config(), seq + decode_tokens);
      std::vector<float> logits = plain.forward_cached(prompt_ids, cache);
      const auto start = std::chrono::steady_clock::now();
      for (int64_t t = 0; t < decode_tokens; ++t) {
        const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        const int32_t one[1] = {next};
        logits = plain.forward_cached(one, cache);
      }
      if (i > 0) decode_best = std::min(decode_best, seconds_since(start));
    }
    decode_tps = static_cast<double>(decode_tokens) / decode_best;
    decode_gbs = decode_tps * bytes_per_token / 1e9;
    std::printf("decode (batch 1, KV cache, after a %lld-token prompt, %lld tokens): %.1f tokens/s, %.1f GB/s of weights\n",
                static_cast<long long>(seq), static_cast<long long>(decode_tokens), decode_tps, decode_gbs);
    read_gbs = all_f32 ? read_bandwidth_gbs(streamed) : 0.0;
    if (read_gbs > 0.0)
      std::printf("roofline: reading the same f32 weights with no arithmetic ran at %.1f GB/s (%.1f tokens/s at most); "
                  "decode used %.0f%% of it\n",
                  read_gbs, read_gbs * 1e9 / bytes_per_token, 100.0 * decode_gbs / read_gbs);
  }
  std::printf("RESULT {\"shape\": \"%s\", \"mode\": \"%s\", \"recompute\": %s, \"train_tokens_per_s\": %.2f, "
              "\"s_per_step\": %.3f, \"tokens_per_cpu_s\": %.2f, \"prompt_tokens_per_s\": %.2f, "
              "\"decode_tokens_per_s\": %.2f, \"decode_weight_gb_per_s\": %.2f, \"read_roofline_gb_per_s\": %.2f, "
              "\"peak_rss_gb\": %.3f}\n",
              shape.c_str(), mode.c_str(), recompute ? "true" : "false", train_tps,
              steps > 0 ? total / static_cast<double>(steps) : 0.0,
              total_cpu > 0 ? tokens * static_cast<double>(steps) / total_cpu : 0.0, prompt_tps, decode_tps, decode_gbs,
              read_gbs, train_rss);
  return 0;
}
