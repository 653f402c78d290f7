#pragma once
// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
#include <cstdint>

namespace slmtune::tokenizer {

inline constexpr int32_t kTokenNormal = 1;
inline constexpr int32_t kTokenUnknown = 2;
inline constexpr int32_t kTokenControl = 3;
inline constexpr int32_t kTokenUserDefined = 4;
inline constexpr int32_t kTokenUnused = 5;
inline constexpr int32_t kTokenByte = 6;

}  // namespace slmtune::tokenizer
