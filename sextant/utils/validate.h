#pragma once

#include <cstddef>

#include "sextant/MetricType.h"

namespace sextant {

/// Throws Error unless metric is L2 or INNER_PRODUCT (a metric may arrive as
/// a plain integer from Python, Faiss's convention).
void check_metric(MetricType metric);

/// Index of the first NaN or infinity among x[0..n), or n when all are finite.
size_t find_non_finite(const float* x, size_t n);

/// Throws Error naming `what` and the row and column of the first NaN or
/// infinity in the n x d row-major matrix x.
void check_finite(const float* x, size_t n, size_t d, const char* what);

}  // namespace sextant
