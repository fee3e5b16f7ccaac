#pragma once

#include <cstddef>

#include "sextant/MetricType.h"

namespace sextant {

/// Throws Error unless metric is L2 or INNER_PRODUCT (a metric may arrive as
/// a plain integer from Python, Faiss's convention).
void check_metric(MetricType metric);

/// The largest squared L2 norm a vector may have: 2^120 (about 1.3e36, a norm
/// of about 1.15e18). Between vectors this short, every distance and inner
/// product — exact, through the norms trick, or between quantized
/// approximations and residuals — stays finite in float, so no search ever
/// meets +inf - inf = NaN. Longer vectors are refused where they enter.
inline constexpr float kMaxSquaredNorm = 0x1p120f;
/// The largest squared norm a quantizer code may decode to (SQ ranges, PQ
/// centroids, fp16/bf16 codes): 16 times more. A quantizer trained on bounded
/// vectors can decode beyond them (per-component ranges add up over vectors,
/// fp16/bf16 rounding), and distances from a bounded query to such
/// reconstructions still stay below 2^125, far from float's 2^128.
inline constexpr float kMaxDecodedSquaredNorm = 16 * kMaxSquaredNorm;

/// Index of the first NaN or infinity among x[0..n), or n when all are finite.
size_t find_non_finite(const float* x, size_t n);

/// Throws Error naming `what` and the row and column of the first NaN or
/// infinity in the n x d row-major matrix x.
void check_finite(const float* x, size_t n, size_t d, const char* what);

/// Index of the first row of the n x d matrix x that holds a NaN or infinity
/// or whose squared norm exceeds `limit`, or n when there is none.
size_t find_unbounded_row(const float* x, size_t n, size_t d, float limit = kMaxSquaredNorm);

/// Throws Error naming `what` and the first row of x that is not finite or
/// whose squared norm exceeds kMaxSquaredNorm (vectors for an index, a search,
/// training).
void check_bounded(const float* x, size_t n, size_t d, const char* what);

}  // namespace sextant
