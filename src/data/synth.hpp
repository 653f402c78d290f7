#pragma once
// Synthetic examples from a template file: slots with value lists and paraphrase alternatives expanded
// into N distinct rows of the article's CSV format, deduplicated (also against existing datasets, so no
// synthetic row leaks a validation or test query into training) and validated like any dataset.
// Optionally a teacher (a larger model behind an OpenAI-compatible chat endpoint) writes more rows; each
// goes through the same validation and deduplication, and the rejected ones are counted by reason.
//
// Template (YAML):
//   functions: functions.json          # definitions, relative to the template file
//   policy: POLICY.md                  # optional: the labelling policy, shown to the teacher
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
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "formats/json.hpp"

namespace slmtune::data {

// Sends chat messages (OpenAI format) to the teacher and returns the text of its answer. The transport
// is passed in (cli/ wires client/chat_client), so data/ knows no HTTP.
using AskTeacher = std::function<std::string(const Json& messages)>;

struct TeacherOptions {
  AskTeacher ask;          // empty: no teacher
  std::string name;        // names the teacher in messages (its URL)
  size_t count = 0;        // examples to request in all
  size_t per_request = 10;  // examples asked for in one request
  size_t seeds = 4;        // template rows shown as examples in each request
};

struct SynthOptions {
  size_t count = 100;
  uint64_t seed = 0;
  std::vector<std::filesystem::path> exclude;  // datasets whose user queries must not be produced
  TeacherOptions teacher;
};

struct TeacherReport {
  size_t requested = 0;  // examples asked for
  size_t requests = 0;
  size_t received = 0;   // candidates found in the answers
  size_t accepted = 0;
  std::map<std::string, size_t> malformed;  // by reason: could not be read as an example
  std::map<std::string, size_t> invalid;    // by reason: read, but failed the dataset validation
  size_t duplicates = 0;  // valid, but a query already produced, or one of an excluded dataset
  size_t rejected() const;
};

struct SynthResult {
  std::string csv;       // header + rows
  size_t rows = 0;       // all rows: template rows, then the teacher's
  size_t duplicates = 0;  // template candidates dropped as already seen or excluded
  TeacherReport teacher;
};

// Normalised for deduplication: lower-case ASCII, runs of whitespace and punctuation collapsed.
std::string dedup_key(const std::string& query);

// The short category of a dataset validation message ("enum", "unknown function", …).
std::string rejection_reason(const std::string& validation_error);

// "12 of 40 teacher examples rejected: 7 invalid (enum), 5 duplicates" (or "all 40 … accepted").
std::string teacher_summary(const TeacherReport& report);

SynthResult synthesize(const std::filesystem::path& template_path, const SynthOptions& options);

}  // namespace slmtune::data
