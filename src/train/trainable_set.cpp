#include "train/trainable_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "formats/safetensors.hpp"
#include "peft/adapter_biases.hpp"
#include "peft/adapter_io.hpp"
#include "peft/lora_model.hpp"

namespace slmtune::train {
namespace {

uint64_t fnv1a(uint64_t hash, std::span<const std::byte> bytes) {
  for (std::byte b : bytes) hash = (hash ^ static_cast<uint8_t>(b)) * 0x100000001b3ULL;
  return hash;
}

class LoraSet final : public TrainableSet {
 public:
  LoraSet(const TrainConfig& config, std::shared_ptr<ModelWeights> weights, const std::filesystem::path& initial_adapter)
      : method_(config.method) {
    fingerprint_ = model_fingerprint(*weights);
    if (method_ == "qlora") {
      // The base becomes NF4 before any adapter reads it, so DoRA's norms see the quantized weights
      // that forward uses, as with bitsandbytes.
      const int64_t bytes = weights->quantize_linears_nf4();
      const int64_t count = weights->nf4_parameters();
      log::info("qlora: {} base parameters in NF4 with double quantization, {:.1f} MiB ({:.3f} bytes per parameter)", count,
                static_cast<double>(bytes) / (1 << 20), count > 0 ? static_cast<double>(bytes) / static_cast<double>(count) : 0.0);
    }
    weights_ = weights;
    std::shared_ptr<const ModelWeights> base = std::move(weights);
    if (!initial_adapter.empty()) {
      lora_ = peft::load_adapter(initial_adapter, base);
      // Its trained biases continue from their values, as its adapters do.
      peft::load_adapter_biases(initial_adapter, *weights_);
      log::info("continuing from the adapter in {} (its r={}, lora_alpha={}, bias and targets replace the lora settings)",
                initial_adapter.string(), lora_->config().r, lora_->config().lora_alpha);
    } else {
      lora_ = std::make_unique<peft::LoraModel>(lora_config_from(config), base, config.seed);
    }
    take_biases();
  }

  void attach(Transformer& model) override {
    lora_->attach(model);
    for (const Bias& b : biases_) model.set_trainable(b.index, true);
  }

  std::vector<NamedParameter> parameters(Transformer& model) override {
    std::vector<NamedParameter> out;
    for (size_t i = 0; i < lora_->size(); ++i)
      for (const auto& p : lora_->adapter(i).parameters())
        out.push_back({peft::peft_tensor_name(lora_->targets()[i], p.name), p.value, p.gradient});
    for (const Bias& b : biases_) out.push_back({b.names.peft_name, b.values, model.gradient(b.index)});
    return out;
  }

  std::vector<std::span<float>> gradients(Transformer& model) override {
    std::vector<std::span<float>> out;
    for (size_t i = 0; i < lora_->size(); ++i)
      for (const auto& p : lora_->adapter(i).parameters()) out.push_back(p.gradient);
    for (const Bias& b : biases_) out.push_back(model.gradient(b.index));
    return out;
  }

  void zero_gradients(Transformer& model) override {
    lora_->zero_gradients();
    for (const Bias& b : biases_) {
      const auto g = model.gradient(b.index);
      std::fill(g.begin(), g.end(), 0.0f);
    }
  }
  void set_training(bool training) override { lora_->set_training(training); }
  void set_step(uint64_t micro_step) override { lora_->set_step(micro_step); }

  void save(const std::filesystem::path& dir, Transformer&) override { peft::save_adapter(*lora_, dir); }

