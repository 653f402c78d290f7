// `slmtune data synth`: template rows, then the teacher's, each validated and deduplicated the same way.
#include "data/synth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "data/synth_template.hpp"
#include "data/teacher_prompt.hpp"
#include "data/teacher_reply.hpp"

namespace slmtune::data {
namespace {

// Seed rows get their own stream, so asking a teacher leaves the template rows of a seed unchanged.
constexpr uint64_t kSeedRowStream = 0x7eac4e75eedULL;

std::set<std::string> excluded_keys(const std::vector<std::filesystem::path>& paths) {
  std::set<std::string> keys;
  for (const auto& path : paths) {
    Dataset dataset = load_dataset(path);
    for (const auto& error : dataset.errors) log::warn("{}", error);
    for (const auto& example : dataset.examples)
      for (const auto& message : example.messages)
        if (message.role == "user") keys.insert(dedup_key(message.content));
  }
  return keys;
}

// "3 invalid (enum)" or "3 invalid (2 enum, 1 missing argument)".
std::string counted(size_t total, const std::string& what, const std::map<std::string, size_t>& by_reason) {
  std::string reasons;
  if (by_reason.size() == 1) {
    reasons = by_reason.begin()->first;
  } else {
    for (const auto& [reason, n] : by_reason) reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", n, reason);
  }
  return fmt::format("{} {} ({})", total, what, reasons);
}

// Template rows of cases spread over the template, a different stretch for each request, so the teacher
// sees the format on varied situations.
std::vector<SynthRow> seed_rows(const SynthTemplate& t, size_t request, size_t count, Rng& rng) {
  std::vector<SynthRow> seeds;
  for (size_t k = 0; k < count && k < t.cases.size(); ++k) seeds.push_back(expand_case(t, (request * count + k) % t.cases.size(), rng));
  return seeds;
}

class TeacherRows {
 public:
  TeacherRows(const SynthTemplate& t, const TeacherOptions& options, std::set<std::string>& seen, SynthResult& result)
      : t_(t), options_(options), seen_(seen), result_(result), header_(csv_record(synth_csv_header(t))) {}

  void run(uint64_t seed) {
    Rng rng(seed ^ kSeedRowStream);
    TeacherReport& report = result_.teacher;
    size_t per_request = std::max<size_t>(1, options_.per_request);
    for (size_t asked = 0; asked < options_.count; ++report.requests) {
      size_t n = std::min(per_request, options_.count - asked);
      asked += n;
      report.requested += n;
      Json messages = teacher_messages(t_, seed_rows(t_, report.requests, options_.seeds, rng), n);
      std::string answer = options_.ask(messages);
      std::vector<TeacherCandidate> candidates = parse_teacher_reply(answer, t_.variables);
      if (candidates.empty())
        log::warn("{}: answer {} holds no example (no JSON object with a \"user_query\")", options_.name, report.requests + 1);
      for (const auto& candidate : candidates)
        take(candidate, fmt::format("{}: answer {}, example {}", options_.name, report.requests + 1, candidate.index));
    }
  }

 private:
  void take(const TeacherCandidate& candidate, const std::string& where) {
    TeacherReport& report = result_.teacher;
    ++report.received;
    if (!candidate.row) {
      ++report.malformed[candidate.reason];
      log::info("rejected {}: {}", where, candidate.error);
      return;
    }
    std::string row = csv_record(synth_csv_cells(t_, *candidate.row));
    // The same check as every dataset row, on a one-row CSV; its messages name that CSV's line 2.
    const std::string origin = "teacher";
    Dataset check = parse_dataset(header_ + row, DatasetFormat::csv, origin);
    if (!check.errors.empty()) {
      std::string message = check.errors.front();
      std::string prefix = origin + ":2: ";
      if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
      ++report.invalid[rejection_reason(message)];
      log::info("rejected {}: {}", where, message);
      return;
    }
    if (!seen_.insert(dedup_key(candidate.row->query)).second) {
      ++report.duplicates;
      log::debug("rejected {}: duplicate query \"{}\"", where, candidate.row->query);
      return;
    }
    ++report.accepted;
    ++result_.rows;
    result_.csv += row;
  }

