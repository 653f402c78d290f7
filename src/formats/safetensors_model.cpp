// A model's weights as Hugging Face saves them: one model.safetensors, or shards listed by
// model.safetensors.index.json. Every tensor the index names is checked to be in its shard on open.
#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "formats/json.hpp"
#include "formats/safetensors.hpp"

namespace slmtune::safetensors {

Model Model::open(const std::filesystem::path& dir_or_file) {
  namespace fs = std::filesystem;
  Model model;
  model.origin_ = dir_or_file;

  if (!fs::is_directory(dir_or_file)) {
    model.files_.push_back(std::make_unique<File>(File::open(dir_or_file)));
  } else if (const fs::path index_path = dir_or_file / "model.safetensors.index.json"; fs::exists(index_path)) {
    const std::string origin = index_path.string();
    const Json index = read_json_file(index_path);
    if (!index.is_object()) fail("{}: expected a JSON object", origin);
    const auto weight_map = index.find("weight_map");
    if (weight_map == index.end() || !weight_map->is_object())
      fail("{}: missing object 'weight_map' (tensor name → shard file)", origin);

    // Shards in name order (model-00001-of-00003…), which is also the order HF writes them.
    std::set<std::string> shard_names;
    for (const auto& [name, shard] : weight_map->items()) {
      if (!shard.is_string()) fail("{}: weight_map['{}'] must be a file name, found {}", origin, name, shard.dump());
      const auto& shard_name = shard.get_ref<const std::string&>();
      if (shard_name.empty() || fs::path(shard_name).is_absolute())
        fail("{}: weight_map['{}'] names '{}', not a file beside the index", origin, name, shard_name);
      shard_names.insert(shard_name);
    }
    std::map<std::string, const File*> shard_files;
    for (const auto& shard_name : shard_names) {
      const fs::path shard_path = dir_or_file / shard_name;
      if (!fs::is_regular_file(shard_path))
        fail("{}: shard '{}' named in weight_map does not exist ({})", origin, shard_name, shard_path.string());
      model.files_.push_back(std::make_unique<File>(File::open(shard_path)));
      shard_files[shard_name] = model.files_.back().get();
    }
    for (const auto& [name, shard] : weight_map->items()) {
      const auto& shard_name = shard.get_ref<const std::string&>();
      if (!shard_files.at(shard_name)->find(name))
        fail("{}: tensor '{}' is mapped to shard '{}', which does not contain it", origin, name, shard_name);
    }
    if (const auto meta = index.find("metadata"); meta != index.end() && meta->is_object())
      for (const auto& [key, value] : meta->items())
        model.metadata_.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
  } else if (const fs::path single = dir_or_file / "model.safetensors"; fs::exists(single)) {
    model.files_.push_back(std::make_unique<File>(File::open(single)));
  } else {
    fail("{}: no model.safetensors or model.safetensors.index.json in this directory", dir_or_file.string());
  }

  for (const auto& file : model.files_) {
    for (const auto& entry : file->tensors()) {
      const auto [it, inserted] = model.entries_.try_emplace(entry.name, Entry{&entry, file.get()});
      if (!inserted)
        fail("{}: tensor '{}' is in both {} and {}", dir_or_file.string(), entry.name, it->second.file->path().string(),
             file->path().string());
      model.names_.push_back(entry.name);
    }
  }
  if (!model.files_.empty() && !model.files_.front()->metadata().empty())
    model.metadata_ = model.files_.front()->metadata();
  return model;
}

std::vector<std::string> Model::names() const { return names_; }

const TensorEntry* Model::find(std::string_view name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.entry;
}

Tensor Model::tensor(std::string_view name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) fail("{}: no tensor named '{}'", origin_.string(), name);
  return it->second.file->tensor(name);
}

}  // namespace slmtune::safetensors
