#pragma once

#include <cstddef>

namespace sextant {

/// Index of the first NaN or infinity among x[0..n), or n when all are finite.
size_t find_non_finite(const float* x, size_t n);

}  // namespace sextant
