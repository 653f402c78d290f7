#pragma once
// bitsandbytes' NF4 ("4-bit NormalFloat", QLoRA paper): each block of 64 consecutive values is scaled
// by its absolute maximum and every value is stored as the index (4 bits) of the nearest of 16 fixed
// code values, two per byte with the first value in the HIGH nibble (bitsandbytes' packing).
//
// Double quantization (bitsandbytes' compress_statistics=True): the f32 block scales are replaced by
// their mean (one f32 "offset") plus the differences quantized to 8 bits blockwise (blocks of 256
// scales, each with its own f32 absmax) with bitsandbytes' signed dynamic map
// (create_dynamic_map(signed=True), the default code of quantize_blockwise). Per parameter that is
// 4 bits + 8/64 bits + 32/(64·256) bits ≈ 0.516 bytes.
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.hpp"

namespace slmtune::quant {

inline constexpr int64_t kNf4BlockSize = 64;
inline constexpr int64_t kScaleBlockSize = 256;

// bitsandbytes' NF4 code values (functional.get_4bit_type("nf4")), ascending; index 7 is exactly 0.
const std::array<float, 16>& nf4_code();
// bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8), ascending.
const std::array<float, 256>& dynamic_map();
// Index of the code value nearest to `normalized` (in [-1, 1]).
uint8_t nearest_nf4(float normalized);
uint8_t nearest_dynamic(float normalized);

class Nf4Tensor {
 public:
  Nf4Tensor() = default;
  // `values` holds shape_numel(shape) f32 values (row-major).
  static Nf4Tensor quantize(const float* values, Shape shape, bool double_quant = true);
  static Nf4Tensor quantize(const Tensor& tensor, bool double_quant = true);  // f32/f16/bf16

  const Shape& shape() const { return shape_; }
  int64_t numel() const { return numel_; }
  int64_t blocks() const { return (numel_ + kNf4BlockSize - 1) / kNf4BlockSize; }
  bool double_quant() const { return double_quant_; }

  // The stored layout, as bitsandbytes holds it.
  const std::vector<uint8_t>& packed() const { return packed_; }            // ⌈numel/2⌉ bytes
  const std::vector<float>& absmax() const { return absmax_; }              // without double quant
  const std::vector<uint8_t>& scale_codes() const { return scale_codes_; }  // with: one per block
  const std::vector<float>& scale_absmax() const { return scale_absmax_; }  // with: one per 256 blocks
  float scale_offset() const { return scale_offset_; }                      // with: mean of the absmaxes

  uint8_t code_index(int64_t i) const;  // the 4-bit index of element i
  float block_scale(int64_t block) const;  // the (de-quantized) absmax of a 64-value block
  // Values [begin, begin + count) in f32 (a tile; the whole tensor never needs to exist in f32).
  void dequantize(int64_t begin, int64_t count, float* out) const;
  std::vector<float> dequantize() const;

  // Bytes held by the quantized data and its statistics.
  int64_t storage_bytes() const;
  double bytes_per_parameter() const { return numel_ ? static_cast<double>(storage_bytes()) / numel_ : 0.0; }

 private:
  Shape shape_;
  int64_t numel_ = 0;
  bool double_quant_ = true;
  std::vector<uint8_t> packed_;
  std::vector<float> absmax_;
  std::vector<uint8_t> scale_codes_;
  std::vector<float> scale_absmax_;
  float scale_offset_ = 0.0f;
};

}  // namespace slmtune::quant