  void load(const std::filesystem::path& dir, Transformer&) override {
    const auto path = dir / "adapter_model.safetensors";
    if (!std::filesystem::is_regular_file(path)) fail("{}: missing (the checkpoint holds no adapter)", path.string());
    const auto file = safetensors::File::open(path);
    for (size_t i = 0; i < lora_->size(); ++i)
      for (const auto& p : lora_->adapter(i).parameters()) {
        const std::string name = peft::peft_tensor_name(lora_->targets()[i], p.name);
        const auto* entry = file.find(name);
        if (!entry) fail("{}: tensor '{}' is missing", path.string(), name);
        if (entry->dtype != DType::F32 || entry->shape != p.shape)
          fail("{}: tensor '{}' is {} {}, expected F32 {}", path.string(), name, dtype_name(entry->dtype),
               shape_string(entry->shape), shape_string(p.shape));
        const auto bytes = file.tensor(name).bytes();
        std::memcpy(p.value.data(), bytes.data(), bytes.size());
      }
    // The run identity names bias only when it is set (older checkpoints lack it), so a checkpoint
    // with trained biases resumed as bias none is caught here, from the checkpoint's own config.
    const auto config_path = dir / "adapter_config.json";
    if (std::filesystem::is_regular_file(config_path)) {
      const Json saved = read_json_file(config_path);
      const std::string theirs = saved.value("bias", std::string("none"));
      const std::string_view ours = peft::lora_bias_name(lora_->config().bias);
      if (theirs != ours)
        fail("{}: the checkpoint belongs to another run: bias is \"{}\" there but \"{}\" here", config_path.string(), theirs, ours);
    }
    std::vector<peft::AdapterBias> names;
    for (const Bias& b : biases_) names.push_back(b.names);
    // Written by save() in f32, so read back bit-exact.
    peft::read_biases(file, *weights_, names, /*require_all=*/true);
  }

  void save_result(const std::filesystem::path& dir, Transformer&) override { peft::save_adapter(*lora_, dir); }

  Json identity() const override {
    const auto& c = lora_->config();
    Json targets = Json::array();
    for (const auto& t : lora_->targets()) targets.push_back(t.module_name);
    Json id{{"method", method_}, {"r", c.r}, {"lora_alpha", c.lora_alpha}, {"use_dora", c.use_dora},
            {"use_rslora", c.use_rslora}, {"target_modules", targets}};
    // Only when set, so checkpoints from before lora.bias existed still resume.
    if (c.bias != peft::LoraBias::None) id["bias"] = std::string(peft::lora_bias_name(c.bias));
    return id;
  }

  int64_t parameter_count() override {
    int64_t n = lora_->parameter_count();
    for (const Bias& b : biases_) n += static_cast<int64_t>(b.values.size());
    return n;
  }

  bool trains_base_tensor(const std::string& hf_name) const override {
    return std::any_of(biases_.begin(), biases_.end(), [&](const Bias& b) { return b.names.hf_name == hf_name; });
  }

 private:
  struct Bias {
    peft::AdapterBias names;
    size_t index = 0;         // weight entry, also the Transformer's parameter index
    std::span<float> values;  // the entry's own f32 values, which the kernels read
  };

  // lora.bias: the biases become owned f32 in the shared base weights, updated in place by the optimizer
  // (as full fine-tuning updates every tensor), so forward, checkpoints and the saved adapter all see them.
  void take_biases() {
    const peft::LoraConfig& c = lora_->config();
    for (auto& names : peft::adapter_biases(c, weights_->config())) {
      Bias b;
      const int index = weights_->index(names.hf_name);
      if (index < 0) fail("lora.bias: the model has no tensor '{}'", names.hf_name);
      b.index = static_cast<size_t>(index);
      b.values = weights_->trainable_values(b.index);
      b.names = std::move(names);
      biases_.push_back(std::move(b));
    }
    if (c.bias == peft::LoraBias::None) return;
    if (biases_.empty()) {
      log::info("lora.bias: {}: {} of this {} model have no biases, so only the adapters train", peft::lora_bias_name(c.bias),
                c.bias == peft::LoraBias::LoraOnly ? "the targeted layers" : "the layers", weights_->config().architecture);
      return;
    }
    size_t values = 0;
    for (const Bias& b : biases_) values += b.values.size();
    log::info("lora.bias: {}: {} bias tensors ({} values) train with the adapters", peft::lora_bias_name(c.bias),
              biases_.size(), values);
  }

  std::string method_;
  std::shared_ptr<ModelWeights> weights_;
  std::unique_ptr<peft::LoraModel> lora_;
  std::vector<Bias> biases_;
};

// Full fine-tuning: every tensor of the model is an f32 parameter updated in place (the kernels read
// the same floats the optimizer writes).
class FullSet final : public TrainableSet {
 public:
  explicit FullSet(std::shared_ptr<ModelWeights> weights) : weights_(std::move(weights)) {
    fingerprint_ = model_fingerprint(*weights_);
    for (size_t i = 0; i < weights_->size(); ++i) values_.push_back(weights_->trainable_values(i));
  }

  void attach(Transformer& model) override { model.set_all_trainable(true); }

