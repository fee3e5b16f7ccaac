#include "sextant/utils/blas.h"

#include <climits>

#include "sextant/base/Error.h"

extern "C" {
// Fortran BLAS; the trailing lengths are the hidden character-argument lengths.
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha,
            const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
            const int* ldc, size_t transa_len, size_t transb_len);
// Present when the BLAS is OpenBLAS.
char* openblas_get_config() __attribute__((weak));
}

namespace sextant {

namespace {
int blas_int(size_t value, const char* name) {
  SEXTANT_CHECK(value <= static_cast<size_t>(INT_MAX), "BLAS dimension ", name, "=", value, " exceeds ", INT_MAX);
  return static_cast<int>(value);
}
}  // namespace

void gemm_abt(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, const float* b, size_t ldb,
              float beta, float* c, size_t ldc) {
  if (m == 0 || n == 0) return;
  // Row-major C = A B^T is column-major C^T = B A^T: B transposed on the left.
  int mi = blas_int(n, "n"), ni = blas_int(m, "m"), ki = blas_int(k, "k");
  int ldai = blas_int(ldb, "ldb"), ldbi = blas_int(lda, "lda"), ldci = blas_int(ldc, "ldc");
  sgemm_("T", "N", &mi, &ni, &ki, &alpha, b, &ldai, a, &ldbi, &beta, c, &ldci, 1, 1);
}

void gemm_ab(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, const float* b, size_t ldb,
             float beta, float* c, size_t ldc) {
  if (m == 0 || n == 0) return;
  // Row-major C = A B is column-major C^T = B^T A^T: B first, neither transposed.
  int mi = blas_int(n, "n"), ni = blas_int(m, "m"), ki = blas_int(k, "k");
  int ldai = blas_int(ldb, "ldb"), ldbi = blas_int(lda, "lda"), ldci = blas_int(ldc, "ldc");
  sgemm_("N", "N", &mi, &ni, &ki, &alpha, b, &ldai, a, &ldbi, &beta, c, &ldci, 1, 1);
}

const char* blas_info() { return openblas_get_config ? openblas_get_config() : "unknown BLAS"; }

}  // namespace sextant
