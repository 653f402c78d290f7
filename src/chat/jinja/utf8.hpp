#pragma once
// Python strings count, index and slice by code point; ours are UTF-8 bytes. These helpers convert
// between the two views (invalid bytes count as one code point each, so nothing is ever lost).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slmtune::jinja::utf8 {

bool is_ascii(std::string_view s);
size_t length(std::string_view s);                 // in code points
std::vector<uint32_t> decode(std::string_view s);  // invalid bytes decode as U+DC80+byte
void append(std::string& out, uint32_t code_point);
std::string encode(const std::vector<uint32_t>& code_points);
// Byte offset of each code point, plus one final entry for the end.
std::vector<size_t> boundaries(std::string_view s);
// Python's str.isspace for one code point (ASCII and the common Unicode spaces).
bool is_space(uint32_t c);
uint32_t to_upper(uint32_t c);
uint32_t to_lower(uint32_t c);
bool is_alpha(uint32_t c);

}  // namespace slmtune::jinja::utf8
