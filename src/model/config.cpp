#include "model/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "core/error.hpp"

namespace slmtune {
namespace {

struct ArchitectureRow {
  std::string_view hf_name;
  Family family;
};
constexpr std::array<ArchitectureRow, 5> kArchitectures{{
    {"LlamaForCausalLM", Family::Llama},
    {"MistralForCausalLM", Family::Mistral},
    {"Qwen2ForCausalLM", Family::Qwen2},
    {"Phi3ForCausalLM", Family::Phi3},
    {"PhiForCausalLM", Family::Phi},
}};

// model_type → architecture, for configs written without an `architectures` list.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kModelTypes{{
    {"llama", "LlamaForCausalLM"},
    {"mistral", "MistralForCausalLM"},
    {"qwen2", "Qwen2ForCausalLM"},
    {"phi3", "Phi3ForCausalLM"},
    {"phi", "PhiForCausalLM"},
}};

constexpr std::array<std::string_view, 9> kMaskedLmTypes{"bert",    "roberta",     "distilbert", "deberta",   "deberta-v2",
                                                          "electra", "xlm-roberta", "albert",     "modernbert"};
constexpr std::array<std::string_view, 11> kSeq2SeqTypes{"t5",     "mt5",   "bart",       "mbart", "pegasus", "marian",
                                                       "umt5",   "longt5", "blenderbot", "led",   "bigbird_pegasus"};

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}
template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string supported_list() {
  std::string out;
  for (const auto& row : kArchitectures) {
    if (!out.empty()) out += ", ";
    out += row.hf_name;
  }
  return out;
}

// Typed reading of config.json keys, every failure naming the file and the key.
class Reader {
 public:
  Reader(const Json& json, const std::string& origin) : json_(json), origin_(origin) {}

  bool has(const char* key) const { return json_.contains(key) && !json_[key].is_null(); }

  int64_t integer(const char* key) const {
    if (!json_.contains(key)) fail("{}: key '{}' is missing (expected an integer)", origin_, key);
    return integer_value(json_[key], key);
  }
  int64_t integer(const char* key, int64_t fallback) const { return has(key) ? integer_value(json_[key], key) : fallback; }
  int64_t positive(const char* key) const {
    const int64_t value = integer(key);
    if (value <= 0) fail("{}: key '{}' must be a positive integer, found {}", origin_, key, value);
    return value;
  }
  double number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const Json& value = json_[key];
    if (!value.is_number()) fail("{}: key '{}' must be a number, found {}", origin_, key, value.type_name());
    return value.get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const Json& value = json_[key];
    if (!value.is_boolean()) fail("{}: key '{}' must be true or false, found {}", origin_, key, value.dump());
    return value.get<bool>();
  }
  std::string string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const Json& value = json_[key];
    if (!value.is_string()) fail("{}: key '{}' must be a string, found {}", origin_, key, value.type_name());
    return value.get<std::string>();
  }
  std::optional<int64_t> optional_integer(const char* key) const {
    if (!has(key)) return std::nullopt;
    return integer_value(json_[key], key);
  }
  std::vector<int64_t> integer_or_list(const char* key) const {
    if (!has(key)) return {};
    const Json& value = json_[key];
    if (value.is_array()) {
      std::vector<int64_t> out;
      for (const auto& item : value) out.push_back(integer_value(item, key));
      return out;
    }
    return {integer_value(value, key)};
  }
  std::vector<double> number_list(const Json& object, const char* key, const char* parent) const {
    if (!object.contains(key) || !object[key].is_array())
      fail("{}: key '{}.{}' must be a list of numbers", origin_, parent, key);
    std::vector<double> out;
    for (const auto& item : object[key]) {
      if (!item.is_number()) fail("{}: key '{}.{}' must be a list of numbers, found {}", origin_, parent, key, item.dump());
      out.push_back(item.get<double>());
    }
    return out;
  }
  const Json& json() const { return json_; }
  const std::string& origin() const { return origin_; }

 private:
  int64_t integer_value(const Json& value, const char* key) const {
    if (value.is_number_integer()) return value.get<int64_t>();
    if (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>() &&
        std::fabs(value.get<double>()) < 9e15)
      return static_cast<int64_t>(value.get<double>());
    fail("{}: key '{}' must be an integer, found {}", origin_, key, value.dump());
  }
  const Json& json_;
  const std::string& origin_;
};

