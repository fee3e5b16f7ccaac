// RaBitQ's popcount scoring (impl/RaBitQuantizer.h), written once. Each ISA
// translation unit includes this file inside its own namespace: the vector
// levels are built with -mpopcnt, so the same loop runs on the POPCNT
// instruction there and on libgcc's bit arithmetic in the scalar reference;
// the AVX-512 level counts 64 bytes of a code at a time.
// No standard-library templates (see kernels_simd.h).
#pragma once

#include <cstddef>
#include <cstdint>
#ifdef __AVX512BW__
#include <immintrin.h>
#endif

// Word w of a code's bits_size bytes of bits, the last one zero-padded.
inline uint64_t rabitq_word(const uint8_t* bits, size_t bits_size, size_t w) {
  uint64_t word = 0;
  const size_t bytes = bits_size - 8 * w < 8 ? bits_size - 8 * w : 8;
  __builtin_memcpy(&word, bits + 8 * w, bytes);
  return word;
}

// kPlanes planes known at compile time: the planes loop unrolls, one
// accumulator each. Whole words are plain 8-byte loads; only a last partial
// word goes through rabitq_word.
template <size_t kPlanes>
inline void rabitq_popcounts_planes(const uint8_t* codes, size_t n, size_t code_size, size_t bits_size,
                                    const uint64_t* planes, size_t words, uint32_t* dots, uint32_t* counts) {
  const size_t full = bits_size / 8;
  for (size_t i = 0; i < n; i++) {
    const uint8_t* bits = codes + i * code_size;
    uint64_t count = 0, plane_counts[kPlanes] = {};
    auto add = [&](uint64_t word, size_t w) {
      count += uint64_t(__builtin_popcountll(word));
      for (size_t p = 0; p < kPlanes; p++) plane_counts[p] += uint64_t(__builtin_popcountll(word & planes[p * words + w]));
    };
    for (size_t w = 0; w < full; w++) {
      uint64_t word;
      __builtin_memcpy(&word, bits + 8 * w, 8);
      add(word, w);
    }
    if (full < words) add(rabitq_word(bits, bits_size, full), full);
    uint64_t dot = 0;
    for (size_t p = 0; p < kPlanes; p++) dot += plane_counts[p] << p;
    dots[i] = uint32_t(dot);
    counts[i] = uint32_t(count);
  }
}

#ifdef __AVX512BW__
// 64 bytes' popcounts: one instruction with BITALG, else a 16-entry table of
// nibble counts (1.5x slower RaBitQ scans at d = 784).
inline __m512i rabitq_popcount_bytes(__m512i v) {
#ifdef __AVX512BITALG__
  return _mm512_popcnt_epi8(v);
#else
  const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  return _mm512_add_epi8(_mm512_shuffle_epi8(table, _mm512_and_si512(v, low4)),
                         _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), low4)));
#endif
}

// 64 bytes of a code at a time: a byte's weighted count over 4 planes, the
// sum over p of popcount(byte & plane p) << p, stays below 8 * 15 = 120, so
// planes add up in bytes, 4 at a time, before one sum of bytes per 64 (3x
// fewer instructions than the word loop at d = 784).
template <size_t kPlanes>
inline void rabitq_popcounts_wide(const uint8_t* codes, size_t n, size_t code_size, size_t bits_size,
                                  const uint64_t* planes, size_t words, uint32_t* dots, uint32_t* counts) {
  const __m512i zero = _mm512_setzero_si512();
  const uint8_t* plane_bytes = reinterpret_cast<const uint8_t*>(planes);
  for (size_t i = 0; i < n; i++) {
    const uint8_t* bits = codes + i * code_size;
    __m512i dot = zero, count = zero;
    for (size_t c = 0; c < bits_size; c += 64) {
      const size_t len = bits_size - c < 64 ? bits_size - c : 64;
      const __mmask64 m = len == 64 ? ~__mmask64(0) : (__mmask64(1) << len) - 1;
      const __m512i b = _mm512_maskz_loadu_epi8(m, bits + c);
      for (size_t p0 = 0; p0 < kPlanes; p0 += 4) {
        __m512i weighted = zero;
        for (size_t p = p0; p < kPlanes && p < p0 + 4; p++) {
          const __m512i plane = _mm512_maskz_loadu_epi8(m, plane_bytes + p * words * 8 + c);
          // Counts are at most 8 (4 bits): shifting 16-bit lanes by < 4 keeps each in its byte.
          weighted = _mm512_add_epi8(weighted,
                                     _mm512_slli_epi16(rabitq_popcount_bytes(_mm512_and_si512(b, plane)), p - p0));
        }
        dot = _mm512_add_epi64(dot, _mm512_slli_epi64(_mm512_sad_epu8(weighted, zero), p0));
      }
      count = _mm512_add_epi64(count, _mm512_sad_epu8(rabitq_popcount_bytes(b), zero));
    }
    dots[i] = uint32_t(_mm512_reduce_add_epi64(dot));
    counts[i] = uint32_t(_mm512_reduce_add_epi64(count));
  }
}
#endif

// One instantiation per plane count, 1 to 8 (Scorer passes qb > 0): the
// 64-byte path where AVX-512BW runs, the word loop elsewhere.
template <size_t kPlanes>
inline void rabitq_popcounts_fixed(const uint8_t* codes, size_t n, size_t code_size, size_t bits_size,
                                   const uint64_t* planes, size_t words, uint32_t* dots, uint32_t* counts) {
#ifdef __AVX512BW__
  rabitq_popcounts_wide<kPlanes>(codes, n, code_size, bits_size, planes, words, dots, counts);
#else
  rabitq_popcounts_planes<kPlanes>(codes, n, code_size, bits_size, planes, words, dots, counts);
#endif
}

void rabitq_popcounts(const uint8_t* codes, size_t n, size_t code_size, size_t bits_size, const uint64_t* planes,
                      size_t words, size_t nplanes, uint32_t* dots, uint32_t* counts) {
  using Fn = void (*)(const uint8_t*, size_t, size_t, size_t, const uint64_t*, size_t, uint32_t*, uint32_t*);
  constexpr Fn kByPlanes[] = {rabitq_popcounts_fixed<1>, rabitq_popcounts_fixed<2>, rabitq_popcounts_fixed<3>,
                              rabitq_popcounts_fixed<4>, rabitq_popcounts_fixed<5>, rabitq_popcounts_fixed<6>,
                              rabitq_popcounts_fixed<7>, rabitq_popcounts_fixed<8>};
  kByPlanes[nplanes - 1](codes, n, code_size, bits_size, planes, words, dots, counts);
}
