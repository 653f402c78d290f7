// The Python scripts that shape the bundled model's pretraining corpus (models/maritime-lm/corpus/),
// run as scripts/make-bundled-model.sh runs them: random_positions.py must give every conversation a
// position of its own while the `location` arguments keep copying the `gps` cell (or the corpus would
// teach wrong calls), and generate_text.py must be seeded and have the station that answers a call
// repeat the caller's position exactly (what teaches the model to copy one); noisy_queries.py must
// rewrite only user messages, only as a hurried typist would, and never into a held-out message.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "data/csv_reader.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "data/synth.hpp"
#include "support/test_support.hpp"
#include "train/pretrain_data.hpp"
#include "train/train_config.hpp"

namespace slmtune::data {
namespace {

using slmtune::testing::run_command;
using slmtune::testing::shell_quote;
using slmtune::testing::source_dir;
using slmtune::testing::TempDir;
using slmtune::testing::write_text;

std::string script(const std::string& name) {
  return "python3 " + shell_quote(source_dir() / "models/maritime-lm/corpus" / name);
}

std::string alert(const std::string& location, const std::string& detail) {
  return R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": ")" + detail +
         R"("}}, {"name": "broadcast_emergency_message", "arguments": {"location": ")" + location +
         R"(", "emergency_detail": ")" + detail + R"(", "emergency_type": "Mayday"}}])";
}

struct Row {
  std::string query, gps, calls;
};

std::string csv_of(const std::vector<Row>& rows) {
  const std::string functions = read_file(source_dir() / "examples/maritime/functions.json");
  std::string csv = csv_record({"function_definitions", "user_query", "function_call", "gps"});
  for (const auto& row : rows) csv += csv_record({functions, row.query, row.calls, row.gps});
  return csv;
}

std::set<std::string> positions_of(const std::filesystem::path& path) {
  std::set<std::string> out;
  const auto records = read_csv(read_file(path), path.string());
  for (size_t i = 1; i < records.size(); ++i) out.insert(records[i].cells.back());
  return out;
}

TEST(MaritimeCorpusScripts, RandomPositionsRewritesTheGpsAndEveryLocationThatCopiedIt) {
  TempDir dir;
  const std::vector<Row> rows = {
      {"we are taking on water", "42.3541N, 71.0654W", alert("42.3541N, 71.0654W", "Flooding")},
      {"thanks, all fine now", "50.3660N, 4.1420W", "[]"},
      {"fire in the galley", "N 54 19.2 W 4 24.7", alert("N 54 19.2 W 4 24.7", "Fire")},
  };
  for (const char* name : {"a.csv", "b.csv", "c.csv"}) write_text(dir / name, csv_of(rows));
  const auto held_out = source_dir() / "examples/maritime/data/test.csv";
  const std::string run = script("random_positions.py") + " --exclude " + shell_quote(held_out);
  for (const auto& [seed, file] : std::vector<std::pair<std::string, std::string>>{{"7", "a.csv"}, {"7", "b.csv"}, {"8", "c.csv"}}) {
    const auto r = run_command(run + " --seed " + seed + " " + shell_quote(dir / file));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("3 positions drawn"), std::string::npos) << r.out;
  }
  // Seeded: the same seed draws the same positions, another seed others.
  EXPECT_EQ(read_file(dir / "a.csv"), read_file(dir / "b.csv"));
  EXPECT_NE(read_file(dir / "a.csv"), read_file(dir / "c.csv"));

  LoadOptions options;
  options.system_template = read_file(source_dir() / "examples/maritime/system_prompt.txt");
  const Dataset dataset = load_dataset(dir / "a.csv", options);
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  ASSERT_EQ(dataset.examples.size(), rows.size());
  const std::set<std::string> excluded = positions_of(held_out);
  std::set<std::string> drawn;
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(rows[i].query);
    const Example& example = dataset.examples[i];
    const std::string gps = example.variables.at("gps");
    EXPECT_NE(gps, rows[i].gps);
    EXPECT_EQ(excluded.count(gps), 0u);
    drawn.insert(gps);
    EXPECT_NE(example.messages.front().content.find(gps), std::string::npos);  // the system message holds it
    const auto turns = example.expected_calls();
    ASSERT_EQ(turns.size(), 1u);
    if (rows[i].calls == "[]") {
      EXPECT_TRUE(turns[0].empty());
      continue;
    }
    ASSERT_EQ(turns[0].size(), 2u);
    EXPECT_EQ(turns[0][0].arguments, Json::parse(R"({"emergency_detail": ")" + std::string(i == 0 ? "Flooding" : "Fire") + "\"}"));
    EXPECT_EQ(turns[0][1].arguments.at("location"), gps);
  }
  EXPECT_EQ(drawn.size(), rows.size());  // a position of its own for every conversation
}