// Decides which architecture a config describes, refusing the training objectives slmtune does not do.
std::string resolve_architecture(const Reader& reader) {
  const std::string model_type = reader.string("model_type", "");
  std::string name;
  if (reader.has("architectures")) {
    const Json& list = reader.json()["architectures"];
    if (!list.is_array() || list.empty() || !list[0].is_string())
      fail("{}: key 'architectures' must be a non-empty list of class names", reader.origin());
    name = list[0].get<std::string>();
  } else {
    for (const auto& [type, architecture] : kModelTypes)
      if (type == model_type) name = architecture;
    if (name.empty())
      fail("{}: no 'architectures' list and model_type '{}' is not one slmtune knows; supported: {}", reader.origin(),
           model_type, supported_list());
  }
  const bool encoder_decoder = reader.boolean("is_encoder_decoder", false);
  // The class name's family ("T5" of T5ForConditionalGeneration), for configs without a model_type.
  std::string class_family = name.substr(0, name.find("For"));
  for (char& c : class_family) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ends_with(name, "ForMaskedLM") || contains(kMaskedLmTypes, model_type) || contains(kMaskedLmTypes, class_family))
    fail("{}: {} is a masked language model (it fills in hidden tokens using context on both sides), not a "
         "causal LM that writes text left to right; slmtune fine-tunes causal LMs only (README: 'Which models "
         "can be fine-tuned')",
         reader.origin(), name);
  if (encoder_decoder || ends_with(name, "ForSeq2SeqLM") || contains(kSeq2SeqTypes, model_type) ||
      (ends_with(name, "ForConditionalGeneration") && contains(kSeq2SeqTypes, class_family)))
    fail("{}: {} is an encoder-decoder (seq2seq) model whose decoder is trained on an encoder's output, not a "
         "causal LM; slmtune fine-tunes causal LMs only (README: 'Which models can be fine-tuned')",
         reader.origin(), name);
  for (const auto& row : kArchitectures)
    if (row.hf_name == name) return name;
  fail("{}: architecture '{}' is not supported; supported: {}", reader.origin(), name, supported_list());
}

std::optional<RopeScaling> parse_rope_scaling(const Reader& reader) {
  if (!reader.has("rope_scaling")) return std::nullopt;
  const Json& object = reader.json()["rope_scaling"];
  if (!object.is_object()) fail("{}: key 'rope_scaling' must be an object or null", reader.origin());
  RopeScaling scaling;
  std::string type;
  if (object.contains("rope_type") && object["rope_type"].is_string()) type = object["rope_type"].get<std::string>();
  else if (object.contains("type") && object["type"].is_string()) type = object["type"].get<std::string>();
  else fail("{}: key 'rope_scaling' needs a 'rope_type' (or 'type') string", reader.origin());
  if (type == "su") type = "longrope";  // the 128k Phi-3 configs' older name for the same method
  scaling.type = type;
  auto number = [&](const char* key, double fallback) {
    if (!object.contains(key) || object[key].is_null()) return fallback;
    if (!object[key].is_number()) fail("{}: key 'rope_scaling.{}' must be a number", reader.origin(), key);
    return object[key].get<double>();
  };
  scaling.factor = number("factor", 1.0);
  if (type == "default") return std::nullopt;
  if (type == "llama3") {
    scaling.low_freq_factor = number("low_freq_factor", 1.0);
    scaling.high_freq_factor = number("high_freq_factor", 4.0);
    scaling.original_max_position_embeddings = static_cast<int64_t>(number("original_max_position_embeddings", 8192));
    if (scaling.high_freq_factor <= scaling.low_freq_factor)
      fail("{}: rope_scaling.high_freq_factor must exceed low_freq_factor", reader.origin());
  } else if (type == "longrope") {
    scaling.short_factor = reader.number_list(object, "short_factor", "rope_scaling");
    scaling.long_factor = reader.number_list(object, "long_factor", "rope_scaling");
    // Phi-3 keeps the pre-extension context at the top level of config.json.
    scaling.original_max_position_embeddings = static_cast<int64_t>(
        number("original_max_position_embeddings",
               static_cast<double>(reader.integer("original_max_position_embeddings", 0))));
  } else if (type == "linear" || type == "dynamic" || type == "yarn") {
    scaling.original_max_position_embeddings = static_cast<int64_t>(number("original_max_position_embeddings", 0));
  } else {
    fail("{}: rope_scaling type '{}' is not supported (llama3, longrope/su, linear, dynamic, yarn)", reader.origin(),
         type);
  }
  if (scaling.factor <= 0) fail("{}: rope_scaling.factor must be positive", reader.origin());
  return scaling;
}

}  // namespace

std::string_view family_name(Family family) {
  switch (family) {
    case Family::Llama: return "llama";
    case Family::Mistral: return "mistral";
    case Family::Qwen2: return "qwen2";
    case Family::Phi3: return "phi3";
    case Family::Phi: return "phi";
  }
  return "?";
}

