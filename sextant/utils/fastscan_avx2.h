// 4-bit PQ fast-scan with AVX2 byte shuffles: one shuffle looks up 32 codes
// in a 16-entry table. Included inside an ISA namespace by the AVX2 and the
// AVX-512 kernel units (AVX-512 machines run it with EVEX encodings).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

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
