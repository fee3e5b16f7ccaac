#include "sextant/utils/distances.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sextant/utils/blas.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/validate.h"

namespace sextant {

float fvec_L2sqr(const float* x, const float* y, size_t d) { return kernels().l2sqr(x, y, d); }

float fvec_inner_product(const float* x, const float* y, size_t d) { return kernels().inner_product(x, y, d); }

void fvec_norms_L2sqr(const float* x, size_t n, size_t d, float* out) {
  const Kernels& k = kernels();
#pragma omp parallel for schedule(static) if (n * d > (1 << 16))
  for (long i = 0; i < static_cast<long>(n); i++) out[i] = k.inner_product(x + i * d, x + i * d, d);
}

void normalize_L2(float* x, size_t n, size_t d) {
  const Kernels& k = kernels();
#pragma omp parallel for schedule(static) if (n * d > (1 << 16))
  for (long i = 0; i < static_cast<long>(n); i++) {
    float* row = x + i * d;
    float norm = std::sqrt(k.inner_product(row, row, d));
    if (norm > 0) {
      float inv = 1.0f / norm;
      for (size_t j = 0; j < d; j++) row[j] *= inv;
    }
  }
}

void pairwise_distances(const float* xq, size_t nq, const float* xb, size_t nb, size_t d, MetricType metric,
                        float* out) {
  check_metric(metric);
  const Kernels& k = kernels();
  const bool l2 = metric == MetricType::L2;
  if (nq < 20) {
    for (size_t i = 0; i < nq; i++) {
      (l2 ? k.l2sqr_ny : k.inner_product_ny)(xq + i * d, xb, nb, d, out + i * nb);
    }
    return;
  }
  gemm_abt(nq, nb, d, l2 ? -2.0f : 1.0f, xq, d, xb, d, 0.0f, out, nb);
  if (!l2) return;
  std::vector<float> qn(nq), bn(nb);
  fvec_norms_L2sqr(xq, nq, d, qn.data());
  fvec_norms_L2sqr(xb, nb, d, bn.data());
#pragma omp parallel for schedule(static)
  for (long i = 0; i < static_cast<long>(nq); i++) {
    float* row = out + i * nb;
    for (size_t j = 0; j < nb; j++) row[j] = std::max(row[j] + qn[i] + bn[j], 0.0f);
  }
}

}  // namespace sextant