int64_t ModelConfig::rotary_dim() const {
  const auto dim = static_cast<int64_t>(static_cast<double>(head_dim) * partial_rotary_factor);
  return dim - dim % 2;
}

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& row : kArchitectures) out.emplace_back(row.hf_name);
    return out;
  }();
  return names;
}

ModelConfig parse_model_config(const Json& json, const std::string& origin) {
  if (!json.is_object()) fail("{}: expected a JSON object", origin);
  const Reader reader(json, origin);
  ModelConfig config;
  config.architecture = resolve_architecture(reader);
  for (const auto& row : kArchitectures)
    if (row.hf_name == config.architecture) config.family = row.family;
  config.model_type = reader.string("model_type", std::string(family_name(config.family)));

  config.vocab_size = reader.positive("vocab_size");
  config.hidden_size = reader.positive("hidden_size");
  config.intermediate_size = reader.positive("intermediate_size");
  config.num_layers = reader.positive("num_hidden_layers");
  config.num_heads = reader.positive("num_attention_heads");
  config.num_kv_heads = reader.integer("num_key_value_heads", config.num_heads);
  if (config.num_kv_heads <= 0 || config.num_heads % config.num_kv_heads != 0)
    fail("{}: num_attention_heads ({}) must be a multiple of num_key_value_heads ({})", origin, config.num_heads,
         config.num_kv_heads);
  if (reader.has("head_dim")) {
    config.head_dim = reader.positive("head_dim");
  } else {
    if (config.hidden_size % config.num_heads != 0)
      fail("{}: hidden_size ({}) is not a multiple of num_attention_heads ({}) and no head_dim is given", origin,
           config.hidden_size, config.num_heads);
    config.head_dim = config.hidden_size / config.num_heads;
  }
  config.max_position_embeddings = reader.integer("max_position_embeddings", 2048);
  config.rope_theta = reader.number("rope_theta", 10000.0);
  config.partial_rotary_factor = reader.number("partial_rotary_factor", 1.0);
  if (config.partial_rotary_factor <= 0 || config.partial_rotary_factor > 1)
    fail("{}: partial_rotary_factor must be in (0, 1], found {}", origin, config.partial_rotary_factor);
  config.rope_scaling = parse_rope_scaling(reader);
  config.torch_dtype = reader.string("torch_dtype", reader.string("dtype", "float32"));
  config.bos_token_id = reader.optional_integer("bos_token_id");
  config.eos_token_ids = reader.integer_or_list("eos_token_id");
  config.pad_token_id = reader.optional_integer("pad_token_id");
  config.tie_word_embeddings = reader.boolean("tie_word_embeddings", false);

  const std::string activation = reader.string("hidden_act", config.family == Family::Phi ? "gelu_new" : "silu");
  switch (config.family) {
    case Family::Phi:
      config.norm = Norm::LayerNorm;
      config.norm_eps = reader.number("layer_norm_eps", 1e-5);
      config.qkv_bias = config.output_proj_bias = config.mlp_bias = config.lm_head_bias = true;
      config.parallel_block = true;
      if (reader.boolean("qk_layernorm", false))
        fail("{}: qk_layernorm=true is not supported for PhiForCausalLM", origin);
      if (activation != "gelu_new" && activation != "gelu_pytorch_tanh" && activation != "gelu_fast")
        fail("{}: hidden_act '{}' is not supported for phi (expected gelu_new)", origin, activation);
      config.activation = Activation::GeluTanh;
      break;
    case Family::Qwen2:
      config.qkv_bias = true;
      config.norm_eps = reader.number("rms_norm_eps", 1e-6);
      if (reader.boolean("use_sliding_window", false)) config.sliding_window = reader.optional_integer("sliding_window");
      break;
    case Family::Phi3:
      config.fused_qkv = config.fused_gate_up = true;
      config.norm_eps = reader.number("rms_norm_eps", 1e-5);
      config.sliding_window = reader.optional_integer("sliding_window");
      config.qkv_bias = config.output_proj_bias = reader.boolean("attention_bias", false);
      break;
    case Family::Llama:
    case Family::Mistral:
      config.norm_eps = reader.number("rms_norm_eps", 1e-6);
      config.qkv_bias = config.output_proj_bias = reader.boolean("attention_bias", false);
      config.mlp_bias = reader.boolean("mlp_bias", false);
      if (config.family == Family::Mistral) config.sliding_window = reader.optional_integer("sliding_window");
      break;
  }
  if (config.family != Family::Phi && activation != "silu")
    fail("{}: hidden_act '{}' is not supported for {} (expected silu)", origin, activation, config.architecture);

  // Bounds far above any real model keep a hostile config from asking for absurd allocations.
  const struct {
    const char* key;
    int64_t value;
    int64_t limit;
  } limits[] = {{"vocab_size", config.vocab_size, int64_t{1} << 24},
                {"hidden_size", config.hidden_size, int64_t{1} << 17},
                {"intermediate_size", config.intermediate_size, int64_t{1} << 19},
                {"num_hidden_layers", config.num_layers, 1024},
                {"num_attention_heads", config.num_heads, 4096},
                {"head_dim", config.head_dim, 4096}};
  for (const auto& limit : limits)
    if (limit.value > limit.limit)
      fail("{}: {} = {} is beyond what slmtune supports (at most {})", origin, limit.key, limit.value, limit.limit);
  if (config.rotary_dim() <= 0) fail("{}: the rotary dimension works out to 0", origin);
  if (config.rope_scaling && config.rope_scaling->type == "longrope") {
    const auto expected = static_cast<size_t>(config.rotary_dim() / 2);
    if (config.rope_scaling->short_factor.size() != expected || config.rope_scaling->long_factor.size() != expected)
      fail("{}: rope_scaling short_factor/long_factor need {} values (rotary dim / 2), found {} and {}", origin,
           expected, config.rope_scaling->short_factor.size(), config.rope_scaling->long_factor.size());
  }
  return config;
}

