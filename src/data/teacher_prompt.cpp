// The teacher's prompt. Written for instruction-tuned chat models of any family: plain instructions, the
// schema verbatim, seed examples in exactly the format wanted back.
#include "data/teacher_prompt.hpp"

#include <fmt/format.h>

namespace slmtune::data {

Json teacher_example_json(const SynthTemplate& t, const SynthRow& row) {
  Json example = Json::object();
  example["user_query"] = row.query;
  example["function_call"] = row.calls;
  for (const auto& variable : t.variables) {
    auto it = row.variables.find(variable);
    example[variable] = it == row.variables.end() ? "" : it->second;
  }
  if (row.calls.empty()) example["response"] = row.response;
  return example;
}

Json teacher_messages(const SynthTemplate& t, const std::vector<SynthRow>& seeds, size_t count) {
  std::string system =
      "You write training data for a small assistant that answers each user message by calling functions. "
      "You reply with JSON Lines only: one JSON object per line, no numbering, no commentary.";

  std::string user = fmt::format("The assistant can call these functions (JSON Schema):\n{}\n", t.functions.dump(2));
  if (!t.policy.empty())
    user += fmt::format("\nEvery example must follow this labelling policy exactly:\n<policy>\n{}\n</policy>\n", t.policy);
  user +=
      "\nEach example is one JSON object with these keys:\n"
      "- \"user_query\": the user's message, written as a real user in that situation would write it\n"
      "- \"function_call\": the list of calls the assistant makes, in order, each {\"name\": ..., \"arguments\": {...}}"
      " with arguments that satisfy the function's schema exactly (enum values spelled as given); [] when the"
      " message needs no call\n";
  for (const auto& variable : t.variables) {
    const auto& values = t.slots.at(variable);
    std::string listed;
    for (size_t i = 0; i < values.size() && i < 8; ++i) listed += (i ? ", " : "") + Json(values[i]).dump();
    user += fmt::format(
        "- \"{}\": the value of {} for this example (the assistant sees it in its system message; use it where an "
        "argument needs it, character for character), e.g. one of {}\n",
        variable, variable, listed);
  }
  user += "- \"response\": the assistant's short plain-text answer, only when \"function_call\" is []\n";
  if (!seeds.empty()) {
    user += "\nExamples:\n";
    for (const auto& seed : seeds) user += teacher_example_json(t, seed).dump() + "\n";
  }
  user += fmt::format(
      "\nWrite {} new example{}, different from these and from each other: vary the situation, the wording, the "
      "tone (calm, panicked, terse), spelling and length, and cover every function and every case the "
      "definitions{} allow. Output only the JSON lines.",
      count, count == 1 ? "" : "s", t.policy.empty() ? "" : " and the policy");

  Json messages = Json::array();
  messages.push_back({{"role", "system"}, {"content", system}});
  messages.push_back({{"role", "user"}, {"content", user}});
  return messages;
}

}  // namespace slmtune::data
