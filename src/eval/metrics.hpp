#pragma once
// The function-calling metrics of issue 7, summed over scored turns (one per example):
//   exact_match       all turns: no call expected and none made, or the whole call list right
//   name_accuracy     turns that expect calls: the predicted function names are the expected ones, in order
//   argument_accuracy arguments of the expected calls: present with the expected value in the call at
//                     the same position with the same name (also per argument name)
//   json_valid        all turns: the output holds no malformed call (a plain answer is valid)
//   no_call_accuracy  turns that expect no call: the output makes no call (not even a malformed one)
// plus a confusion table of one argument (emergency_type) and the cost per query. A fraction whose
// denominator is 0 (e.g. no_call_accuracy when every turn expects calls) is undefined: NaN here,
// null in JSON, "-" in the table.
#include <cstdint>
#include <map>
#include <string>

#include "eval/call_matching.hpp"
#include "formats/json.hpp"

namespace slmtune::eval {

struct Tally {
  int64_t correct = 0;
  int64_t total = 0;
  double fraction() const;  // NaN when total is 0
  void add(bool ok) { correct += ok ? 1 : 0; ++total; }
};

struct QueryCost {
  double seconds = 0;         // rendering excluded: tokenizing, prefill and decoding
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
};

struct EvalMetrics {
  int64_t n = 0;
  Tally exact_match, name_accuracy, argument_accuracy, json_valid, no_call_accuracy;
  std::map<std::string, Tally> argument_accuracy_by_name;
  std::string confusion_argument;  // empty when no turn's functions define it
  std::map<std::string, std::map<std::string, int64_t>> confusion;  // [expected][predicted] → count
  double seconds = 0;
  int64_t prompt_tokens = 0, generated_tokens = 0;

  void add(const TurnScore& score, const QueryCost& cost, const std::string& confusion_argument_name);
  double latency_ms_per_query() const;
  double prompt_tokens_per_query() const;
  double generated_tokens_per_query() const;
};

// {"exact_match", "name_accuracy", "argument_accuracy", "json_valid", "no_call_accuracy", "n", then
//  "argument_accuracy_by_name", "counts", "confusion", "latency_ms_per_query", "prompt_tokens_per_query",
//  "generated_tokens_per_query"}.
Json metrics_to_json(const EvalMetrics& metrics);
// The defined headline metrics and n, as the trainer's TaskEvaluator reports them.
std::map<std::string, double> metrics_to_map(const EvalMetrics& metrics);
// A human-readable table: the metrics with their counts, per-argument accuracies, cost, confusion table.
std::string metrics_table(const EvalMetrics& metrics);

}  // namespace slmtune::eval
