// Dataset loading shared by both formats, and the article's function-calling CSV.
#include "data/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/csv_reader.hpp"

namespace slmtune::data {

Dataset parse_jsonl_dataset(std::string_view text, const std::string& origin, const LoadOptions& options);
void add_system_message(Example& example, const LoadOptions& options, const std::string& where,
                        std::vector<std::string>& errors);

namespace {

const char* const kDefinitions = "function_definitions";
const char* const kQuery = "user_query";
const char* const kCalls = "function_call";
const char* const kResponse = "response";

// Runs `step`; an Error it throws becomes one collected message prefixed with `where`.
template <class F>
bool collect(std::vector<std::string>& errors, const std::string& where, F&& step) {
  try {
    step();
    return true;
  } catch (const Error& e) {
    std::string message = e.what();
    // parse_json already names the place; avoid repeating the prefix.
    errors.push_back(message.rfind(where, 0) == 0 ? message : where + ": " + message);
    return false;
  }
}

Dataset parse_csv_dataset(std::string_view text, const std::string& origin, const LoadOptions& options) {
  Dataset dataset;
  dataset.format = DatasetFormat::csv;
  dataset.origin = origin;
  std::vector<CsvRecord> records = read_csv(text, origin);
  if (records.empty()) fail("{}: empty file: expected a header line with {}, {}, {}", origin, kDefinitions, kQuery, kCalls);
  const CsvRecord& header = records.front();
  dataset.csv_header = header.cells;
  auto column = [&](const std::string& name) -> int {
    auto it = std::find(header.cells.begin(), header.cells.end(), name);
    return it == header.cells.end() ? -1 : static_cast<int>(it - header.cells.begin());
  };
  for (size_t i = 0; i < header.cells.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (header.cells[i] == header.cells[j]) fail("{}:{}: column \"{}\" appears twice in the header", origin, header.line, header.cells[i]);
  int defs_col = column(kDefinitions), query_col = column(kQuery), calls_col = column(kCalls), response_col = column(kResponse);
  for (auto [name, col] : {std::pair{kDefinitions, defs_col}, {kQuery, query_col}, {kCalls, calls_col}})
    if (col < 0) fail("{}:{}: header has no \"{}\" column (expected {}, {}, {})", origin, header.line, name, kDefinitions, kQuery, kCalls);

  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    ++dataset.rows;
    std::string at = fmt::format("{}:{}", origin, record.line);
    if (record.cells.size() != header.cells.size()) {
      dataset.errors.push_back(fmt::format("{}: expected {} cells as in the header, got {} (a stray comma or quote?)", at,
                                           header.cells.size(), record.cells.size()));
      continue;
    }
    size_t errors_before = dataset.errors.size();
    Example example;
    example.source = origin;
    example.line = record.line;
    collect(dataset.errors, at + ": " + kDefinitions, [&] {
      example.tools = functions::parse_function_definitions(
          parse_json(record.cells[defs_col], at + ": " + kDefinitions), at + ": " + kDefinitions);
    });
    const std::string& query = record.cells[query_col];
    if (query.find_first_not_of(" \t\r\n") == std::string::npos)
      dataset.errors.push_back(fmt::format("{}: {}: expected the user's message, got an empty cell", at, kQuery));
    Message assistant{"assistant", response_col >= 0 ? record.cells[response_col] : "", {}, ""};
    bool calls_ok = collect(dataset.errors, at + ": " + kCalls, [&] {
      assistant.calls = functions::parse_calls_text(record.cells[calls_col], at + ": " + kCalls);
    });
    if (calls_ok && dataset.errors.size() == errors_before)
      for (auto& message : functions::check_calls(assistant.calls, example.tools))
        dataset.errors.push_back(fmt::format("{}: {}: {}", at, kCalls, message));
    if (calls_ok && assistant.calls.empty() && response_col >= 0 && record.cells[response_col].empty())
      dataset.errors.push_back(fmt::format("{}: {}: a row with no call needs the plain-text answer in \"{}\"", at, kCalls, kResponse));
    for (size_t c = 0; c < header.cells.size(); ++c) {
      int col = static_cast<int>(c);
      if (col != defs_col && col != query_col && col != calls_col && col != response_col)
        example.variables[header.cells[c]] = record.cells[c];
    }
    add_system_message(example, options, at, dataset.errors);
    example.messages.push_back(Message{"user", query, {}, ""});
    example.messages.push_back(std::move(assistant));
    if (dataset.errors.size() == errors_before) {
      dataset.examples.push_back(std::move(example));
      dataset.csv_rows.push_back(record.cells);
    }
  }
  return dataset;
}

}  // namespace

std::string fill_template(const std::string& text, const std::map<std::string, std::string>& variables, std::string* missing) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    std::string name = text.substr(open + 2, close - open - 2);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    auto it = variables.find(name);
    if (it == variables.end() || it->second.empty()) {
      if (missing) *missing = name;
      return "";
    }
    out.append(text, pos, open - pos);
    out += it->second;
    pos = close + 2;
  }
  out.append(text, pos);
  return out;
}

void add_system_message(Example& example, const LoadOptions& options, const std::string& where, std::vector<std::string>& errors) {
  if (options.system_template.empty()) return;
  bool has_system = !example.messages.empty() && example.messages.front().role == "system";
  if (has_system) return;  // the dataset's own system message wins
  std::string missing;
  std::string content = fill_template(options.system_template, example.variables, &missing);
  if (!missing.empty()) {
    errors.push_back(fmt::format("{}: {}: the system template needs variable \"{}\" but the row has no value for it", where,
                                 missing, missing));
    return;
  }
  example.messages.insert(example.messages.begin(), Message{"system", content, {}, ""});
}

DatasetFormat format_from_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".csv") return DatasetFormat::csv;
  if (ext == ".jsonl") return DatasetFormat::jsonl;
  fail("{}: unknown dataset format \"{}\" (expected .csv or .jsonl)", path.string(), ext);
}

Dataset parse_dataset(std::string_view text, DatasetFormat format, const std::string& origin, const LoadOptions& options) {
  return format == DatasetFormat::csv ? parse_csv_dataset(text, origin, options) : parse_jsonl_dataset(text, origin, options);
}

Dataset load_dataset(const std::filesystem::path& path, const LoadOptions& options) {
  DatasetFormat format = format_from_path(path);
  return parse_dataset(read_file(path), format, path.string(), options);
}

}  // namespace slmtune::data
