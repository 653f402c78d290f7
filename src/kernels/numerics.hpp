#pragma once
// Scanning activations for NaN and ±Inf, for a --check-numerics mode that names the first layer
// whose output went bad.
#include <cstdint>

namespace slmtune::kernels {

// Index of the first NaN or ±Inf in x[0, count), or −1 when every value is finite.
int64_t find_non_finite(const float* x, int64_t count);

}  // namespace slmtune::kernels
