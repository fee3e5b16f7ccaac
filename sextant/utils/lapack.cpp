#include "sextant/utils/lapack.h"

#include <algorithm>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/utils/validate.h"

extern "C" {
// Fortran LAPACK; the trailing sizes are the hidden character-argument lengths.
void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w, float* work,
             const int* lwork, int* iwork, const int* liwork, int* info, size_t, size_t);
void sgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, float* a, const int* lda, float* s,
             float* u, const int* ldu, float* vt, const int* ldvt, float* work, const int* lwork, int* info, size_t,
             size_t);
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork,
             int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work,
             const int* lwork, int* info);
}

namespace sextant {

void symmetric_eigen(int n, float* a, float* eigenvalues) {
  // LAPACK may loop forever on a NaN or an infinity: refuse them first.
  check_finite(a, size_t(n) * n, 1, "the matrix of an eigen-decomposition");
  // Row-major a is its own transpose (symmetric); column-major eigenvectors are our rows.
  // Divide and conquer: several times faster than ssyev's QR iteration at d = 784.
  int info = 0, lwork = -1, liwork = -1, iquery = 0;
  float query = 0;
  ssyevd_("V", "U", &n, a, &n, eigenvalues, &query, &lwork, &iquery, &liwork, &info, 1, 1);
  // The size comes back as a float, which rounds sizes above 2^24 (n > ~2900):
  // never ask for less than the documented minimum.
  lwork = std::max(int(query), 1 + 6 * n + 2 * n * n);
  liwork = std::max(iquery, 3 + 5 * n);
  std::vector<float> work(lwork);
  std::vector<int> iwork(liwork);
  ssyevd_("V", "U", &n, a, &n, eigenvalues, work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
  SEXTANT_CHECK(info == 0, "LAPACK ssyevd failed (info=", info, ")");
}

void svd(int m, int n, const float* a, float* u, float* s, float* vt) {
  // Row-major a (m x n) is column-major a^T (n x m) = V S U^T: LAPACK's U is
  // our V (its columns are our rows of V^T) and LAPACK's V^T is our U.
  check_finite(a, size_t(m) * n, 1, "the matrix of a singular value decomposition");  // LAPACK may loop on them
  std::vector<float> copy(a, a + size_t(m) * n);
  int info = 0, lwork = -1;
  float query = 0;
  sgesvd_("A", "A", &n, &m, copy.data(), &n, s, vt, &n, u, &m, &query, &lwork, &info, 1, 1);
  lwork = std::max(1, int(query));
  std::vector<float> work(lwork);
  sgesvd_("A", "A", &n, &m, copy.data(), &n, s, vt, &n, u, &m, work.data(), &lwork, &info, 1, 1);
  SEXTANT_CHECK(info == 0, "LAPACK sgesvd failed (info=", info, ")");
}

void orthonormalize_rows(int m, int n, float* a) {
  SEXTANT_CHECK(m <= n, "orthonormalize_rows needs at most as many rows as columns, got ", m, " x ", n);
  // The rows are the columns of column-major a^T (n x m): its QR's Q has orthonormal columns.
  std::vector<float> tau(m);
  int info = 0, lwork = -1;
  float query = 0;
  sgeqrf_(&n, &m, a, &n, tau.data(), &query, &lwork, &info);
  lwork = std::max(1, int(query));
  std::vector<float> work(lwork);
  sgeqrf_(&n, &m, a, &n, tau.data(), work.data(), &lwork, &info);
  SEXTANT_CHECK(info == 0, "LAPACK sgeqrf failed (info=", info, ")");
  lwork = -1;
  sorgqr_(&n, &m, &m, a, &n, tau.data(), &query, &lwork, &info);
  lwork = std::max(1, int(query));
  work.resize(lwork);
  sorgqr_(&n, &m, &m, a, &n, tau.data(), work.data(), &lwork, &info);
  SEXTANT_CHECK(info == 0, "LAPACK sorgqr failed (info=", info, ")");
}

}  // namespace sextant
