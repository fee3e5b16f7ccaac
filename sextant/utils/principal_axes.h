#pragma once

#include <cstddef>
#include <vector>

namespace sextant {

/// The principal axes of a set of rows: their mean, the eigenvalues of their
/// covariance (largest first) and the matching unit eigenvectors.
struct PrincipalAxes {
  std::vector<float> mean;         // d
  std::vector<float> eigenvalues;  // d, descending
  std::vector<float> axes;         // d x d: row r is the axis of eigenvalues[r]
};

/// The principal axes of the n rows x of dimension d (n >= 1). Values large
/// enough for the covariance's sums to overflow float are handled exactly (the
/// data is scaled by a power of two, the eigenvalues scaled back).
PrincipalAxes principal_axes(const float* x, size_t n, size_t d);

/// The exponent e that scales x[0..n) by 2^e (exactly) to a largest magnitude
/// in [0.5, 1), when sums of `terms` products of such values could overflow
/// float (a covariance, a cross-correlation over many rows); 0 when they cannot.
int overflow_guard_exponent(const float* x, size_t n, size_t terms);

}  // namespace sextant
