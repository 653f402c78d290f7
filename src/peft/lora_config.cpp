#include "peft/lora_config.hpp"

#include <cmath>
#include <regex>
#include <set>

#include <fmt/ranges.h>

#include "core/error.hpp"
#include "model/architecture.hpp"

namespace slmtune::peft {
namespace {

bool ends_with_module(const std::string& name, const std::string& entry) {
  return name == entry ||
         (name.size() > entry.size() && name.compare(name.size() - entry.size(), entry.size(), entry) == 0 &&
          name[name.size() - entry.size() - 1] == '.');
}

std::string module_of(const std::string& tensor_name) {
  return tensor_name.substr(0, tensor_name.rfind('.'));  // drop ".weight" / ".bias"
}

template <class T>
T get(const Json& json, const char* key, const std::string& origin, T fallback) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail("{}: key '{}' has the wrong type ({})", origin, key, it->type_name());
  }
}

}  // namespace

double LoraConfig::scaling() const {
  return use_rslora ? lora_alpha / std::sqrt(static_cast<double>(r)) : lora_alpha / static_cast<double>(r);
}

std::string_view lora_bias_name(LoraBias bias) {
  switch (bias) {
    case LoraBias::None: return "none";
    case LoraBias::LoraOnly: return "lora_only";
    case LoraBias::All: return "all";
  }
  return "none";
}

void validate(const LoraConfig& c, const std::string& origin) {
  if (c.r <= 0) fail("{}: r must be a positive integer, got {}", origin, c.r);
  if (!std::isfinite(c.lora_alpha)) fail("{}: lora_alpha must be a finite number", origin);
  if (!(c.lora_dropout >= 0.0 && c.lora_dropout < 1.0))
    fail("{}: lora_dropout must be in [0, 1), got {}", origin, c.lora_dropout);
  if (c.target_modules.empty() && !c.target_regex)
    fail("{}: target_modules is empty (a list of module names, a regex string, or \"all-linear\")", origin);
  if (c.target_regex && c.target_regex->empty()) fail("{}: target_modules is an empty string", origin);
}

LoraConfig lora_config_from_json(const Json& json, const std::string& origin) {
  if (!json.is_object()) fail("{}: an adapter config must be a JSON object", origin);
  const std::string peft_type = get<std::string>(json, "peft_type", origin, "LORA");
  if (peft_type != "LORA") fail("{}: peft_type is '{}', only LORA adapters (with use_dora) are supported", origin, peft_type);
  LoraConfig c;
  c.r = get<int64_t>(json, "r", origin, c.r);
  c.lora_alpha = get<double>(json, "lora_alpha", origin, c.lora_alpha);
  c.lora_dropout = get<double>(json, "lora_dropout", origin, c.lora_dropout);
  c.use_rslora = get<bool>(json, "use_rslora", origin, false);
  c.use_dora = get<bool>(json, "use_dora", origin, false);
  c.base_model_name_or_path = get<std::string>(json, "base_model_name_or_path", origin, "");
  c.modules_to_save = get<std::vector<std::string>>(json, "modules_to_save", origin, {});
  if (const auto it = json.find("target_modules"); it != json.end() && !it->is_null()) {
    if (it->is_string()) c.target_regex = it->get<std::string>();
    else c.target_modules = get<std::vector<std::string>>(json, "target_modules", origin, {});
  }
  const std::string bias = get<std::string>(json, "bias", origin, "none");
  if (bias == "none") c.bias = LoraBias::None;
  else if (bias == "lora_only") c.bias = LoraBias::LoraOnly;
  else if (bias == "all") c.bias = LoraBias::All;
  else fail("{}: bias is '{}', expected none, lora_only or all", origin, bias);
  if (const auto it = json.find("init_lora_weights"); it != json.end() && !it->is_null()) {
    if (it->is_boolean()) c.init_lora_weights = it->get<bool>() ? LoraInit::Default : LoraInit::Zero;
    else if (it->is_string() && it->get<std::string>() == "gaussian") c.init_lora_weights = LoraInit::Gaussian;
    else fail("{}: init_lora_weights is {}, expected true, false or \"gaussian\"", origin, it->dump());
  }
  validate(c, origin);
  return c;
}

