#include "data/csv_writer.hpp"

namespace slmtune::data {

std::string csv_cell(const std::string& cell) {
  // A cell that starts with a byte-order mark is quoted too: unquoted at the start of a file, a reader
  // (ours, and Excel's) would take it for the file's BOM and drop it.
  const bool starts_with_bom = cell.rfind("\xEF\xBB\xBF", 0) == 0;
  if (cell.find_first_of(",\"\r\n") == std::string::npos && !starts_with_bom) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string csv_record(const std::vector<std::string>& cells) {
  // A lone empty cell is written quoted, otherwise the record would be a blank line that readers skip.
  if (cells.size() == 1 && cells[0].empty()) return "\"\"\r\n";
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += csv_cell(cells[i]);
  }
  return out + "\r\n";
}

}  // namespace slmtune::data
