#pragma once

#include <cstddef>

namespace sextant {

/// C = alpha * A * B^T + beta * C with row-major A (m x k, row stride lda),
/// B (n x k, row stride ldb) and C (m x n, row stride ldc), through the BLAS
/// SGEMM. Inside an OpenMP parallel region the OpenMP build of OpenBLAS runs it
/// on the calling thread alone, so callers parallelise over tiles freely.
void gemm_abt(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, const float* b, size_t ldb,
              float beta, float* c, size_t ldc);

/// C = alpha * A * B + beta * C with row-major A (m x k), B (k x n), C (m x n).
void gemm_ab(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, const float* b, size_t ldb,
             float beta, float* c, size_t ldc);

/// Description of the BLAS in use (OpenBLAS's build configuration when available).
const char* blas_info();

}  // namespace sextant
