// libFuzzer target: arbitrary bytes as a tokenizer.json. Loading must either succeed or throw
// slmtune::Error; a tokenizer that loads must encode and decode without crashing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "tokenizer/loaders.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto json = slmtune::tokenizer::parse_large_json(text, "fuzz.json");
    const auto tok = slmtune::tokenizer::tokenizer_from_json(json, "fuzz.json");
    for (const std::string_view sample : {std::string_view("Hello world! 123 \xC3\xA9\xE2\x96\x81 <s>\n\t"), text.substr(0, 256)}) {
      for (bool special : {false, true}) {
        const auto ids = tok.encode(sample, special, special);
        (void)tok.decode(ids, special);
      }
    }
  } catch (const slmtune::Error&) {
    // Expected for bad input.
  }
  return 0;
}