TEST(MaritimeCorpusScripts, RandomPositionsRefusesALocationThatDoesNotCopyTheGpsAndLeavesTheFile) {
  TempDir dir;
  const std::string csv = csv_of({{"we are taking on water", "42.3541N, 71.0654W", alert("42.3541N, 71.0654E", "Flooding")}});
  write_text(dir / "bad.csv", csv);
  const auto r = run_command(script("random_positions.py") + " --seed 1 " + shell_quote(dir / "bad.csv"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad.csv:2: location '42.3541N, 71.0654E' is not the row's gps '42.3541N, 71.0654W'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read_file(dir / "bad.csv"), csv);
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.csv.tmp"));
}

// The words of a message as `slmtune data synth` compares them (lower case, punctuation dropped).
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream key(dedup_key(text));
  for (std::string word; key >> word;) words.push_back(word);
  return words;
}

// One slip of the finger: a letter dropped, doubled or replaced (Levenshtein distance 1), or two
// neighbouring letters swapped.
bool one_slip(const std::string& a, const std::string& b) {
  if (train::edit_distance(a, b) == 1) return true;
  if (a.size() != b.size()) return false;
  const auto [first, rest] = std::mismatch(a.begin(), a.end(), b.begin());
  const size_t i = static_cast<size_t>(first - a.begin());
  return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] && a.substr(i + 2) == b.substr(i + 2);
}

enum class Rewrite { None, SameWords, Typos, RepeatedWord, Other };

// How `noisy` relates to `clean`: the same words (capitals, punctuation), one or two words each one
// slip away, or one word said twice.
Rewrite rewrite_of(const std::string& clean, const std::string& noisy) {
  if (noisy == clean) return Rewrite::None;
  const auto a = words_of(clean), b = words_of(noisy);
  if (a == b) return Rewrite::SameWords;
  if (a.size() == b.size()) {
    size_t changed = 0;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i]) changed += one_slip(a[i], b[i]) ? 1 : 100;
    return changed <= 2 ? Rewrite::Typos : Rewrite::Other;
  }
  for (size_t i = 0; i + 1 < b.size(); ++i)
    if (b[i] == b[i + 1]) {
      auto without = b;
      without.erase(without.begin() + static_cast<std::ptrdiff_t>(i));
      if (without == a) return Rewrite::RepeatedWord;
    }
  return Rewrite::Other;
}

TEST(MaritimeCorpusScripts, NoisyQueriesRewritesSomeMessagesAsTypedInAHurryAndNothingElse) {
  TempDir dir;
  const std::vector<std::string> queries = {"there is a fire in the galley, please help", "We are taking on water!",
                                            "thanks, everyone is fine", "the engine stopped and won't restart"};
  std::vector<Row> rows;
  for (int i = 0; i < 300; ++i) {
    const std::string& query = queries[static_cast<size_t>(i) % queries.size()];
    rows.push_back({query, "42.3541N, 71.0654W", i % 4 == 2 ? "[]" : alert("42.3541N, 71.0654W", "Fire")});
  }
  const std::string original = csv_of(rows);
  // The held-out message: its own spelling in capitals or without punctuation must never be written.
  write_text(dir / "held_out.csv", csv_of({{"THERE IS A FIRE IN THE GALLEY PLEASE HELP", "1.0000N, 1.0000E", "[]"}}));
  const std::string run = script("noisy_queries.py") + " --exclude " + shell_quote(dir / "held_out.csv");
  for (const auto& [seed, file] : std::vector<std::pair<std::string, std::string>>{{"5", "a.csv"}, {"5", "b.csv"}, {"6", "c.csv"}}) {
    write_text(dir / file, original);
    const auto r = run_command(run + " --seed " + seed + " " + shell_quote(dir / file));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("of 300 messages rewritten"), std::string::npos) << r.out;
  }
  EXPECT_EQ(read_file(dir / "a.csv"), read_file(dir / "b.csv"));
  EXPECT_NE(read_file(dir / "a.csv"), read_file(dir / "c.csv"));

  const auto before = read_csv(original, "original");
  const auto after = read_csv(read_file(dir / "a.csv"), "a.csv");
  ASSERT_EQ(after.size(), before.size());
  std::map<Rewrite, int> kinds;
  int capitals = 0;
  for (size_t i = 1; i < after.size(); ++i) {
    const auto& was = before[i].cells;
    const auto& now = after[i].cells;
    ASSERT_EQ(now.size(), was.size());
    SCOPED_TRACE(now[1]);
    for (size_t c = 0; c < was.size(); ++c) {
      if (c == 1) continue;
      EXPECT_EQ(now[c], was[c]);  // definitions, calls and position untouched
    }
    const Rewrite kind = rewrite_of(was[1], now[1]);
    EXPECT_NE(kind, Rewrite::Other);
    ++kinds[kind];
    if (kind == Rewrite::SameWords && was[1] == queries[0]) ADD_FAILURE() << "a held-out message was written";
    if (kind != Rewrite::None && now[1].find_first_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos) ++capitals;
  }
  const int rewritten = 300 - kinds[Rewrite::None];
  EXPECT_GE(rewritten, 90);   // about 40% of the messages
  EXPECT_LE(rewritten, 165);
  EXPECT_GT(kinds[Rewrite::SameWords], 20);
  EXPECT_GT(kinds[Rewrite::Typos], 20);
  EXPECT_GT(kinds[Rewrite::RepeatedWord], 0);
  EXPECT_GT(capitals, 20);
}

