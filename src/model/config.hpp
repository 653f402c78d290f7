#pragma once
// A model's hyper-parameters, from a Hugging Face config.json or a GGUF file's `<arch>.*` keys. One
// struct for the five supported families; the flags say how a family departs from plain Llama.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "formats/json.hpp"

namespace slmtune {

enum class Family { Llama, Mistral, Qwen2, Phi3, Phi };
enum class Norm { RMSNorm, LayerNorm };
enum class Activation { SiLU, GeluTanh };

std::string_view family_name(Family family);  // "llama", "mistral", "qwen2", "phi3", "phi"

// rope_scaling of config.json; `type` is "llama3", "longrope" (also read from "su"), "linear",
// "dynamic" or "yarn". Frequencies are computed by the RoPE kernel from these numbers.
struct RopeScaling {
  std::string type;
  double factor = 1.0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  int64_t original_max_position_embeddings = 0;
  std::vector<double> short_factor;  // longrope, one per rotary frequency
  std::vector<double> long_factor;
};

struct ModelConfig {
  std::string architecture;  // as named in config.json, e.g. "Phi3ForCausalLM"
  Family family = Family::Llama;
  std::string model_type;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  Norm norm = Norm::RMSNorm;
  double norm_eps = 1e-6;
  Activation activation = Activation::SiLU;
  double rope_theta = 10000.0;
  double partial_rotary_factor = 1.0;
  std::optional<RopeScaling> rope_scaling;
  std::optional<int64_t> sliding_window;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;         // Qwen2 always; Llama with attention_bias; phi-2
  bool output_proj_bias = false; // Llama with attention_bias; phi-2's dense
  bool mlp_bias = false;         // Llama with mlp_bias; phi-2's fc1/fc2
  bool lm_head_bias = false;     // phi-2
  bool fused_qkv = false;        // Phi-3 qkv_proj
  bool fused_gate_up = false;    // Phi-3 gate_up_proj
  bool parallel_block = false;   // phi-2: attention and MLP read the same normed input
  std::string torch_dtype;       // "bfloat16", "float32"… as stored
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;

  int64_t rotary_dim() const;  // head_dim × partial_rotary_factor, even
  int64_t q_size() const { return num_heads * head_dim; }
  int64_t kv_size() const { return num_kv_heads * head_dim; }
};

// The architectures slmtune trains, as config.json names them.
const std::vector<std::string>& supported_architectures();

// Parses config.json's object. `origin` names the file in errors. Refuses masked-LM and seq2seq
// models with one line saying why, and unknown architectures with the list of supported ones.
ModelConfig parse_model_config(const Json& config, const std::string& origin);
// Reads DIR/config.json.
ModelConfig load_model_config(const std::filesystem::path& model_dir);

// The JSON a config.json for `config` holds (HF key names), for writing model directories.
Json model_config_to_json(const ModelConfig& config);

}  // namespace slmtune
