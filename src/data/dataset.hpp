#pragma once
// Loading and validating datasets: the reference article's function-calling CSV and chat JSONL, both
// into Example. Every row is checked (JSON parses, called functions are defined, arguments satisfy
// their schema, template variables present) and every problem is collected, so one run lists them all.
//
// CSV: header with function_definitions, user_query, function_call (order free); optional `response`
// (the assistant's plain-text answer, for rows whose call list is empty); any other column is a
// template variable. An empty function_call cell or [] means the turn needs no call.
// JSONL: one {"messages": [...], "tools": [...], "variables": {...}} per line; assistant messages carry
// OpenAI-style "tool_calls" (arguments as a JSON string or an object).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "data/example.hpp"

namespace slmtune::data {

enum class DatasetFormat { csv, jsonl };

struct LoadOptions {
  // A system message with {{ name }} placeholders filled from each example's variables; empty: none.
  // A placeholder whose variable is missing or empty in a row is an error for that row.
  std::string system_template;
};

struct Dataset {
  DatasetFormat format = DatasetFormat::csv;
  std::string origin;
  std::vector<Example> examples;  // the valid rows
  std::vector<std::string> errors;  // "file:line: field: what was expected", in file order
  size_t rows = 0;  // rows seen, valid or not
  // What the rows were in the file, to write splits back in the same format: the CSV header and each
  // valid example's cells, or each valid example's JSONL line.
  std::vector<std::string> csv_header;
  std::vector<std::vector<std::string>> csv_rows;
  std::vector<std::string> jsonl_lines;
};

DatasetFormat format_from_path(const std::filesystem::path& path);
// Parses `text`; a file-level problem (no header, a required column missing, unbalanced quotes) is
// thrown as an Error; row problems are collected in Dataset::errors.
Dataset parse_dataset(std::string_view text, DatasetFormat format, const std::string& origin,
                      const LoadOptions& options = {});
Dataset load_dataset(const std::filesystem::path& path, const LoadOptions& options = {});

// "{{ gps }}" → the variable's value; names the first missing variable in `missing` and returns "".
std::string fill_template(const std::string& text, const std::map<std::string, std::string>& variables,
                          std::string* missing);

}  // namespace slmtune::data
