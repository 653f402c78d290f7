#pragma once
// Numbers as people read them in reports: 134,515,008 and 134.5M.
#include <cstdint>
#include <string>

namespace slmtune::cli {

std::string with_commas(int64_t value);
std::string short_count(int64_t value);  // 134.5M, 1.2B, 8.3K
std::string human_bytes(double bytes);   // 1.5 GiB

}  // namespace slmtune::cli
