#pragma once
// What `slmtune data synth --teacher-url` asks a larger model for: the function definitions, the
// labelling policy, the template's extra columns and a few template rows as seed examples, and the
// answer format (one JSON object per line) that parse_teacher_reply reads back.
#include <string>
#include <vector>

#include "data/synth_template.hpp"
#include "formats/json.hpp"

namespace slmtune::data {

// One row as the teacher is shown it and asked to write it:
// {"user_query": …, "function_call": [...], <variables>…, "response": …} ("response" only when no call).
Json teacher_example_json(const SynthTemplate& t, const SynthRow& row);

// The chat messages (OpenAI format: [{"role": "system", …}, {"role": "user", …}]) asking for `count` new
// rows unlike `seeds`.
Json teacher_messages(const SynthTemplate& t, const std::vector<SynthRow>& seeds, size_t count);

}  // namespace slmtune::data
