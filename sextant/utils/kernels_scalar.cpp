// Portable reference kernels: the plain loops every SIMD level is checked against.
#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

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

size_t min_key(const float* v, const float* bias, float scale, size_t n, float* key) {
  float min = __builtin_inff();
  size_t at = 0;
  for (size_t j = 0; j < n; j++) {
    const float s = scale * v[j] + (bias ? bias[j] : 0.0f);
    if (s < min) {
      min = s;
      at = j;
    }
  }
  *key = min;
  return at;
}

template <SQCodec kCodec, bool kL2>
void sq_score(const float* u, const float* v, const uint8_t* codes, size_t code_size, size_t n, size_t d,
              float* out) {
  for (size_t j = 0; j < n; j++) {
    const uint8_t* code = codes + j * code_size;
    float sum = 0;
    for (size_t i = 0; i < d; i++) {
      const float q = sq_value(kCodec, code, i);
      if constexpr (kL2) {
        const float diff = sq_is_integer(kCodec) ? u[i] - q * v[i] : u[i] - q;
        sum += diff * diff;
      } else {
        sum += u[i] * q;
      }
    }
    out[j] = sum;
  }
}

void rabitq_residual(const float* x, const float* c, size_t d, float* r, float* stats) {
  float s = 0, q = 0, mn = 3.4028235e38f, mx = -3.4028235e38f;
  for (size_t i = 0; i < d; i++) {
    const float v = x[i] - (c ? c[i] : 0.0f);
    r[i] = v;
    s += v;
    q += v * v;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  stats[0] = s;
  stats[1] = mn;
  stats[2] = mx;
  stats[3] = q;
}

void fastscan_sums(const uint8_t* block, size_t npairs, const uint8_t* luts, uint16_t* sums) {
  for (size_t v = 0; v < 32; v++) {
    const unsigned shift = v < 16 ? 0 : 4, j = v % 16;
    uint32_t sum = 0;
    for (size_t p = 0; p < npairs; p++) {
      sum += luts[p * 32 + ((block[p * 32 + j] >> shift) & 15)];
      sum += luts[p * 32 + 16 + ((block[p * 32 + 16 + j] >> shift) & 15)];
    }
    sums[v] = uint16_t(sum);
  }
}

size_t fastscan_collect(const uint8_t* blocks, size_t nblocks, size_t npairs, const uint8_t* luts,
                        uint16_t threshold, uint32_t* idx, uint16_t* sums) {
  size_t count = 0;
  uint16_t block_sums[32];
  for (size_t b = 0; b < nblocks; b++) {
    fastscan_sums(blocks + b * npairs * 32, npairs, luts, block_sums);
    for (size_t v = 0; v < 32; v++) {
      if (block_sums[v] <= threshold) {
        idx[count] = uint32_t(b * 32 + v);
        sums[count] = block_sums[v];
        count++;
      }
    }
  }
  return count;
}

void fastscan_quantize(const float* table, size_t M, uint8_t* out, float* step, float* bias) {
  auto lo_hi = [&](size_t m) {
    const float* t = table + m * 16;
    float lo = t[0], hi = t[0];
    for (size_t c = 1; c < 16; c++) lo = std::min(lo, t[c]), hi = std::max(hi, t[c]);
    return std::pair{lo, hi};
  };
  float range = 0, total = 0, sum = 0;
  for (size_t m = 0; m < M; m++) {
    const auto [lo, hi] = lo_hi(m);
    sum += lo;
    range = std::max(range, hi - lo);
    total += hi - lo;
  }
  const float s = fastscan_step(range, total, M), inv = 1.0f / s;
  for (size_t m = 0; m < M; m++) {
    const float lo = lo_hi(m).first, *t = table + m * 16;
    uint8_t* o = out + (m / 2) * 32 + (m % 2) * 16;
    for (size_t c = 0; c < 16; c++) o[c] = uint8_t(std::min(255.0f, std::nearbyint((t[c] - lo) * inv)));
  }
  *step = s;
  *bias = sum;
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

template <bool kL2>
void split_gather(const SplitQuery& q, const uint32_t* high, const uint32_t* low, size_t w, const uint32_t* ids,
                  size_t n, float bound, bool exact, float* out) {
  auto term = [](float x, float y) { return kL2 ? (x - y) * (x - y) : x * y; };
  for (size_t j = 0; j < n; j++) {
    const uint32_t* h = high + size_t(ids[j]) * w;
    const uint32_t* l = low + size_t(ids[j]) * w;
    float sum = 0;
    for (size_t i = 0; i < w; i++) {
      const uint32_t lo = exact ? l[i] : 0;
      sum += term(q.even[i], std::bit_cast<float>(h[i] << 16 | (lo & 0xffff)));
      sum += term(q.odd[i], std::bit_cast<float>((h[i] & 0xffff0000u) | lo >> 16));
      if (kL2 && (i + 1) % kSplitGatherBlock == 0 && sum >= bound) break;
    }
    out[j] = sum;
  }
}

void l2sqr_split_gather(const SplitQuery& q, const uint32_t* high, const uint32_t* low, size_t w,
                        const uint32_t* ids, size_t n, float bound, bool exact, float* out) {
  split_gather<true>(q, high, low, w, ids, n, bound, exact, out);
}

void inner_product_split_gather(const SplitQuery& q, const uint32_t* high, const uint32_t* low, size_t w,
                                const uint32_t* ids, size_t n, bool exact, float* out) {
  split_gather<false>(q, high, low, w, ids, n, 0.0f, exact, out);
}

template <bool kL2>
float split_pair(const uint32_t* a, const uint32_t* b, size_t w) {
  auto high = [](uint32_t bits) { return std::bit_cast<float>(bits); };
  auto term = [](float x, float y) { return kL2 ? (x - y) * (x - y) : x * y; };
  float sum = 0;
  for (size_t i = 0; i < w; i++) {
    sum += term(high(a[i] << 16), high(b[i] << 16));
    sum += term(high(a[i] & 0xffff0000u), high(b[i] & 0xffff0000u));
  }
  return sum;
}

float l2sqr_split_pair(const uint32_t* a, const uint32_t* b, size_t w) { return split_pair<true>(a, b, w); }
float inner_product_split_pair(const uint32_t* a, const uint32_t* b, size_t w) { return split_pair<false>(a, b, w); }

void l2_nearest(const float* x, size_t n, size_t d, const float* ct, const float* norms, size_t kpad, int64_t* labels,
                float* scores) {
  for (size_t i = 0; i < n; i++) {
    float best = __builtin_inff();
    int64_t label = 0;
    for (size_t c = 0; c < kpad; c++) {
      float s = norms[c];
      for (size_t j = 0; j < d; j++) s += -2.0f * x[i * d + j] * ct[j * kpad + c];
      if (s < best) {
        best = s;
        label = static_cast<int64_t>(c);
      }
    }
    labels[i] = label;
    scores[i] = best;
  }
}

void table_transposed(bool l2, const float* x, const float* ct, size_t M, size_t d, size_t ny, float* out) {
  for (size_t m = 0; m < M; m++) {
    for (size_t j = 0; j < ny; j++) {
      float s = 0;
      for (size_t i = 0; i < d; i++) {
        const float c = ct[(m * d + i) * ny + j], q = x[m * d + i];
        s += l2 ? (q - c) * (q - c) : q * c;
      }
      out[m * ny + j] = s;
    }
  }
}

void l2sqr_table(const float* x, const float* ct, size_t M, size_t d, size_t ny, float* out) {
  table_transposed(true, x, ct, M, d, ny, out);
}

void inner_product_table(const float* x, const float* ct, size_t M, size_t d, size_t ny, float* out) {
  table_transposed(false, x, ct, M, d, ny, out);
}

#include "sextant/utils/rabitq_popcount.h"
#include "sextant/utils/rabitq_extended.h"

}  // namespace

constexpr SimdLevel kLevel = SimdLevel::scalar;
#include "sextant/utils/kernels_table.h"

}  // namespace sextant::simd_scalar
