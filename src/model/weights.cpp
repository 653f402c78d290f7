#include "model/weights.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/atomic_file.hpp"
#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "model/gguf_config.hpp"
#include "quant/nf4.hpp"

namespace slmtune {
namespace {

bool is_float_weight(DType dtype) { return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16; }

// Row r of the permuted layout holds HF row `source_row(r)` of the same head: llama.cpp's convert
// script reshapes each head to [2, head_dim/2] and swaps the two axes, so HF row j·half + i lands on
// row 2i + j.
Tensor reorder_rope_rows(const Tensor& weight, int64_t heads, bool to_hf, const char* what) {
  if (weight.rank() < 1 || heads <= 0 || weight.dim(0) % heads != 0 || (weight.dim(0) / heads) % 2 != 0)
    fail("{}: {} rows ({}) do not split into {} heads of even size", what, shape_string(weight.shape()),
         weight.rank() ? weight.dim(0) : 0, heads);
  const int64_t rows = weight.dim(0);
  const int64_t head_dim = rows / heads, half = head_dim / 2;
  const size_t row_bytes = weight.nbytes() / static_cast<size_t>(rows);
  Tensor out = Tensor::zeros(weight.dtype(), weight.shape());
  std::byte* dst = out.mutable_data();
  const std::byte* src = weight.data();
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t hf_row = h * head_dim + j * half + i;
        const int64_t gguf_row = h * head_dim + 2 * i + j;
        const int64_t to = to_hf ? hf_row : gguf_row, from = to_hf ? gguf_row : hf_row;
        std::memcpy(dst + static_cast<size_t>(to) * row_bytes, src + static_cast<size_t>(from) * row_bytes, row_bytes);
      }
  return out;
}

}  // namespace

Tensor unpermute_rope_rows(const Tensor& weight, int64_t heads) {
  return reorder_rope_rows(weight, heads, true, "unpermute_rope_rows");
}
Tensor permute_rope_rows(const Tensor& weight, int64_t heads) {
  return reorder_rope_rows(weight, heads, false, "permute_rope_rows");
}

kernels::WeightMatrix WeightEntry::matrix() const {
  if (nf4) fail("{}: stored in NF4 (quantize_linears_nf4); read it through the NF4 kernels", spec.hf_name);
  if (tensor.rank() != 2) fail("{}: not a matrix (shape {})", spec.hf_name, shape_string(tensor.shape()));
  return {tensor.data(), tensor.dtype(), tensor.dim(0), tensor.dim(1)};
}

ModelWeights ModelWeights::from_tensors(const ModelConfig& config,
                                        const std::function<Tensor(const std::string&)>& lookup,
                                        const std::string& origin) {
  ModelWeights weights;
  weights.config_ = config;
  weights.origin_ = origin;
  for (auto& spec : expected_tensors(config)) {
    Tensor tensor = lookup(spec.hf_name);
    if (tensor.data() == nullptr)
      fail("{}: tensor '{}' is missing (expected shape {} for {})", origin, spec.hf_name, shape_string(spec.shape),
           config.architecture);
    if (tensor.shape() != spec.shape)
      fail("{}: tensor '{}' has shape {}, expected {} from config", origin, spec.hf_name,
           shape_string(tensor.shape()), shape_string(spec.shape));
    if (!is_float_weight(tensor.dtype()))
      fail("{}: tensor '{}' has dtype {}, expected F32, F16 or BF16", origin, spec.hf_name,
           dtype_name(tensor.dtype()));
    WeightEntry entry;
    entry.spec = std::move(spec);
    entry.tensor = std::move(tensor);
    entry.stored_dtype = entry.tensor.dtype();
    if (entry.tensor.rank() == 1) entry.f32 = entry.tensor.to_f32_vector();
    weights.entries_.push_back(std::move(entry));
  }
  return weights;
}

