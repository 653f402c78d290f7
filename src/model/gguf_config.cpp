#include "model/gguf_config.hpp"

#include <array>

#include "core/error.hpp"

namespace slmtune {
namespace {
struct GgufArchitecture {
  std::string_view gguf_name;
  std::string_view hf_name;
  std::string_view model_type;
};
constexpr std::array<GgufArchitecture, 4> kGgufArchitectures{{
    {"llama", "LlamaForCausalLM", "llama"},
    {"qwen2", "Qwen2ForCausalLM", "qwen2"},
    {"phi3", "Phi3ForCausalLM", "phi3"},
    {"phi2", "PhiForCausalLM", "phi"},
}};
}  // namespace

const std::vector<std::string>& supported_gguf_architectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& row : kGgufArchitectures) out.emplace_back(row.gguf_name);
    return out;
  }();
  return names;
}

ModelConfig model_config_from_gguf(const gguf::File& file) {
  const std::string origin = file.path().string();
  const std::string& arch = file.get_string("general.architecture");
  const GgufArchitecture* row = nullptr;
  for (const auto& candidate : kGgufArchitectures)
    if (candidate.gguf_name == arch) row = &candidate;
  if (row == nullptr) {
    std::string supported;
    for (const auto& name : supported_gguf_architectures()) supported += (supported.empty() ? "" : ", ") + name;
    fail("{}: general.architecture '{}' is not supported; supported: {}", origin, arch, supported);
  }
  const std::string p = arch + ".";
  auto integer = [&](const std::string& key) { return file.get_int(p + key); };
  auto integer_or = [&](const std::string& key, int64_t fallback) {
    return file.find(p + key) ? file.get_int(p + key) : fallback;
  };
  auto number_or = [&](const std::string& key, double fallback) {
    return file.find(p + key) ? file.get_float(p + key) : fallback;
  };

  // The config.json these keys came from, rebuilt so that one parser validates both sources.
  Json json;
  json["architectures"] = Json::array({row->hf_name});
  json["model_type"] = row->model_type;
  json["hidden_size"] = integer("embedding_length");
  json["num_hidden_layers"] = integer("block_count");
  json["intermediate_size"] = integer("feed_forward_length");
  const int64_t heads = integer("attention.head_count");
  json["num_attention_heads"] = heads;
  json["num_key_value_heads"] = integer_or("attention.head_count_kv", heads);
  json["max_position_embeddings"] = integer_or("context_length", 2048);
  if (file.find(p + "attention.key_length")) json["head_dim"] = integer("attention.key_length");
  const int64_t head_dim = file.find(p + "attention.key_length") ? integer("attention.key_length")
                                                                  : json["hidden_size"].get<int64_t>() / heads;

  int64_t vocab = integer_or("vocab_size", 0);
  if (vocab == 0 && file.find("tokenizer.ggml.tokens")) vocab = static_cast<int64_t>(file.get("tokenizer.ggml.tokens").as_array().size());
  if (vocab == 0) {
    if (const auto* embedding = file.find_tensor("token_embd.weight"); embedding && embedding->dims.size() == 2)
      vocab = static_cast<int64_t>(embedding->dims[1]);
  }
  if (vocab == 0) fail("{}: cannot tell the vocabulary size (no {}vocab_size, tokenizer.ggml.tokens or token_embd.weight)", origin, p);
  json["vocab_size"] = vocab;

  if (arch == "phi2") {
    json["layer_norm_eps"] = number_or("attention.layer_norm_epsilon", 1e-5);
    json["hidden_act"] = "gelu_new";
  } else {
    json["rms_norm_eps"] = number_or("attention.layer_norm_rms_epsilon", 1e-6);
    json["hidden_act"] = "silu";
  }
  json["rope_theta"] = number_or("rope.freq_base", 10000.0);
  const int64_t rotary = integer_or("rope.dimension_count", head_dim);
  if (rotary != head_dim) json["partial_rotary_factor"] = static_cast<double>(rotary) / static_cast<double>(head_dim);
  if (file.find(p + "rope.scaling.type")) {
    const std::string& type = file.get_string(p + "rope.scaling.type");
    if (type == "linear" || type == "yarn") {
      json["rope_scaling"] = {{"rope_type", type},
                              {"factor", number_or("rope.scaling.factor", 1.0)},
                              {"original_max_position_embeddings", integer_or("rope.scaling.original_context_length", 0)}};
    }
  }
  if (file.find(p + "attention.sliding_window")) json["sliding_window"] = integer("attention.sliding_window");
  json["tie_word_embeddings"] = file.find_tensor("output.weight") == nullptr;
  if (arch == "llama") json["attention_bias"] = file.find_tensor("blk.0.attn_q.bias") != nullptr;
  if (file.find("tokenizer.ggml.bos_token_id")) json["bos_token_id"] = file.get_int("tokenizer.ggml.bos_token_id");
  if (file.find("tokenizer.ggml.eos_token_id")) json["eos_token_id"] = file.get_int("tokenizer.ggml.eos_token_id");
  if (file.find("tokenizer.ggml.padding_token_id"))
    json["pad_token_id"] = file.get_int("tokenizer.ggml.padding_token_id");
  ModelConfig config = parse_model_config(json, origin);
  // What the weights are stored in, for the report: the type of the first matrix.
  config.torch_dtype = "";
  for (const auto& tensor : file.tensors())
    if (tensor.dims.size() == 2) {
      config.torch_dtype = std::string(gguf::ggml_type_name(tensor.type));
      break;
    }
  return config;
}

}  // namespace slmtune