TEST(MaritimeCorpusScripts, NoisyQueriesRefusesAFileWithoutUserMessagesAndLeavesIt) {
  TempDir dir;
  const std::string csv = csv_record({"function_definitions", "query", "function_call"}) +
                          csv_record({"[]", "we are taking on water", "[]"});
  write_text(dir / "bad.csv", csv);
  const auto r = run_command(script("noisy_queries.py") + " --seed 1 " + shell_quote(dir / "bad.csv"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad.csv: expected a user_query column"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // one line
  EXPECT_EQ(read_file(dir / "bad.csv"), csv);
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.csv.tmp"));
}

// The text between the first `before` and the next `after`; empty when either is absent.
std::string between(const std::string& text, const std::string& before, const std::string& after) {
  const size_t start = text.find(before);
  if (start == std::string::npos) return "";
  const size_t end = text.find(after, start + before.size());
  return end == std::string::npos ? "" : text.substr(start + before.size(), end - start - before.size());
}

TEST(MaritimeCorpusScripts, GenerateTextIsSeededAndTheStationReadsBackTheCallersPosition) {
  TempDir dir;
  for (const auto& [seed, file] : std::vector<std::pair<std::string, std::string>>{{"3", "a.txt"}, {"3", "b.txt"}, {"4", "c.txt"}}) {
    const auto r = run_command(script("generate_text.py") + " --seed " + seed + " --documents 120 --out " + shell_quote(dir / file));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string text = read_file(dir / "a.txt");
  EXPECT_EQ(text, read_file(dir / "b.txt"));
  EXPECT_NE(text, read_file(dir / "c.txt"));
  // Documents as `slmtune pretrain` reads them.
  const auto documents = train::split_documents(text, "<|endoftext|>");
  EXPECT_EQ(documents.size(), 120u);

  // A distress or urgency call gives its position once; when a station answers, it repeats it exactly
  // (those repeats, with a new position in every call, are what teach the model to copy one).
  size_t calls = 0, readbacks = 0;
  std::set<std::string> positions;
  for (const auto& document : documents) {
    // Each call runs from its "MY POSITION IS" to the next call's (the answer is a paragraph of its own).
    const std::string marker = "MY POSITION IS ";
    for (size_t at = document.find(marker); at != std::string::npos;) {
      const size_t next = document.find(marker, at + marker.size());
      const std::string call = document.substr(at, next == std::string::npos ? std::string::npos : next - at);
      at = next;
      const std::string position = between(call, marker, "\n");
      ASSERT_FALSE(position.empty()) << call;
      ++calls;
      positions.insert(position);
      SCOPED_TRACE(call);
      for (const auto& [before, after] : std::vector<std::pair<std::string, std::string>>{
               {"YOUR POSITION ", ". Rescue is on its way"}, {"in position ", ". Stand by"}}) {
        const std::string repeated = between(call, before, after);
        if (repeated.empty()) continue;
        ++readbacks;
        EXPECT_EQ(repeated, position);
      }
    }
  }
  EXPECT_GT(calls, 20u);
  EXPECT_GT(readbacks, calls / 3);
  EXPECT_GT(positions.size(), calls * 3 / 4);  // mostly a position never given before
}

}  // namespace
}  // namespace slmtune::data
