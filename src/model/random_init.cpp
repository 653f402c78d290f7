#include "model/random_init.hpp"

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "formats/safetensors.hpp"
#include "model/architecture.hpp"

namespace slmtune {

void write_random_model(const ModelConfig& config, const std::filesystem::path& dir, const RandomInitOptions& options) {
  if (options.dtype != DType::F32 && options.dtype != DType::F16 && options.dtype != DType::BF16)
    fail("random weights can be written as F32, F16 or BF16, not {}", dtype_name(options.dtype));
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) fail("{}: cannot create directory: {}", dir.string(), error.message());

  Rng rng(options.seed);
  safetensors::Writer writer;
  writer.set_metadata("format", "pt");
  for (const auto& spec : expected_tensors(config)) {
    Tensor tensor = Tensor::zeros(DType::F32, spec.shape);
    float* values = tensor.as_mutable<float>();
    const auto count = static_cast<size_t>(tensor.numel());
    const bool is_bias = spec.hf_name.size() > 5 && spec.hf_name.ends_with(".bias");
    if (spec.kind == TensorKind::Norm) {
      for (size_t i = 0; i < count; ++i) values[i] = is_bias ? 0.0f : 1.0f;
    } else if (!is_bias) {
      for (size_t i = 0; i < count; ++i) values[i] = rng.normal() * options.init_std;
    }
    writer.add(spec.hf_name, options.dtype == DType::F32 ? tensor : tensor.cast(options.dtype));
  }
  ModelConfig stored = config;
  stored.torch_dtype = options.dtype == DType::F32 ? "float32" : options.dtype == DType::F16 ? "float16" : "bfloat16";
  writer.write(dir / "model.safetensors");
  write_file_atomically(dir / "config.json", model_config_to_json(stored).dump(2) + "\n");
}

}  // namespace slmtune