Json lora_config_to_json(const LoraConfig& c) {
  Json j = Json::object();
  j["peft_type"] = "LORA";
  j["task_type"] = "CAUSAL_LM";
  j["base_model_name_or_path"] = c.base_model_name_or_path;
  j["r"] = c.r;
  j["lora_alpha"] = c.lora_alpha;
  j["lora_dropout"] = c.lora_dropout;
  if (c.target_regex) j["target_modules"] = *c.target_regex;
  else j["target_modules"] = c.target_modules;
  j["bias"] = std::string(lora_bias_name(c.bias));
  j["use_rslora"] = c.use_rslora;
  j["use_dora"] = c.use_dora;
  j["modules_to_save"] = c.modules_to_save.empty() ? Json(nullptr) : Json(c.modules_to_save);
  j["fan_in_fan_out"] = false;
  j["inference_mode"] = true;
  j["layers_to_transform"] = nullptr;
  switch (c.init_lora_weights) {
    case LoraInit::Default: j["init_lora_weights"] = true; break;
    case LoraInit::Zero: j["init_lora_weights"] = false; break;
    case LoraInit::Gaussian: j["init_lora_weights"] = "gaussian"; break;
  }
  return j;
}

std::vector<LoraTarget> resolve_targets(const LoraConfig& c, const ModelConfig& model) {
  validate(c, "LoRA config");
  std::vector<LoraTarget> linears;
  bool has_lm_head = false;
  for (const auto& spec : expected_tensors(model)) {
    if (spec.linear_name.empty()) continue;
    if (spec.layer < 0) {
      has_lm_head = true;
      continue;
    }
    linears.push_back({spec.layer, spec.linear_name, module_of(spec.hf_name), spec.shape[0], spec.shape[1]});
  }
  const auto existing = [&] { return fmt::format("{}", fmt::join(linear_module_names(model), ", ")); };
  const auto refuse_lm_head = [&](const std::string& what) {
    fail("target_modules: '{}' selects lm_head; adapters go on the blocks' linear layers ({})", what, existing());
  };

  std::vector<LoraTarget> chosen;
  if (c.target_regex && *c.target_regex == "all-linear") return linears;
  if (c.target_regex) {
    std::regex pattern;
    try {
      pattern = std::regex(*c.target_regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      fail("target_modules: '{}' is not a valid regular expression ({})", *c.target_regex, e.what());
    }
    if (has_lm_head && std::regex_match(std::string("lm_head"), pattern)) refuse_lm_head(*c.target_regex);
    for (const auto& t : linears)
      if (std::regex_match(t.module_name, pattern)) chosen.push_back(t);
    if (chosen.empty())
      fail("target_modules: the regex '{}' matches no linear module of this {} model (linear modules: {})",
           *c.target_regex, model.architecture, existing());
    return chosen;
  }
  std::set<size_t> picked;
  for (const auto& entry : c.target_modules) {
    if (entry == "lm_head" || entry == "all-linear") {
      if (entry == "lm_head") refuse_lm_head(entry);
      fail("target_modules: \"all-linear\" must be the whole value, not a list entry");
    }
    bool matched = false;
    for (size_t i = 0; i < linears.size(); ++i)
      if (ends_with_module(linears[i].module_name, entry)) {
        picked.insert(i);
        matched = true;
      }
    if (!matched)
      fail("target_modules: '{}' is not a linear module of this {} model (linear modules: {})", entry,
           model.architecture, existing());
  }
  for (size_t i : picked) chosen.push_back(linears[i]);
  return chosen;
}

std::vector<std::string> trained_bias_names(const LoraConfig& c, const ModelConfig& model) {
  std::vector<std::string> names;
  if (c.bias == LoraBias::None) return names;
  std::set<std::string> targeted;
  if (c.bias == LoraBias::LoraOnly)
    for (const auto& t : resolve_targets(c, model)) targeted.insert(t.module_name);
  for (const auto& spec : expected_tensors(model)) {
    if (!spec.hf_name.ends_with(".bias")) continue;
    if (c.bias == LoraBias::All || targeted.count(module_of(spec.hf_name))) names.push_back(spec.hf_name);
  }
  return names;
}

std::vector<std::string> trainable_base_parameters(const LoraConfig& c, const ModelConfig& model) {
  const std::vector<std::string> biases = trained_bias_names(c, model);
  const std::set<std::string> is_trained_bias(biases.begin(), biases.end());
  std::vector<std::string> names;
  for (const auto& spec : expected_tensors(model)) {
    bool train = is_trained_bias.count(spec.hf_name) > 0;
    for (const auto& entry : c.modules_to_save)
      if (ends_with_module(module_of(spec.hf_name), entry)) train = true;
    if (train) names.push_back(spec.hf_name);
  }
  for (const auto& entry : c.modules_to_save) {
    bool found = false;
    for (const auto& spec : expected_tensors(model)) found = found || ends_with_module(module_of(spec.hf_name), entry);
    if (!found) fail("modules_to_save: '{}' is not a module of this {} model", entry, model.architecture);
  }
  return names;
}

}  // namespace slmtune::peft
