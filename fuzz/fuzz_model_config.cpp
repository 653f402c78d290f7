// Fuzzes config.json parsing: any bytes must give a ModelConfig or an slmtune::Error, never a crash,
// and a config that parses must give a consistent tensor table.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.hpp"
#include "formats/json.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const slmtune::Json json =
        slmtune::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "config.json");
    const slmtune::ModelConfig config = slmtune::parse_model_config(json, "config.json");
    int64_t total = 0;
    for (const auto& spec : slmtune::expected_tensors(config)) total += slmtune::shape_numel(spec.shape);
    if (total != slmtune::expected_parameter_count(config)) std::abort();
    // Writing the config back out and reading it again must give the same model.
    const slmtune::ModelConfig again = slmtune::parse_model_config(slmtune::model_config_to_json(config), "again");
    if (slmtune::expected_parameter_count(again) != total) std::abort();
  } catch (const slmtune::Error&) {
  }
  return 0;
}
