#include "train/new_token_rows.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "formats/json.hpp"
#include "formats/safetensors.hpp"
#include "core/atomic_file.hpp"

namespace slmtune::train {
namespace {

constexpr const char* kCheckpointFile = "new_token_rows.safetensors";

struct Rows {
  size_t index = 0;       // weight entry
  std::string name;       // HF name
  std::string peft_name;  // delta's name in the adapter ("" for the bias, which PEFT has no slot for)
  int64_t width = 1;
  std::span<float> values;     // the new rows only
  std::vector<float> initial;  // their values before training (the delta's origin)
};

class NewTokenRows final : public TrainableSet {
 public:
  NewTokenRows(std::unique_ptr<TrainableSet> inner, std::shared_ptr<ModelWeights> weights, int64_t first_row)
      : inner_(std::move(inner)), weights_(std::move(weights)), first_(first_row) {
    fingerprint_ = inner_->base_fingerprint();
    const ModelConfig& config = weights_->config();
    vocab_ = config.vocab_size;
    if (first_ < 0 || first_ > vocab_) fail("new token rows: first row {} outside the vocabulary of {}", first_, vocab_);
    const auto add = [&](const char* name, const char* peft_name) {
      const int i = weights_->index(name);
      // lm_head.bias under lora.bias all is trained whole already; a second optimizer entry on its
      // new rows would update them twice.
      if (i < 0 || inner_->trains_base_tensor(name)) return;
      Rows rows;
      rows.index = static_cast<size_t>(i);
      rows.name = name;
      rows.peft_name = peft_name;
      rows.width = (*weights_)[rows.index].tensor.rank() == 2 ? (*weights_)[rows.index].tensor.dim(1) : 1;
      const std::span<float> all = weights_->trainable_values(rows.index);
      rows.values = all.subspan(static_cast<size_t>(first_ * rows.width));
      rows.initial.assign(rows.values.begin(), rows.values.end());
      rows_.push_back(std::move(rows));
    };
    add("model.embed_tokens.weight", kEmbedTokensDelta);
    if (!config.tie_word_embeddings) {
      add("lm_head.weight", kLmHeadDelta);
      add("lm_head.bias", "");
    }
  }

  void attach(Transformer& model) override {
    inner_->attach(model);
    for (const Rows& r : rows_) model.set_trainable(r.index, true);
  }

  std::vector<NamedParameter> parameters(Transformer& model) override {
    auto out = inner_->parameters(model);
    for (const Rows& r : rows_) out.push_back({r.name + ".new_rows", r.values, gradient(model, r)});
    return out;
  }

  std::vector<std::span<float>> gradients(Transformer& model) override {
    auto out = inner_->gradients(model);
    for (const Rows& r : rows_) out.push_back(gradient(model, r));
    return out;
  }

  void zero_gradients(Transformer& model) override {
    inner_->zero_gradients(model);
    for (const Rows& r : rows_) {
      const auto g = model.gradient(r.index);
      std::fill(g.begin(), g.end(), 0.0f);
    }
  }
  void set_training(bool training) override { inner_->set_training(training); }
  void set_step(uint64_t micro_step) override { inner_->set_step(micro_step); }

  void save(const std::filesystem::path& dir, Transformer& model) override {
    inner_->save(dir, model);
    safetensors::Writer writer;
    for (const Rows& r : rows_) writer.add(r.name, rows_tensor(r, r.values));
    writer.write(dir / kCheckpointFile);
  }

  void load(const std::filesystem::path& dir, Transformer& model) override {
    inner_->load(dir, model);
    const auto path = dir / kCheckpointFile;
    if (!std::filesystem::is_regular_file(path)) fail("{}: missing (the checkpoint holds no new token rows)", path.string());
    const auto file = safetensors::File::open(path);
    for (const Rows& r : rows_) {
      const auto* entry = file.find(r.name);
      if (!entry || entry->dtype != DType::F32 || static_cast<size_t>(shape_numel(entry->shape)) != r.values.size())
        fail("{}: tensor '{}' is missing or not F32 with {} values", path.string(), r.name, r.values.size());
      const auto bytes = file.tensor(r.name).bytes();
      std::memcpy(r.values.data(), bytes.data(), bytes.size());
    }
  }

  // PEFT's trainable tokens beside the adapter: the deltas into adapter_model.safetensors (rewritten
  // with the adapter's tensors plus ours) and the indices into adapter_config.json.
  void save_result(const std::filesystem::path& dir, Transformer& model) override {
    inner_->save_result(dir, model);
    const auto weights_path = dir / "adapter_model.safetensors";
    const auto config_path = dir / "adapter_config.json";
    if (!std::filesystem::is_regular_file(weights_path) || !std::filesystem::is_regular_file(config_path))
      fail("{}: the adapter files are missing; cannot add the new token rows", dir.string());
    safetensors::Writer writer;
    {
      const auto file = safetensors::File::open(weights_path);
      for (const auto& [key, value] : file.metadata()) writer.set_metadata(key, value);
      // Owned copies: the file is replaced below while it is still mapped.
      for (const auto& entry : file.tensors())
        writer.add(entry.name, Tensor::from_bytes(entry.dtype, entry.shape, file.tensor(entry.name).bytes()));
    }
    Json indices = Json::object();
    std::vector<int64_t> ids;
    for (int64_t id = first_; id < vocab_; ++id) ids.push_back(id);
    for (const Rows& r : rows_) {
      if (r.peft_name.empty()) continue;
      std::vector<float> delta(r.values.size());
      for (size_t k = 0; k < delta.size(); ++k) delta[k] = r.values[k] - r.initial[k];
      writer.add(r.peft_name, rows_tensor(r, delta));
      indices[r.name.rfind("lm_head", 0) == 0 ? "lm_head" : "embed_tokens"] = ids;
    }
    writer.write(weights_path);
    Json config = read_json_file(config_path);
    config["trainable_token_indices"] = indices;
    write_file_atomically(config_path, config.dump(2) + "\n");
  }

  Json identity() const override {
    Json id = inner_->identity();
    id["new_token_rows"] = vocab_ - first_;
    return id;
  }

  int64_t parameter_count() override {
    int64_t n = inner_->parameter_count();
    for (const Rows& r : rows_) n += static_cast<int64_t>(r.values.size());
    return n;
  }

 private:
  std::span<float> gradient(Transformer& model, const Rows& r) const {
    return model.gradient(r.index).subspan(static_cast<size_t>(first_ * r.width));
  }

  Tensor rows_tensor(const Rows& r, std::span<const float> values) const {
    const Shape shape = r.width == 1 ? Shape{vocab_ - first_} : Shape{vocab_ - first_, r.width};
    return Tensor::from_bytes(DType::F32, shape, std::as_bytes(values));
  }

  std::unique_ptr<TrainableSet> inner_;
  std::shared_ptr<ModelWeights> weights_;
  int64_t first_ = 0, vocab_ = 0;
  std::vector<Rows> rows_;
};

}  // namespace

std::unique_ptr<TrainableSet> train_new_token_rows(std::unique_ptr<TrainableSet> inner, std::shared_ptr<ModelWeights> weights,
                                                   int64_t first_row) {
  return std::make_unique<NewTokenRows>(std::move(inner), std::move(weights), first_row);
}

}  // namespace slmtune::train
