#pragma once
// bitsandbytes' "dynamic" 8-bit quantization map (functional.create_dynamic_map with its defaults,
// max_exponent_bits = 7, total_bits = 8): per decade 10^-6 … 10^0 a growing number of linearly
// spaced fractions, plus 0 and 1, sorted. The signed map serves Adam's first moment, the unsigned
// one (twice the fractions per decade, no negatives) its second moment. Values are blockwise scaled
// by the block's absolute maximum before they are looked up.
#include <array>
#include <cstdint>

namespace slmtune::train {

const std::array<float, 256>& dynamic_quant_map(bool is_signed);

// The index of the nearest entry of the (sorted) map to `x` (x is already divided by the absmax).
uint8_t quantize_nearest(const std::array<float, 256>& map, float x);

}  // namespace slmtune::train
