#pragma once

namespace sextant {

// LAPACK through row-major wrappers (the BLAS library carries LAPACK).

/// Eigen-decomposition of the symmetric n x n matrix a. On return, row i of a
/// is the unit eigenvector of eigenvalues[i]; eigenvalues ascend.
void symmetric_eigen(int n, float* a, float* eigenvalues);

/// Singular value decomposition a = U diag(s) V^T of the m x n matrix a
/// (row-major, not modified): u is m x m, s has min(m, n) values (descending),
/// vt is n x n.
void svd(int m, int n, const float* a, float* u, float* s, float* vt);

/// Makes the m rows of the m x n matrix a (m <= n) orthonormal (Gram-Schmidt
/// order, through QR).
void orthonormalize_rows(int m, int n, float* a);

}  // namespace sextant