  const SynthTemplate& t_;
  const TeacherOptions& options_;
  std::set<std::string>& seen_;
  SynthResult& result_;
  std::string header_;
};

}  // namespace

size_t TeacherReport::rejected() const {
  size_t n = duplicates;
  for (const auto& [reason, count] : malformed) n += count;
  for (const auto& [reason, count] : invalid) n += count;
  return n;
}

std::string dedup_key(const std::string& query) {
  std::string key;
  bool gap = false;
  for (unsigned char c : query) {
    bool word = std::isalnum(c) || c >= 0x80;
    if (!word) {
      gap = !key.empty();
      continue;
    }
    if (gap) key.push_back(' ');
    gap = false;
    key.push_back(static_cast<char>(std::tolower(c)));
  }
  return key;
}

std::string rejection_reason(const std::string& validation_error) {
  // The wording of functions/ (check_calls, validate_value, parse_calls) and of the CSV loader.
  static const std::pair<const char*, const char*> kReasons[] = {
      {"is not one of", "enum"},
      {"is not defined", "unknown function"},
      {"missing required argument", "missing argument"},
      {"unknown argument", "unknown argument"},
      {"needs the plain-text answer", "no response"},
      {"expected the user's message", "empty query"},
      {"expected a call object", "call format"},
      {"call needs a non-empty string \"name\"", "call format"},
      {"has unexpected key", "call format"},
      {"must be an object", "call format"},
      {"expected a list of calls", "call format"},
  };
  for (const auto& [fragment, reason] : kReasons)
    if (validation_error.find(fragment) != std::string::npos) return reason;
  return "schema";
}

std::string teacher_summary(const TeacherReport& report) {
  std::string asked = report.received == report.requested ? "" : fmt::format(" (asked for {})", report.requested);
  size_t rejected = report.rejected();
  if (report.received == 0) return fmt::format("no teacher example received{}", asked);
  if (rejected == 0 && report.received == 1) return fmt::format("the 1 teacher example accepted{}", asked);
  if (rejected == 0) return fmt::format("all {} teacher examples accepted{}", report.received, asked);
  std::vector<std::string> parts;
  size_t invalid = 0, malformed = 0;
  for (const auto& [reason, n] : report.invalid) invalid += n;
  for (const auto& [reason, n] : report.malformed) malformed += n;
  if (invalid) parts.push_back(counted(invalid, "invalid", report.invalid));
  if (malformed) parts.push_back(counted(malformed, "malformed", report.malformed));
  if (report.duplicates) parts.push_back(fmt::format("{} duplicate{}", report.duplicates, report.duplicates == 1 ? "" : "s"));
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : ", ") + part;
  return fmt::format("{} of {} teacher examples rejected{}: {}", rejected, report.received, asked, joined);
}

SynthResult synthesize(const std::filesystem::path& template_path, const SynthOptions& options) {
  SynthTemplate t = load_synth_template(template_path);
  std::set<std::string> seen = excluded_keys(options.exclude);
  SynthResult result;
  result.csv = csv_record(synth_csv_header(t));
  Rng rng(options.seed);
  // Give up after many fruitless draws: the template has fewer distinct rows than asked for.
  size_t attempts = 0, max_attempts = 50 * options.count + 1000;
  while (result.rows < options.count && attempts++ < max_attempts) {
    size_t index = rng.below(t.cases.size());
    SynthRow row = expand_case(t, index, rng);
    if (!seen.insert(dedup_key(row.query)).second) {
      ++result.duplicates;
      continue;
    }
    result.csv += csv_record(synth_csv_cells(t, row));
    ++result.rows;
  }
  if (result.rows < options.count)
    log::warn("{}: only {} distinct rows could be generated ({} asked)", template_path.string(), result.rows, options.count);
  if (options.teacher.ask && options.teacher.count > 0) TeacherRows(t, options.teacher, seen, result).run(options.seed);
  // The generated rows go through the same validation as hand-written ones.
  Dataset check = parse_dataset(result.csv, DatasetFormat::csv, template_path.string() + " (generated)");
  if (!check.errors.empty()) fail("{}", check.errors.front());
  return result;
}

}  // namespace slmtune::data
