#include "data/csv_writer.hpp"

namespace slmtune::data {

std::string csv_cell(const std::string& cell) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
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