ModelWeights ModelWeights::load_hf(const std::filesystem::path& dir) {
  const ModelConfig config = load_model_config(dir);
  auto model = std::make_shared<safetensors::Model>(safetensors::Model::open(dir));
  const std::string origin = dir.string();
  const auto unknown = check_tensors(
      config,
      [&](const std::string& name) -> std::optional<Shape> {
        const auto* entry = model->find(name);
        if (!entry) return std::nullopt;
        return entry->shape;
      },
      model->names(), origin, /*gguf_names=*/false);
  for (const auto& name : unknown) log::warn("{}: ignoring tensor '{}' that {} does not use", origin, name,
                                             config.architecture);
  return from_tensors(config, [&](const std::string& name) { return model->tensor(name); }, origin);
}

ModelWeights ModelWeights::load_gguf(const std::filesystem::path& path) {
  const auto file = gguf::File::open(path);
  const ModelConfig config = model_config_from_gguf(file);
  const std::string origin = path.string();
  std::vector<std::string> names;
  for (const auto& info : file.tensors()) names.push_back(info.name);
  const auto unknown = check_tensors(
      config,
      [&](const std::string& name) -> std::optional<Shape> {
        const auto* info = file.find_tensor(name);
        if (!info) return std::nullopt;
        return info->shape();
      },
      names, origin, /*gguf_names=*/true);
  for (const auto& name : unknown) log::warn("{}: ignoring tensor '{}' that {} does not use", origin, name,
                                             config.architecture);
  std::unordered_map<std::string, const TensorSpec*> by_hf;
  const auto specs = expected_tensors(config);
  for (const auto& spec : specs) by_hf[spec.hf_name] = &spec;
  // Only llama.cpp's "llama" architecture permutes Q/K for its adjacent-pair RoPE; qwen2 and phi3
  // files are written in rotate-half (NEOX) order already.
  const bool permuted = config.family == Family::Llama || config.family == Family::Mistral;
  return from_tensors(
      config,
      [&](const std::string& hf_name) {
        const TensorSpec& spec = *by_hf.at(hf_name);
        Tensor tensor = file.tensor(spec.gguf_name);
        if (permuted && (spec.linear_name == "q_proj" || spec.linear_name == "k_proj"))
          return unpermute_rope_rows(tensor, spec.linear_name == "q_proj" ? config.num_heads : config.num_kv_heads);
        if (permuted && tensor.rank() == 1 && spec.layer >= 0 &&
            (hf_name.find("q_proj.bias") != std::string::npos || hf_name.find("k_proj.bias") != std::string::npos)) {
          const bool q = hf_name.find("q_proj") != std::string::npos;
          return unpermute_rope_rows(tensor, q ? config.num_heads : config.num_kv_heads);
        }
        return tensor;
      },
      origin);
}

ModelWeights ModelWeights::load(const std::filesystem::path& path) {
  if (std::filesystem::is_regular_file(path) && path.extension() == ".gguf") return load_gguf(path);
  if (std::filesystem::is_directory(path)) return load_hf(path);
  fail("{}: not a model directory (config.json + safetensors) or a .gguf file", path.string());
}

int ModelWeights::index(std::string_view hf_name) const {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].spec.hf_name == hf_name) return static_cast<int>(i);
  return -1;
}

void ModelWeights::replace(size_t i, Tensor tensor) {
  WeightEntry& entry = entries_.at(i);
  if (tensor.shape() != entry.spec.shape || !is_float_weight(tensor.dtype()))
    fail("{}: replacement for '{}' is {} {}, expected a float tensor of shape {}", origin_, entry.spec.hf_name,
         dtype_name(tensor.dtype()), shape_string(tensor.shape()), shape_string(entry.spec.shape));
  entry.tensor = std::move(tensor);
  entry.nf4.reset();
  entry.writable = false;
  entry.f32.clear();
  if (entry.tensor.rank() == 1) entry.f32 = entry.tensor.to_f32_vector();
}

