// 4-bit PQ fast-scan with AVX2 byte shuffles: one shuffle looks up 32 codes
// in a 16-entry table. Included inside an ISA namespace by the AVX2 and the
// AVX-512 kernel units (AVX-512 machines run it with EVEX encodings).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

/// Kernels::fastscan_quantize: each sub-quantizer's 16 entries are two
/// vectors; minima and maxima are exact, so they match the scalar reference,
/// and the conversion rounds to nearest even like std::nearbyint.
inline void fastscan_quantize(const float* table, size_t M, uint8_t* out, float* step, float* bias) {
  auto hmin = [](__m256 v) {
    __m128 x = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_min_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_min_ss(x, _mm_shuffle_ps(x, x, 1)));
  };
  auto hmax = [](__m256 v) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_max_ss(x, _mm_shuffle_ps(x, x, 1)));
  };
  float range = 0, total = 0, sum = 0;
  for (size_t m = 0; m < M; m++) {
    const __m256 a = _mm256_loadu_ps(table + m * 16), b = _mm256_loadu_ps(table + m * 16 + 8);
    const float lo = hmin(_mm256_min_ps(a, b)), span = hmax(_mm256_max_ps(a, b)) - lo;
    sum += lo;
    range = std::max(range, span);
    total += span;
  }
  const float s = fastscan_step(range, total, M);
  const __m256 inv = _mm256_set1_ps(1.0f / s);
  const __m256i cap = _mm256_set1_epi32(255);
  for (size_t m = 0; m < M; m++) {
    const __m256 a = _mm256_loadu_ps(table + m * 16), b = _mm256_loadu_ps(table + m * 16 + 8);
    const __m256 lo = _mm256_set1_ps(hmin(_mm256_min_ps(a, b)));
    const __m256i qa = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(a, lo), inv)), cap);
    const __m256i qb = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(b, lo), inv)), cap);
    const __m128i wa = _mm_packus_epi32(_mm256_castsi256_si128(qa), _mm256_extracti128_si256(qa, 1));
    const __m128i wb = _mm_packus_epi32(_mm256_castsi256_si128(qb), _mm256_extracti128_si256(qb, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (m / 2) * 32 + (m % 2) * 16), _mm_packus_epi16(wa, wb));
  }
  *step = s;
  *bias = sum;
}

inline size_t fastscan_collect(const uint8_t* blocks, size_t nblocks, size_t npairs, const uint8_t* luts,
                               uint16_t threshold, uint32_t* idx, uint16_t* sums) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i thr = _mm256_set1_epi16(static_cast<short>(threshold));
  alignas(32) uint16_t lanes[32];
  size_t count = 0;
  for (size_t b = 0; b < nblocks; b++) {
    const uint8_t* block = blocks + b * npairs * 32;
    // acc0: vectors 0-7, acc1: 8-15, acc2: 16-23, acc3: 24-31; each 128-bit
    // half holds one sub-quantizer of the pair, added together at the end.
    __m256i acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
    for (size_t p = 0; p < npairs; p++) {
      const __m256i codes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + p * 32));
      const __m256i lut = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(luts + p * 32));
      const __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(codes, low4));
      const __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(codes, 4), low4));
      acc0 = _mm256_add_epi16(acc0, _mm256_unpacklo_epi8(lo, zero));
      acc1 = _mm256_add_epi16(acc1, _mm256_unpackhi_epi8(lo, zero));
      acc2 = _mm256_add_epi16(acc2, _mm256_unpacklo_epi8(hi, zero));
      acc3 = _mm256_add_epi16(acc3, _mm256_unpackhi_epi8(hi, zero));
    }
    // Halves of each accumulator summed: s01 = vectors 0-15, s23 = vectors 16-31.
    const __m256i s01 = _mm256_add_epi16(_mm256_permute2x128_si256(acc0, acc1, 0x20),
                                         _mm256_permute2x128_si256(acc0, acc1, 0x31));
    const __m256i s23 = _mm256_add_epi16(_mm256_permute2x128_si256(acc2, acc3, 0x20),
                                         _mm256_permute2x128_si256(acc2, acc3, 0x31));
    // Unsigned a <= t  <=>  min(a, t) == a.
    const __m256i le01 = _mm256_cmpeq_epi16(_mm256_min_epu16(s01, thr), s01);
    const __m256i le23 = _mm256_cmpeq_epi16(_mm256_min_epu16(s23, thr), s23);
    const __m256i bytes = _mm256_permute4x64_epi64(_mm256_packs_epi16(le01, le23), 0xd8);
    uint32_t mask = static_cast<uint32_t>(_mm256_movemask_epi8(bytes));
    if (mask == 0) continue;
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s01);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 16), s23);
    while (mask) {
      const unsigned v = static_cast<unsigned>(__builtin_ctz(mask));
      idx[count] = static_cast<uint32_t>(b * 32 + v);
      sums[count] = lanes[v];
      count++;
      mask &= mask - 1;
    }
  }
  return count;
}
