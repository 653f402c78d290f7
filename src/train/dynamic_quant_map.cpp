#include "train/dynamic_quant_map.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace slmtune::train {
namespace {

// torch.linspace(start, end, steps) in float32: the first half counts up from start, the second
// half down from end, which is how torch keeps both ends exact.
std::vector<float> linspace(float start, float end, int steps) {
  std::vector<float> out(static_cast<size_t>(steps));
  const float step = (end - start) / static_cast<float>(steps - 1);
  const int halfway = steps / 2;
  for (int i = 0; i < steps; ++i)
    out[static_cast<size_t>(i)] = i < halfway ? start + step * static_cast<float>(i)
                                              : end - step * static_cast<float>(steps - i - 1);
  return out;
}

std::array<float, 256> build(bool is_signed) {
  constexpr int max_exponent_bits = 7;
  constexpr int non_sign_bits = 7;  // bitsandbytes uses total_bits - 1 for either sign
  std::vector<float> data;
  for (int i = 0; i < max_exponent_bits; ++i) {
    const int fraction_items = is_signed ? (1 << (i + non_sign_bits - max_exponent_bits)) + 1
                                         : (1 << (i + non_sign_bits - max_exponent_bits + 1)) + 1;
    const std::vector<float> boundaries = linspace(0.1f, 1.0f, fraction_items);
    const float decade = static_cast<float>(std::pow(10.0, -(max_exponent_bits - 1) + i));
    for (size_t k = 0; k + 1 < boundaries.size(); ++k) {
      const float mean = (boundaries[k] + boundaries[k + 1]) / 2.0f;
      data.push_back(decade * mean);
      if (is_signed) data.push_back(-decade * mean);
    }
  }
  // With 7 non-sign bits and 7 exponent bits there are no additional items.
  data.push_back(0.0f);
  data.push_back(1.0f);
  data.resize(256, 0.0f);
  std::sort(data.begin(), data.end());
  std::array<float, 256> out{};
  std::copy(data.begin(), data.end(), out.begin());
  return out;
}

}  // namespace

const std::array<float, 256>& dynamic_quant_map(bool is_signed) {
  static const std::array<float, 256> signed_map = build(true);
  static const std::array<float, 256> unsigned_map = build(false);
  return is_signed ? signed_map : unsigned_map;
}

uint8_t quantize_nearest(const std::array<float, 256>& map, float x) {
  const auto upper = std::lower_bound(map.begin(), map.end(), x);
  if (upper == map.begin()) return 0;
  if (upper == map.end()) return 255;
  const auto lower = upper - 1;
  const auto index = (x - *lower) <= (*upper - x) ? lower : upper;
  return static_cast<uint8_t>(index - map.begin());
}

}  // namespace slmtune::train