namespace {

// A view of a read-only file mapping stays resident (and in this process's RSS) after its last use,
// because the mapping lives on for the tensors still in use. Dropping the pages of a tensor no one
// reads any more is safe for a never-written file mapping (a later access re-reads the file); an
// owned tensor is freed by its destructor instead, and must not be touched here.
void release_file_pages(Tensor& tensor) {
  bool is_view = false;
  try {
    (void)tensor.mutable_data();
  } catch (const Error&) {
    is_view = true;
  }
  const long page = ::sysconf(_SC_PAGESIZE);
  if (!is_view || page <= 0 || tensor.data() == nullptr) return;
  const auto begin = reinterpret_cast<uintptr_t>(tensor.data());
  const auto size = static_cast<uintptr_t>(page);
  const uintptr_t first = (begin + size - 1) / size * size, last = (begin + tensor.nbytes()) / size * size;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}


// An owned f32 copy of `source` that shares storage with nothing (to_f32 always allocates).
Tensor private_f32_copy(const Tensor& source) { return source.to_f32(); }

}  // namespace

ModelWeights::ModelWeights(const ModelWeights& other)
    : config_(other.config_), origin_(other.origin_), entries_(other.entries_) {
  for (auto& entry : entries_)
    if (entry.writable) entry.tensor = private_f32_copy(entry.tensor);
}

ModelWeights& ModelWeights::operator=(const ModelWeights& other) {
  if (this != &other) *this = ModelWeights(other);
  return *this;
}

std::span<float> ModelWeights::trainable_values(size_t i) {
  WeightEntry& entry = entries_.at(i);
  if (entry.nf4)
    fail("{}: '{}' is stored in NF4 (a frozen QLoRA base) and cannot be trained", origin_, entry.spec.hf_name);
  if (!entry.writable) {
    // 1-D entries already hold exact f32 values in `f32` (widening is exact), so they seed the copy.
    if (entry.tensor.rank() == 1) {
      Tensor owned = Tensor::zeros(DType::F32, entry.tensor.shape());
      std::copy(entry.f32.begin(), entry.f32.end(), owned.as_mutable<float>());
      entry.tensor = std::move(owned);
      std::vector<float>().swap(entry.f32);
    } else {
      Tensor copy = private_f32_copy(entry.tensor);
      release_file_pages(entry.tensor);  // the f32 copy replaces the file's pages
      entry.tensor = std::move(copy);
    }
    entry.writable = true;
  }
  return {entry.tensor.as_mutable<float>(), static_cast<size_t>(entry.tensor.numel())};
}


int64_t ModelWeights::quantize_linears_nf4() {
  for (auto& entry : entries_) {
    if (entry.nf4 || entry.spec.layer < 0 || entry.spec.linear_name.empty() || entry.spec.shape.size() != 2) continue;
    entry.nf4 = std::make_shared<const quant::Nf4Tensor>(quant::Nf4Tensor::quantize(entry.tensor, true));
    release_file_pages(entry.tensor);
    entry.tensor = Tensor();  // drops the view (or frees the owned copy)
    entry.writable = false;
  }
  return nf4_bytes();
}

int64_t ModelWeights::nf4_parameters() const {
  int64_t total = 0;
  for (const auto& entry : entries_)
    if (entry.nf4) total += entry.nf4->numel();
  return total;
}

int64_t ModelWeights::nf4_bytes() const {
  int64_t total = 0;
  for (const auto& entry : entries_)
    if (entry.nf4) total += entry.nf4->storage_bytes();
  return total;
}

void save_hf_model(const ModelWeights& weights, const std::filesystem::path& dir, bool as_f32) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) fail("{}: cannot create directory: {}", dir.string(), error.message());
  safetensors::Writer writer;
  writer.set_metadata("format", "pt");
  for (const auto& entry : weights.entries()) {
    const DType target = as_f32 ? DType::F32 : entry.stored_dtype;
    Tensor tensor;
    if (entry.nf4) {
      tensor = Tensor::zeros(DType::F32, entry.spec.shape);
      entry.nf4->dequantize(0, entry.nf4->numel(), tensor.as_mutable<float>());
    } else {
      tensor = entry.tensor;
    }
    if (tensor.dtype() != target) tensor = tensor.cast(target);
    writer.add(entry.spec.hf_name, tensor);
  }
  ModelConfig config = weights.config();
  if (as_f32) config.torch_dtype = "float32";
  writer.write(dir / "model.safetensors");
  write_file_atomically(dir / "config.json", model_config_to_json(config).dump(2) + "\n");
}

}  // namespace slmtune
