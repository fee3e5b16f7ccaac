// 4-bit PQ fast-scan with byte shuffles: one shuffle looks up 32 codes in a
// 16-entry table. Included inside an ISA namespace by the AVX2 and the AVX-512
// kernel units; the AVX-512 unit runs the pairs loop on 512-bit registers, two
// pairs a step.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

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
  // Each sub-quantizer's lowest entry waits in its own 16 output bytes
  // between the passes (the second overwrites them): one reduction less.
  float range = 0, total = 0, sum = 0;
  for (size_t m = 0; m < M; m++) {
    const __m256 a = _mm256_loadu_ps(table + m * 16), b = _mm256_loadu_ps(table + m * 16 + 8);
    const float lo = hmin(_mm256_min_ps(a, b)), span = hmax(_mm256_max_ps(a, b)) - lo;
    std::memcpy(out + (m / 2) * 32 + (m % 2) * 16, &lo, sizeof(lo));
    sum += lo;
    range = std::max(range, span);
    total += span;
  }
  const float s = fastscan_step(range, total, M);
  const __m256 inv = _mm256_set1_ps(1.0f / s);
  const __m256i cap = _mm256_set1_epi32(255);
  for (size_t m = 0; m < M; m++) {
    const __m256 a = _mm256_loadu_ps(table + m * 16), b = _mm256_loadu_ps(table + m * 16 + 8);
    float lo_m;
    std::memcpy(&lo_m, out + (m / 2) * 32 + (m % 2) * 16, sizeof(lo_m));
    const __m256 lo = _mm256_set1_ps(lo_m);
    const __m256i qa = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(a, lo), inv)), cap);
    const __m256i qb = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(b, lo), inv)), cap);
    const __m128i wa = _mm_packus_epi32(_mm256_castsi256_si128(qa), _mm256_extracti128_si256(qa, 1));
    const __m128i wb = _mm_packus_epi32(_mm256_castsi256_si128(qb), _mm256_extracti128_si256(qb, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (m / 2) * 32 + (m % 2) * 16), _mm_packus_epi16(wa, wb));
  }
  *step = s;
  *bias = sum;
}

// Per block, four 16-bit accumulators: for the low nibbles (vectors 0-15) and
// the high ones (16-31), `a` adds the looked-up bytes as 16-bit words (even
// vector + 256 x odd vector, modulo 2^16) and `b` the odd vectors' bytes alone,
// so that no byte is unpacked in the loop: even = a - 256 b at the end, exact
// because every true sum is below 2^16 (fastscan_step). Each 128-bit lane
// holds one sub-quantizer; lanes are added at the end.
struct FastScanSums {
  __m256i lo_a, lo_b, hi_a, hi_b;
};

inline void fastscan_add(FastScanSums& s, __m256i codes, __m256i lut) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(codes, low4));
  const __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(codes, 4), low4));
  s.lo_a = _mm256_add_epi16(s.lo_a, lo);
  s.lo_b = _mm256_add_epi16(s.lo_b, _mm256_srli_epi16(lo, 8));
  s.hi_a = _mm256_add_epi16(s.hi_a, hi);
  s.hi_b = _mm256_add_epi16(s.hi_b, _mm256_srli_epi16(hi, 8));
}

#ifdef __AVX512BW__
struct FastScanSums512 {
  __m512i lo_a, lo_b, hi_a, hi_b;
};

inline void fastscan_add(FastScanSums512& s, __m512i codes, __m512i lut) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i lo = _mm512_shuffle_epi8(lut, _mm512_and_si512(codes, low4));
  const __m512i hi = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(codes, 4), low4));
  s.lo_a = _mm512_add_epi16(s.lo_a, lo);
  s.lo_b = _mm512_add_epi16(s.lo_b, _mm512_srli_epi16(lo, 8));
  s.hi_a = _mm512_add_epi16(s.hi_a, hi);
  s.hi_b = _mm512_add_epi16(s.hi_b, _mm512_srli_epi16(hi, 8));
}

// Lanes 0 + 2 and 1 + 3: the same sums on 256 bits.
inline FastScanSums fastscan_fold(const FastScanSums512& s) {
  auto fold = [](__m512i v) { return _mm256_add_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)); };
  return {fold(s.lo_a), fold(s.lo_b), fold(s.hi_a), fold(s.hi_b)};
}
#endif

// All pairs of one block.
inline FastScanSums fastscan_block(const uint8_t* block, size_t npairs, const uint8_t* luts) {
  size_t p = 0;
#ifdef __AVX512BW__
  const __m512i zero = _mm512_setzero_si512();
  FastScanSums512 wide{zero, zero, zero, zero};
  for (; p + 2 <= npairs; p += 2) {
    fastscan_add(wide, _mm512_loadu_si512(block + p * 32), _mm512_loadu_si512(luts + p * 32));
  }
  FastScanSums s = fastscan_fold(wide);
#else
  const __m256i zero = _mm256_setzero_si256();
  FastScanSums s{zero, zero, zero, zero};
#endif
  for (; p < npairs; p++) {
    fastscan_add(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + p * 32)),
                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(luts + p * 32)));
  }
  return s;
}

// The block's sums in vector order: vectors 0-15 in s01, 16-31 in s23.
struct FastScanOrdered {
  __m256i s01, s23;
};

inline FastScanOrdered fastscan_ordered(const uint8_t* block, size_t npairs, const uint8_t* luts) {
  const FastScanSums s = fastscan_block(block, npairs, luts);
  const __m256i lo_even = _mm256_sub_epi16(s.lo_a, _mm256_slli_epi16(s.lo_b, 8));
  const __m256i hi_even = _mm256_sub_epi16(s.hi_a, _mm256_slli_epi16(s.hi_b, 8));
  // The two sub-quantizers' lanes added: lane 0 for vectors 0-15, lane 1 for 16-31.
  const __m256i even = _mm256_add_epi16(_mm256_permute2x128_si256(lo_even, hi_even, 0x20),
                                        _mm256_permute2x128_si256(lo_even, hi_even, 0x31));
  const __m256i odd = _mm256_add_epi16(_mm256_permute2x128_si256(s.lo_b, s.hi_b, 0x20),
                                       _mm256_permute2x128_si256(s.lo_b, s.hi_b, 0x31));
  // Interleaved back into vector order: vectors 0-7 | 16-23, and 8-15 | 24-31.
  const __m256i first = _mm256_unpacklo_epi16(even, odd), second = _mm256_unpackhi_epi16(even, odd);
  return {_mm256_permute2x128_si256(first, second, 0x20), _mm256_permute2x128_si256(first, second, 0x31)};
}

inline void fastscan_sums(const uint8_t* block, size_t npairs, const uint8_t* luts, uint16_t* sums) {
  const FastScanOrdered s = fastscan_ordered(block, npairs, luts);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums), s.s01);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums + 16), s.s23);
}

inline size_t fastscan_collect(const uint8_t* blocks, size_t nblocks, size_t npairs, const uint8_t* luts,
                               uint16_t threshold, uint32_t* idx, uint16_t* sums) {
  const __m256i thr = _mm256_set1_epi16(static_cast<short>(threshold));
  alignas(32) uint16_t lanes[32];
  size_t count = 0;
  for (size_t b = 0; b < nblocks; b++) {
    const auto [s01, s23] = fastscan_ordered(blocks + b * npairs * 32, npairs, luts);
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
