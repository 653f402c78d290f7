// libFuzzer target for the CSV reader and the function-calling CSV loader. Bad input must end in
// slmtune::Error; anything else (a crash, a sanitizer report) is a bug. Whatever the reader accepts must
// survive a write and a second read unchanged, so the writer and reader agree on RFC 4180.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.hpp"
#include "data/csv_reader.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"

using namespace slmtune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto records = data::read_csv(text, "fuzz.csv");
    std::string written;
    for (const auto& record : records) written += data::csv_record(record.cells);
    auto again = data::read_csv(written, "rewritten.csv");
    if (again.size() != records.size()) std::abort();
    for (size_t i = 0; i < records.size(); ++i)
      if (again[i].cells != records[i].cells) std::abort();
  } catch (const Error&) {
  }
  try {
    data::LoadOptions options;
    options.system_template = "GPS {{ gps }}";
    data::parse_dataset(text, data::DatasetFormat::csv, "fuzz.csv", options);
  } catch (const Error&) {
  }
  try {
    data::parse_dataset(text, data::DatasetFormat::jsonl, "fuzz.jsonl");
  } catch (const Error&) {
  }
  return 0;
}
