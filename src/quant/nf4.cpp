#include "quant/nf4.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace slmtune::quant {
namespace {

// Index of the nearest value in an ascending table (ties go to the lower value).
template <size_t N>
uint8_t nearest_in(const std::array<float, N>& table, float x) {
  const auto upper = std::lower_bound(table.begin(), table.end(), x);
  if (upper == table.begin()) return 0;
  if (upper == table.end()) return static_cast<uint8_t>(N - 1);
  const auto lower = upper - 1;
  return static_cast<uint8_t>((x - *lower <= *upper - x ? lower : upper) - table.begin());
}

// torch.linspace on f32 (CPU): the first half counts up from start, the second half down from end,
// so both ends are exact; reproducing it keeps the map equal to bitsandbytes' bit for bit.
float linspace_f32(float start, float end, int steps, int k) {
  const float step = (end - start) / static_cast<float>(steps - 1);
  return k < steps / 2 ? start + step * static_cast<float>(k) : end - step * static_cast<float>(steps - k - 1);
}

std::array<float, 256> make_dynamic_map() {
  // Signed dynamic type: one sign bit, then a run of zero bits marking the decimal exponent
  // 10^(-6+i) (i = 0..6), and the remaining bits a linear fraction in [0.1, 1] (bin centres).
  // 2·(1+2+…+64) = 254 values, plus 0 and 1.
  std::vector<double> values;
  constexpr int max_exponent_bits = 7;
  for (int i = 0; i < max_exponent_bits; ++i) {
    const int items = (1 << i) + 1;  // linspace(0.1, 1, items)
    const double scale = std::pow(10.0, -(max_exponent_bits - 1) + i);
    for (int k = 0; k + 1 < items; ++k) {
      const float mean = (linspace_f32(0.1f, 1.0f, items, k) + linspace_f32(0.1f, 1.0f, items, k + 1)) / 2.0f;
      values.push_back(scale * mean);
      values.push_back(-scale * mean);
    }
  }
  values.push_back(0.0);
  values.push_back(1.0);
  std::sort(values.begin(), values.end());
  std::array<float, 256> table{};
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(values[i]);
  return table;
}

float absmax_of(const float* v, int64_t count) {
  // A NaN would slip through std::max unseen; it must reach the caller's check instead.
  float m = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(v[i])) return v[i];
    m = std::max(m, std::fabs(v[i]));
  }
  return m;
}

}  // namespace

const std::array<float, 16>& nf4_code() {
  static const std::array<float, 16> code = {
      -1.0f,
      -0.6961928009986877f,
      -0.5250730514526367f,
      -0.39491748809814453f,
      -0.28444138169288635f,
      -0.18477343022823334f,
      -0.09105003625154495f,
      0.0f,
      0.07958029955625534f,
      0.16093020141124725f,
      0.24611230194568634f,
      0.33791524171829224f,
      0.44070982933044434f,
      0.5626170039176941f,
      0.7229568362236023f,
      1.0f,
  };
  return code;
}

const std::array<float, 256>& dynamic_map() {
  static const std::array<float, 256> map = make_dynamic_map();
  return map;
}

uint8_t nearest_nf4(float normalized) { return nearest_in(nf4_code(), normalized); }
uint8_t nearest_dynamic(float normalized) { return nearest_in(dynamic_map(), normalized); }

Nf4Tensor Nf4Tensor::quantize(const Tensor& tensor, bool double_quant) {
  const std::vector<float> values = tensor.to_f32_vector();
  return quantize(values.data(), tensor.shape(), double_quant);
}

