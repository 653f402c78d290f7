#pragma once
// An RFC 4180 CSV reader: quoted cells with "" escapes, line breaks inside quoted cells, CRLF or LF
// record ends, a leading UTF-8 BOM skipped. Each record keeps the line it starts on, for errors.
// Leniencies follow Python's csv module (default dialect): a quote inside an unquoted cell is kept as a
// literal character, and text after a closing quote is appended to the cell. A quoted cell still open
// at the end of the input is an error naming the line where it opened.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace slmtune::data {

struct CsvRecord {
  size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> cells;
};

// `origin` names the input in errors ("train.csv"). Blank lines between records are skipped, as
// Python's csv.reader skips them.
std::vector<CsvRecord> read_csv(std::string_view text, const std::string& origin);

}  // namespace slmtune::data