  std::vector<NamedParameter> parameters(Transformer& model) override {
    std::vector<NamedParameter> out;
    for (size_t i = 0; i < values_.size(); ++i) out.push_back({(*weights_)[i].spec.hf_name, values_[i], model.gradient(i)});
    return out;
  }

  std::vector<std::span<float>> gradients(Transformer& model) override {
    std::vector<std::span<float>> out;
    for (size_t i = 0; i < values_.size(); ++i) out.push_back(model.gradient(i));
    return out;
  }

  void zero_gradients(Transformer& model) override { model.zero_gradients(); }

  // Checkpoints keep f32 so a resume continues from exactly the same values.
  void save(const std::filesystem::path& dir, Transformer&) override { save_hf_model(*weights_, dir, /*as_f32=*/true); }

  void load(const std::filesystem::path& dir, Transformer&) override {
    const auto file = safetensors::Model::open(dir);
    for (size_t i = 0; i < values_.size(); ++i) {
      const std::string& name = (*weights_)[i].spec.hf_name;
      const auto* entry = file.find(name);
      if (!entry) fail("{}: tensor '{}' is missing", dir.string(), name);
      if (entry->dtype != DType::F32 || static_cast<size_t>(shape_numel(entry->shape)) != values_[i].size())
        fail("{}: tensor '{}' is {} {}, expected F32 {}", dir.string(), name, dtype_name(entry->dtype),
             shape_string(entry->shape), shape_string((*weights_)[i].spec.shape));
      const auto bytes = file.tensor(name).bytes();
      std::memcpy(values_[i].data(), bytes.data(), bytes.size());
    }
  }

  // The result is a Hugging Face model folder in the base model's dtype.
  void save_result(const std::filesystem::path& dir, Transformer&) override { save_hf_model(*weights_, dir); }

  Json identity() const override { return Json{{"method", "full"}}; }

  int64_t parameter_count() override {
    int64_t total = 0;
    for (const auto& v : values_) total += static_cast<int64_t>(v.size());
    return total;
  }

 private:
  std::shared_ptr<ModelWeights> weights_;
  std::vector<std::span<float>> values_;
};

}  // namespace

std::string model_fingerprint(const ModelWeights& weights) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const auto& entry : weights.entries()) {
    hash = fnv1a(hash, std::as_bytes(std::span(entry.spec.hf_name)));
    hash = fnv1a(hash, std::as_bytes(std::span(entry.spec.shape)));
    // The leading bytes tell two checkpoints of one architecture apart without reading whole models.
    const auto bytes = entry.tensor.bytes();
    hash = fnv1a(hash, bytes.first(std::min<size_t>(bytes.size(), 4096)));
  }
  return fmt::format("{:016x}", hash);
}

peft::LoraConfig lora_config_from(const TrainConfig& config) {
  peft::LoraConfig c;
  c.r = config.lora.r;
  c.lora_alpha = config.lora.lora_alpha;
  c.lora_dropout = config.lora.lora_dropout;
  const auto& modules = config.lora.target_modules;
  const bool regex = modules.size() == 1 &&
                     (modules[0] == "all-linear" || modules[0].find_first_of(".*+?[](){}|^$\\") != std::string::npos);
  if (regex) c.target_regex = modules[0];
  else c.target_modules = modules;
  if (config.lora.bias == "none") c.bias = peft::LoraBias::None;
  else if (config.lora.bias == "lora_only") c.bias = peft::LoraBias::LoraOnly;
  else if (config.lora.bias == "all") c.bias = peft::LoraBias::All;
  else fail("lora.bias: '{}' is not one of none, lora_only, all", config.lora.bias);
  c.use_rslora = config.lora.use_rslora;
  c.use_dora = config.lora.use_dora || config.method == "dora";
  c.base_model_name_or_path = config.model;
  peft::validate(c, "lora");
  return c;
}

std::unique_ptr<TrainableSet> make_trainable_set(const TrainConfig& config, std::shared_ptr<ModelWeights> weights,
                                                 const std::filesystem::path& initial_adapter) {
  if (config.method == "lora" || config.method == "dora" || config.method == "qlora")
    return std::make_unique<LoraSet>(config, std::move(weights), initial_adapter);
  if (config.method == "full") {
    if (!initial_adapter.empty()) fail("--adapter: continuing from an adapter needs method lora, dora or qlora, not full");
    return std::make_unique<FullSet>(std::move(weights));
  }
  fail("method: unknown '{}' (expected full, lora, dora or qlora)", config.method);
}

}  // namespace slmtune::train
