#pragma once
// Conversions between f32 and the 16- and 8-bit float formats of model files. Narrowing rounds to
// nearest, ties to even, as PyTorch and numpy do; NaN stays NaN (quiet) and ±Inf stays ±Inf.
#include <cstddef>
#include <cstdint>

namespace slmtune {

float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);
// OCP FP8 formats as safetensors stores them (E4M3 "fn": no infinities, 0x7F/0xFF are NaN).
float f8_e4m3_to_f32(uint8_t bits);
float f8_e5m2_to_f32(uint8_t bits);

void f16_to_f32(const uint16_t* src, float* dst, size_t count);
void bf16_to_f32(const uint16_t* src, float* dst, size_t count);
void f32_to_f16(const float* src, uint16_t* dst, size_t count);
void f32_to_bf16(const float* src, uint16_t* dst, size_t count);

}  // namespace slmtune
