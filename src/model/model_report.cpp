#include "model/model_report.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "model/gguf_config.hpp"

namespace slmtune {
namespace {

// Fills the parts of the report that depend only on the config and the tensor list.
void summarise(ModelReport& report, bool gguf_names) {
  std::unordered_map<std::string, const TensorFact*> by_name;
  for (const auto& tensor : report.tensors) {
    by_name[tensor.name] = &tensor;
    if (std::find(report.dtypes.begin(), report.dtypes.end(), tensor.dtype) == report.dtypes.end())
      report.dtypes.push_back(tensor.dtype);
  }
  std::vector<std::string> names;
  for (const auto& tensor : report.tensors) names.push_back(tensor.name);
  report.unknown_tensors = check_tensors(
      report.config,
      [&](const std::string& name) -> std::optional<Shape> {
        const auto it = by_name.find(name);
        if (it == by_name.end()) return std::nullopt;
        return it->second->shape;
      },
      names, report.source.string(), gguf_names);

  std::map<std::string, size_t> group_index;
  std::vector<int64_t> per_kind(5, 0);
  for (const auto& spec : expected_tensors(report.config)) {
    per_kind[static_cast<size_t>(spec.kind)] += shape_numel(spec.shape);
    if (spec.linear_name.empty() || spec.layer < 0) continue;
    auto [it, inserted] = group_index.emplace(spec.linear_name, report.lora_targets.size());
    if (inserted) report.lora_targets.push_back({spec.linear_name, {}, spec.shape});
    // PEFT names modules without the parameter suffix.
    report.lora_targets[it->second].modules.push_back(spec.hf_name.substr(0, spec.hf_name.size() - 7));
  }
  int64_t other = 0;
  for (const auto& name : report.unknown_tensors) other += shape_numel(by_name[name]->shape);
  for (size_t kind = 0; kind < per_kind.size(); ++kind)
    if (per_kind[kind] > 0)
      report.parameters_by_kind.push_back({std::string(tensor_kind_name(static_cast<TensorKind>(kind))), per_kind[kind]});
  if (other > 0) report.parameters_by_kind.push_back({"other", other});
  report.total_parameters = other;
  for (int64_t count : per_kind) report.total_parameters += count;
  for (const auto& name : report.unknown_tensors) log::debug("{}: tensor '{}' is not part of {}", report.source.string(), name, report.config.architecture);
}

ModelReport inspect_gguf(const std::filesystem::path& path) {
  const gguf::File file = gguf::File::open(path);
  ModelReport report;
  report.source = path;
  report.format = "gguf";
  report.config = model_config_from_gguf(file);
  for (const auto& info : file.tensors())
    report.tensors.push_back({info.name, info.shape(), std::string(gguf::ggml_type_name(info.type))});
  summarise(report, /*gguf_names=*/true);
  return report;
}

ModelReport inspect_hf_directory(const std::filesystem::path& dir) {
  ModelReport report;
  report.source = dir;
  report.format = "huggingface";
  report.config = load_model_config(dir);
  std::error_code error;
  const bool single = std::filesystem::exists(dir / "model.safetensors", error);
  const bool sharded = std::filesystem::exists(dir / "model.safetensors.index.json", error);
  if (!single && !sharded) {
    if (std::filesystem::exists(dir / "pytorch_model.bin", error) ||
        std::filesystem::exists(dir / "pytorch_model.bin.index.json", error))
      fail("{}: holds PyTorch pickle weights (pytorch_model.bin); slmtune reads safetensors only — convert "
           "with transformers' save_pretrained(safe_serialization=True)",
           dir.string());
    fail("{}: no model.safetensors or model.safetensors.index.json", dir.string());
  }
  const safetensors::Model model = safetensors::Model::open(dir);
  report.file_count = model.file_count();
  for (const auto& name : model.names()) {
    const auto* entry = model.find(name);
    report.tensors.push_back({name, entry->shape, std::string(dtype_name(entry->dtype))});
  }
  summarise(report, /*gguf_names=*/false);
  return report;
}

}  // namespace

ModelReport inspect_model(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) fail("{}: no such file or directory", path.string());
  if (std::filesystem::is_directory(path, error)) return inspect_hf_directory(path);
  if (path.extension() == ".gguf") return inspect_gguf(path);
  if (path.filename() == "config.json") return inspect_hf_directory(path.parent_path());
  fail("{}: expected a Hugging Face model directory or a .gguf file", path.string());
}

}  // namespace slmtune
