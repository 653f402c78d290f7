#include "train/pretrain_data.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace slmtune::train {
namespace {

std::string_view trim_spaces(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return line;
}

bool is_blank(std::string_view line) { return trim_spaces(line).empty(); }

// Drops blank lines at both ends of a document; keeps everything between as written.
std::string trim_blank_lines(const std::vector<std::string_view>& lines) {
  size_t first = 0, last = lines.size();
  while (first < last && is_blank(lines[first])) ++first;
  while (last > first && is_blank(lines[last - 1])) --last;
  std::string out;
  for (size_t i = first; i < last; ++i) {
    if (i > first) out += '\n';
    out.append(lines[i]);
  }
  return out;
}

}  // namespace

std::vector<std::string> split_documents(std::string_view text, std::string_view separator) {
  if (separator.empty()) fail("split_documents: the document separator must not be empty");
  std::vector<std::string> documents;
  std::vector<std::string_view> lines;
  auto flush = [&] {
    std::string document = trim_blank_lines(lines);
    if (!document.empty()) documents.push_back(std::move(document));
    lines.clear();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (trim_spaces(line) == separator) {
      flush();
    } else {
      lines.push_back(line);
    }
    if (end == text.size()) break;
    pos = end + 1;
  }
  flush();
  return documents;
}

PackedCorpus pack_documents(const std::vector<std::vector<int32_t>>& documents, int64_t seq_len) {
  if (seq_len < 2) fail("seq_len {}: expected at least 2 tokens per row", seq_len);
  const auto capacity = static_cast<size_t>(seq_len);
  PackedCorpus packed;
  Sample row;
  auto close_row = [&] {
    if (row.ids.empty()) return;
    row.labels = row.ids;
    packed.rows.push_back(std::move(row));
    row = Sample{};
  };
  for (const auto& document : documents) {
    if (document.empty()) continue;
    ++packed.documents;
    packed.tokens += static_cast<int64_t>(document.size());
    if (document.size() > capacity) {
      // Too long for any row: it starts a fresh row and is cut into full rows plus a remainder that
      // later documents may share.
      ++packed.cut_documents;
      close_row();
      size_t offset = 0;
      while (document.size() - offset > capacity) {
        row.ids.assign(document.begin() + static_cast<std::ptrdiff_t>(offset),
                       document.begin() + static_cast<std::ptrdiff_t>(offset + capacity));
        close_row();
        offset += capacity;
      }
      row.ids.assign(document.begin() + static_cast<std::ptrdiff_t>(offset), document.end());
      continue;
    }
    if (row.ids.size() + document.size() > capacity) close_row();
    row.ids.insert(row.ids.end(), document.begin(), document.end());
  }
  close_row();
  return packed;
}

void hold_out_rows(std::vector<Sample>& train, std::vector<Sample>& validation, double fraction, uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0)) fail("validation fraction {}: expected a number in [0, 1)", fraction);
  if (fraction == 0.0 || train.size() < 2) return;
  const size_t wanted = std::min(train.size() - 1, static_cast<size_t>(std::ceil(fraction * static_cast<double>(train.size()))));
  // Fisher-Yates with our own Rng, so the split is the same on every platform.
  Rng rng(seed);
  for (size_t i = train.size() - 1; i > 0; --i) std::swap(train[i], train[rng.below(i + 1)]);
  for (size_t i = 0; i < wanted; ++i) {
    validation.push_back(std::move(train.back()));
    train.pop_back();
  }
}

}  // namespace slmtune::train