Nf4Tensor Nf4Tensor::quantize(const float* values, Shape shape, bool double_quant) {
  Nf4Tensor q;
  q.numel_ = shape_numel(shape);
  q.shape_ = std::move(shape);
  q.double_quant_ = double_quant;
  const int64_t blocks = q.blocks();
  std::vector<float> absmax(static_cast<size_t>(blocks));
  q.packed_.assign(static_cast<size_t>((q.numel_ + 1) / 2), 0);
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * kNf4BlockSize;
    const int64_t count = std::min(kNf4BlockSize, q.numel_ - begin);
    const float m = absmax_of(values + begin, count);
    if (!std::isfinite(m)) fail("NF4 quantization: block {} (elements {}..{}) holds a non-finite value", b, begin,
                                begin + count - 1);
    absmax[static_cast<size_t>(b)] = m;
    const float inverse = m > 0.0f ? 1.0f / m : 0.0f;
    for (int64_t i = begin; i < begin + count; ++i) {
      const uint8_t index = nearest_nf4(values[i] * inverse);
      uint8_t& byte = q.packed_[static_cast<size_t>(i / 2)];
      byte = static_cast<uint8_t>(i % 2 == 0 ? (byte & 0x0F) | (index << 4) : (byte & 0xF0) | index);
    }
  }
  if (!double_quant) {
    q.absmax_ = std::move(absmax);
    return q;
  }
  double sum = 0.0;
  for (float m : absmax) sum += m;
  q.scale_offset_ = blocks ? static_cast<float>(sum / static_cast<double>(blocks)) : 0.0f;
  const int64_t scale_blocks = (blocks + kScaleBlockSize - 1) / kScaleBlockSize;
  q.scale_codes_.resize(static_cast<size_t>(blocks));
  q.scale_absmax_.resize(static_cast<size_t>(scale_blocks));
  for (int64_t s = 0; s < scale_blocks; ++s) {
    const int64_t begin = s * kScaleBlockSize;
    const int64_t count = std::min(kScaleBlockSize, blocks - begin);
    float m = 0.0f;
    for (int64_t b = begin; b < begin + count; ++b) m = std::max(m, std::fabs(absmax[static_cast<size_t>(b)] - q.scale_offset_));
    q.scale_absmax_[static_cast<size_t>(s)] = m;
    const float inverse = m > 0.0f ? 1.0f / m : 0.0f;
    for (int64_t b = begin; b < begin + count; ++b)
      q.scale_codes_[static_cast<size_t>(b)] = nearest_dynamic((absmax[static_cast<size_t>(b)] - q.scale_offset_) * inverse);
  }
  return q;
}

uint8_t Nf4Tensor::code_index(int64_t i) const {
  const uint8_t byte = packed_[static_cast<size_t>(i / 2)];
  return i % 2 == 0 ? static_cast<uint8_t>(byte >> 4) : static_cast<uint8_t>(byte & 0x0F);
}

float Nf4Tensor::block_scale(int64_t block) const {
  if (!double_quant_) return absmax_[static_cast<size_t>(block)];
  return dynamic_map()[scale_codes_[static_cast<size_t>(block)]] * scale_absmax_[static_cast<size_t>(block / kScaleBlockSize)] +
         scale_offset_;
}

void Nf4Tensor::dequantize(int64_t begin, int64_t count, float* out) const {
  if (begin < 0 || count < 0 || begin + count > numel_)
    fail("NF4 dequantize: range [{}, {}) outside a tensor of {} values", begin, begin + count, numel_);
  const auto& code = nf4_code();
  int64_t i = begin;
  const int64_t end = begin + count;
  while (i < end) {
    const int64_t block = i / kNf4BlockSize;
    const int64_t block_end = std::min(end, (block + 1) * kNf4BlockSize);
    const float scale = block_scale(block);
    for (; i < block_end; ++i) *out++ = code[code_index(i)] * scale;
  }
}

std::vector<float> Nf4Tensor::dequantize() const {
  std::vector<float> out(static_cast<size_t>(numel_));
  dequantize(0, numel_, out.data());
  return out;
}

int64_t Nf4Tensor::storage_bytes() const {
  const auto bytes = [](const auto& v) { return static_cast<int64_t>(v.size() * sizeof(v[0])); };
  return bytes(packed_) + bytes(absmax_) + bytes(scale_codes_) + bytes(scale_absmax_) +
         (double_quant_ ? static_cast<int64_t>(sizeof(scale_offset_)) : 0);
}

}  // namespace slmtune::quant
