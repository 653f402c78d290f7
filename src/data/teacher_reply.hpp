#pragma once
// Reading the examples back out of a teacher model's answer. Models wrap JSON in code fences, number
// it, put prose around it, return one JSON array, or an object holding the array; the examples are
// found as the JSON objects in the text that carry a "user_query", whatever surrounds them. A candidate
// that cannot be read is kept with the reason, so that it is counted and reported, not silently lost.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/synth_template.hpp"

namespace slmtune::data {

struct TeacherCandidate {
  size_t index = 0;  // 1-based, in the order the examples appear in the answer
  std::optional<SynthRow> row;  // the example, when it could be read
  std::string reason;  // when it could not: a short category ("not JSON", "missing gps", …)
  std::string error;   // and the full explanation
};

// `variables` are the template's extra columns; each example must give each one as a non-empty string.
std::vector<TeacherCandidate> parse_teacher_reply(std::string_view text, const std::vector<std::string>& variables);

}  // namespace slmtune::data
