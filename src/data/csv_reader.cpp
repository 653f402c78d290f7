// RFC 4180 parsing as a small state machine over the bytes: cells are never found by splitting on
// commas, because commas, quotes and line breaks are data inside quoted cells.
#include "data/csv_reader.hpp"

#include "core/error.hpp"

namespace slmtune::data {

std::vector<CsvRecord> read_csv(std::string_view text, const std::string& origin) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  enum class State { record_start, cell_start, unquoted, quoted, quote_in_quoted };
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string cell;
  State state = State::record_start;
  size_t line = 1, quote_line = 0;

  auto end_cell = [&] {
    record.cells.push_back(std::move(cell));
    cell.clear();
  };
  auto end_record = [&] {
    end_cell();
    records.push_back(std::move(record));
    record = CsvRecord{};
    state = State::record_start;
  };
  // A line break outside quotes: "\r\n", "\n" or a lone "\r". Returns the bytes it spans.
  auto line_break_at = [&](size_t i) -> size_t {
    if (text[i] == '\n') return 1;
    if (text[i] == '\r') return i + 1 < text.size() && text[i + 1] == '\n' ? 2 : 1;
    return 0;
  };

  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (state) {
      case State::record_start:
        if (size_t n = line_break_at(i)) {  // a blank line: no record
          i += n - 1;
          ++line;
          continue;
        }
        record.line = line;
        state = State::cell_start;
        [[fallthrough]];
      case State::cell_start:
        if (c == '"') {
          state = State::quoted;
          quote_line = line;
          continue;
        }
        state = State::unquoted;
        [[fallthrough]];
      case State::unquoted:
        if (c == ',') {
          end_cell();
          state = State::cell_start;
        } else if (size_t n = line_break_at(i)) {
          i += n - 1;
          end_record();
          ++line;
        } else {
          cell.push_back(c);
        }
        continue;
      case State::quoted:
        if (c == '"') {
          state = State::quote_in_quoted;
        } else {
          if (c == '\n' || (c == '\r' && !(i + 1 < text.size() && text[i + 1] == '\n'))) ++line;
          cell.push_back(c);
        }
        continue;
      case State::quote_in_quoted:
        if (c == '"') {  // "" is an escaped quote
          cell.push_back('"');
          state = State::quoted;
        } else if (c == ',') {
          end_cell();
          state = State::cell_start;
        } else if (size_t n = line_break_at(i)) {
          i += n - 1;
          end_record();
          ++line;
        } else {  // text after the closing quote: kept, as Python does
          cell.push_back(c);
          state = State::unquoted;
        }
        continue;
    }
  }
  if (state == State::quoted)
    fail("{}:{}: unbalanced quotes: the quoted cell opened on line {} is never closed", origin, quote_line, quote_line);
  if (state != State::record_start) end_record();
  return records;
}

}  // namespace slmtune::data
