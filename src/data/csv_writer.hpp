#pragma once
// Writing CSV as RFC 4180 and Python's csv module (QUOTE_MINIMAL) do: a cell is quoted when it holds a
// comma, a quote or a line break, and quotes inside are doubled. Records end with CRLF as the RFC says.
#include <string>
#include <vector>

namespace slmtune::data {

std::string csv_cell(const std::string& cell);
std::string csv_record(const std::vector<std::string>& cells);  // with its trailing "\r\n"

}  // namespace slmtune::data
