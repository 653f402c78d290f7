// libFuzzer target for reading a teacher model's answer (data/teacher_reply.hpp): any text a model may
// write, fenced, numbered, truncated or not JSON at all. The reader reports unreadable examples in its
// result, so nothing here may throw. Invariants: candidates are numbered 1, 2, … in order; each is
// either a row or a reason with an explanation; a row written back in the format the teacher is asked
// for (data/teacher_prompt.hpp) reads back as the same row.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "data/teacher_prompt.hpp"
#include "data/teacher_reply.hpp"

using namespace slmtune;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const data::SynthTemplate shape = [] {
    data::SynthTemplate t;
    t.variables = {"gps"};
    return t;
  }();
  auto candidates = data::parse_teacher_reply(text, shape.variables);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& candidate = candidates[i];
    if (candidate.index != i + 1) std::abort();
    if (candidate.row.has_value() == !candidate.reason.empty()) std::abort();
    if (!candidate.row) {
      if (candidate.error.empty()) std::abort();
      continue;
    }
    const data::SynthRow& row = *candidate.row;
    if (row.variables.at("gps").empty()) std::abort();
    auto again = data::parse_teacher_reply(data::teacher_example_json(shape, row).dump(), shape.variables);
    if (again.size() != 1 || !again[0].row) std::abort();
    const data::SynthRow& back = *again[0].row;
    if (back.query != row.query || back.calls != row.calls || back.variables != row.variables) std::abort();
    if (row.calls.empty() && back.response != row.response) std::abort();
  }
  return 0;
}
