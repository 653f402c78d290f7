#pragma once
// The template file of `slmtune data synth` (format in data/synth.hpp): loaded once, then expanded row by
// row. The teacher prompt reads the same value (definitions, policy, variables, seed rows), so both
// sources of synthetic rows agree on what a row is.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "formats/json.hpp"

namespace slmtune::data {

struct SynthCase {
  std::vector<std::string> queries;  // paraphrases, with {slot} placeholders
  Json calls = Json::array();
  std::string response;  // the plain-text answer of a case with no calls
};

struct SynthTemplate {
  std::filesystem::path path;
  Json functions;  // the definitions, as in functions.json
  std::string policy;  // the labelling policy's text ("policy: POLICY.md"); empty when none is named
  std::vector<std::string> variables;  // slots that are also CSV columns
  std::map<std::string, std::vector<std::string>> slots;
  std::vector<SynthCase> cases;
};

// One synthetic row before it becomes CSV: what template expansion and the teacher both produce.
struct SynthRow {
  std::string query;
  Json calls = Json::array();
  std::map<std::string, std::string> variables;  // one value per template variable
  std::string response;
};

SynthTemplate load_synth_template(const std::filesystem::path& path);

// Case `index` with one value drawn per slot and one paraphrase drawn.
SynthRow expand_case(const SynthTemplate& t, size_t index, Rng& rng);

// The CSV header of synthetic rows: the article's three columns, the variables, then `response`.
std::vector<std::string> synth_csv_header(const SynthTemplate& t);
std::vector<std::string> synth_csv_cells(const SynthTemplate& t, const SynthRow& row);

}  // namespace slmtune::data