ModelConfig load_model_config(const std::filesystem::path& model_dir) {
  std::error_code error;
  if (!std::filesystem::exists(model_dir, error)) fail("{}: no such file or directory", model_dir.string());
  const auto path = model_dir / "config.json";
  if (!std::filesystem::is_regular_file(path, error))
    fail("{}: not a Hugging Face model directory (no config.json)", model_dir.string());
  return parse_model_config(read_json_file(path), path.string());
}

Json model_config_to_json(const ModelConfig& config) {
  Json json;
  json["architectures"] = Json::array({config.architecture});
  json["model_type"] = config.model_type;
  json["vocab_size"] = config.vocab_size;
  json["hidden_size"] = config.hidden_size;
  json["intermediate_size"] = config.intermediate_size;
  json["num_hidden_layers"] = config.num_layers;
  json["num_attention_heads"] = config.num_heads;
  json["num_key_value_heads"] = config.num_kv_heads;
  if (config.head_dim * config.num_heads != config.hidden_size) json["head_dim"] = config.head_dim;
  json["max_position_embeddings"] = config.max_position_embeddings;
  json["hidden_act"] = config.activation == Activation::SiLU ? "silu" : "gelu_new";
  if (config.norm == Norm::LayerNorm) json["layer_norm_eps"] = config.norm_eps;
  else json["rms_norm_eps"] = config.norm_eps;
  json["rope_theta"] = config.rope_theta;
  if (config.partial_rotary_factor != 1.0) json["partial_rotary_factor"] = config.partial_rotary_factor;
  if (config.rope_scaling) {
    const RopeScaling& s = *config.rope_scaling;
    Json scaling;
    scaling["rope_type"] = s.type;
    scaling["factor"] = s.factor;
    if (s.type == "llama3") {
      scaling["low_freq_factor"] = s.low_freq_factor;
      scaling["high_freq_factor"] = s.high_freq_factor;
      scaling["original_max_position_embeddings"] = s.original_max_position_embeddings;
    } else if (s.type == "longrope") {
      scaling["short_factor"] = s.short_factor;
      scaling["long_factor"] = s.long_factor;
      json["original_max_position_embeddings"] = s.original_max_position_embeddings;
    }
    json["rope_scaling"] = scaling;
  } else {
    json["rope_scaling"] = nullptr;
  }
  if (config.family == Family::Llama || config.family == Family::Mistral) {
    json["attention_bias"] = config.qkv_bias;
    json["mlp_bias"] = config.mlp_bias;
  }
  if (config.sliding_window) json["sliding_window"] = *config.sliding_window;
  json["tie_word_embeddings"] = config.tie_word_embeddings;
  json["torch_dtype"] = config.torch_dtype;
  if (config.bos_token_id) json["bos_token_id"] = *config.bos_token_id;
  if (config.eos_token_ids.size() == 1) json["eos_token_id"] = config.eos_token_ids[0];
  else if (!config.eos_token_ids.empty()) json["eos_token_id"] = config.eos_token_ids;
  if (config.pad_token_id) json["pad_token_id"] = *config.pad_token_id;
  return json;
}

}  // namespace slmtune
