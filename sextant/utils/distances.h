#pragma once

#include <cstddef>

#include "sextant/MetricType.h"

namespace sextant {

/// Squared L2 distance and inner product of two d-vectors (active SIMD level).
float fvec_L2sqr(const float* x, const float* y, size_t d);
float fvec_inner_product(const float* x, const float* y, size_t d);

/// out[i] = squared L2 norm of row i of x (n x d), in parallel.
void fvec_norms_L2sqr(const float* x, size_t n, size_t d, float* out);

/// Scales each row of x (n x d) to unit L2 norm in place; zero rows stay zero.
void normalize_L2(float* x, size_t n, size_t d);

/// out (nq x nb) = distance (L2: squared) or inner product between every query
/// row of xq and every row of xb. BLAS for batches, SIMD kernels otherwise.
void pairwise_distances(const float* xq, size_t nq, const float* xb, size_t nb, size_t d, MetricType metric,
                        float* out);

}  // namespace sextant
