#pragma once
// Scoring one assistant turn: the calls a model produced against the expected ones, with the
// Berkeley Function-Calling Leaderboard's AST-matching rules as issue 7 states them: a predicted call
// is right when its function name is the expected one, every required argument is present, no
// argument is unknown to the function's schema, every value has the schema's type (integer is not
// number) and lies in its enum, and every value equals the expected one (strings exactly). An
// argument the expected call leaves out must be left out by the prediction too. Calls are compared
// position by position: for this task the order matters.
#include <string>
#include <vector>

#include "eval/call_parser.hpp"
#include "functions/function_schema.hpp"

namespace slmtune::eval {

// Whether `predicted` matches `expected` under the rules above; `functions` holds the definitions.
bool call_matches(const functions::FunctionCall& expected, const functions::FunctionCall& predicted,
                  const std::vector<functions::FunctionDefinition>& functions);

// The label of a confusion table for `argument` in a list of calls: the value of the first call
// that has the argument (a string as is, anything else as JSON), or kNoLabel.
inline const char* const kNoLabel = "(none)";
inline const char* const kInvalidLabel = "(invalid)";
std::string argument_label(const std::vector<functions::FunctionCall>& calls, const std::string& argument);

struct ArgumentResult {
  std::string name;  // the argument's name (the same name in two functions shares one tally)
  bool correct = false;
};

struct TurnScore {
  bool expects_call = false;   // the expected turn has at least one call
  bool attempted_call = false; // the output holds something call-shaped
  bool json_valid = true;
  bool exact_match = false;    // no call expected and none made, or the whole call list right
  bool names_match = false;    // the predicted function names are the expected ones, in order
  std::vector<ArgumentResult> arguments;  // one per argument of each expected call, in order
  bool has_confusion = false;  // the functions define the confusion argument
  std::string expected_label, predicted_label;
};

// `confusion_argument` (e.g. "emergency_type") is tallied when one of `functions` defines it.
TurnScore score_turn(const std::vector<functions::FunctionCall>& expected, const ParsedOutput& predicted,
                     const std::vector<functions::FunctionDefinition>& functions,
                     const std::string& confusion_argument);

}  // namespace slmtune::eval
