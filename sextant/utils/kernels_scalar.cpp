// Portable reference kernels: the plain loops every SIMD level is checked against.
#include "sextant/utils/kernels.h"

namespace sextant::simd_scalar {
namespace {

float l2sqr(const float* x, const float* y, size_t d) {
  float sum = 0;
  for (size_t i = 0; i < d; i++) {
    float diff = x[i] - y[i];
    sum += diff * diff;
  }
  return sum;
}

float inner_product(const float* x, const float* y, size_t d) {
  float sum = 0;
  for (size_t i = 0; i < d; i++) sum += x[i] * y[i];
  return sum;
}

void l2sqr_ny(const float* x, const float* y, size_t ny, size_t d, float* out) {
  for (size_t j = 0; j < ny; j++) out[j] = l2sqr(x, y + j * d, d);
}

void inner_product_ny(const float* x, const float* y, size_t ny, size_t d, float* out) {
  for (size_t j = 0; j < ny; j++) out[j] = inner_product(x, y + j * d, d);
}

size_t collect_below(const float* v, const float* bias, float scale, size_t n, float threshold, uint32_t* idx,
                     float* vals) {
  size_t count = 0;
  for (size_t j = 0; j < n; j++) {
    float s = scale * v[j] + (bias ? bias[j] : 0.0f);
    if (s < threshold) {
      idx[count] = static_cast<uint32_t>(j);
      vals[count] = s;
      count++;
    }
  }
  return count;
}

void l2sqr_gather(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n, float bound,
                  float* out) {
  for (size_t j = 0; j < n; j++) {
    const float* y = base + size_t(ids[j]) * d;
    float sum = 0;
    for (size_t i = 0; i < d; i++) {
      float diff = x[i] - y[i];
      sum += diff * diff;
      if ((i + 1) % kGatherBlock == 0 && sum >= bound) break;
    }
    out[j] = sum;
  }
}

void inner_product_gather(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n, float* out) {
  for (size_t j = 0; j < n; j++) out[j] = inner_product(x, base + size_t(ids[j]) * d, d);
}

}  // namespace

const Kernels& table() {
  static const Kernels kTable{SimdLevel::scalar, l2sqr,        inner_product,       l2sqr_ny, inner_product_ny,
                              collect_below,     l2sqr_gather, inner_product_gather};
  return kTable;
}

}  // namespace sextant::simd_scalar
