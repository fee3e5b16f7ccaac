#include "sextant/utils/principal_axes.h"

#include <algorithm>
#include <cmath>

#include "sextant/utils/blas.h"
#include "sextant/utils/lapack.h"

namespace sextant {

int overflow_guard_exponent(const float* x, size_t n, size_t terms) {
  float largest = 0;
  for (size_t i = 0; i < n; i++) largest = std::max(largest, std::fabs(x[i]));
  if (!(double(largest) * largest * double(terms) > 0x1p100)) return 0;
  int e;
  std::frexp(largest, &e);
  return -e;
}

PrincipalAxes principal_axes(const float* x, size_t n, size_t d) {
  PrincipalAxes result;
  result.mean.assign(d, 0.0f);
  std::vector<double> sum(d, 0.0);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++) sum[j] += x[i * d + j];
  }
  for (size_t j = 0; j < d; j++) result.mean[j] = float(sum[j] / double(n));
  // Covariance = Xc^T Xc / n, through GEMM on the centred data, transposed.
  std::vector<float> transposed(d * n), cov(d * d);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++) transposed[j * n + i] = x[i * d + j] - result.mean[j];
  }
  const int e = overflow_guard_exponent(transposed.data(), transposed.size(), n);
  if (e != 0) {
    for (float& v : transposed) v = std::ldexp(v, e);
  }
  gemm_abt(d, d, n, 1.0f / float(n), transposed.data(), n, transposed.data(), n, 0.0f, cov.data(), d);
  std::vector<float> values(d);
  symmetric_eigen(static_cast<int>(d), cov.data(), values.data());
  for (float& v : values) v = std::ldexp(v, -2 * e);
  // LAPACK orders eigenvalues ascending: largest first here.
  result.eigenvalues.assign(values.rbegin(), values.rend());
  result.axes.resize(d * d);
  for (size_t r = 0; r < d; r++) std::copy_n(cov.data() + (d - 1 - r) * d, d, result.axes.data() + r * d);
  return result;
}

}  // namespace sextant
