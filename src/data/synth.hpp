#pragma once
// Synthetic examples from a template file: slots with value lists and paraphrase alternatives expanded
// into N distinct rows of the article's CSV format, deduplicated (also against existing datasets, so no
// synthetic row leaks a validation or test query into training) and validated like any dataset.
//
// Template (YAML):
//   functions: functions.json          # definitions, relative to the template file
//   variables: [gps]                   # slots that also become CSV columns (template variables)
//   slots: {gps: ["42.3541N, 71.0654W", ...], who: ["my husband", "the skipper"]}
//   cases:
//     - queries: ["{who} fell overboard", "{who} went over the side"]   # paraphrases
//       calls: [{name: categorize_emergency, arguments: {emergency_detail: Man Overboard}}, ...]
//     - queries: ["thanks"]
//       response: "You're welcome."    # a turn with no call
// "{slot}" is replaced in queries, responses and every string inside call arguments; each slot takes
// one value per generated row.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace slmtune::data {

struct SynthOptions {
  size_t count = 100;
  uint64_t seed = 0;
  std::vector<std::filesystem::path> exclude;  // datasets whose user queries must not be produced
};

struct SynthResult {
  std::string csv;       // header + rows
  size_t rows = 0;
  size_t duplicates = 0;  // candidates dropped as already seen or excluded
};

// Normalised for deduplication: lower-case ASCII, runs of whitespace and punctuation collapsed.
std::string dedup_key(const std::string& query);

SynthResult synthesize(const std::filesystem::path& template_path, const SynthOptions& options);

}  // namespace slmtune::data
