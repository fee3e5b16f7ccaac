// RaBitQ's multi-bit estimate (impl/RaBitQuantizer.h), written once. Each ISA
// translation unit includes this file inside its own namespace; where AVX2
// runs, 8 dimensions are unpacked a step from one 8-byte load, else one by one.
// No standard-library templates (see kernels_simd.h).
#pragma once

#include <cstddef>
#include <cstdint>
#ifdef __AVX2__
#include <immintrin.h>
#endif

// Dimension j's value (sign << e) | stored: its e bits at bit j e of packed.
inline uint32_t rabitq_extended_value(const uint8_t* signs, const uint8_t* packed, size_t e, size_t j) {
  const size_t at = j * e;
  uint64_t window;
  __builtin_memcpy(&window, packed + at / 8, 8);
  const uint32_t stored = uint32_t((window >> (at % 8)) & ((uint64_t(1) << e) - 1));
  return (uint32_t((signs[j / 8] >> (j % 8)) & 1) << e) | stored;
}

float rabitq_extended_dot(const uint8_t* signs, const uint8_t* packed, size_t e, const float* r, size_t d) {
  float sum = 0;
  size_t j = 0;
#ifdef __AVX2__
  // 8 dimensions hold e bytes: broadcast, lane i takes the (at most) two bytes
  // holding its bits [i e, i e + e) and shifts them down; a byte past the 8
  // loaded (index 8 would wrap to byte 0) is never needed, so it reads as zero.
  alignas(32) int8_t pick[32];
  alignas(32) int32_t shift[8];
  for (size_t i = 0; i < 8; i++) {
    const size_t byte = i * e / 8;
    pick[4 * i] = int8_t(byte);
    pick[4 * i + 1] = byte + 1 < 8 ? int8_t(byte + 1) : int8_t(-1);
    pick[4 * i + 2] = pick[4 * i + 3] = -1;
    shift[i] = int32_t(i * e % 8);
  }
  const __m256i picks = _mm256_load_si256(reinterpret_cast<const __m256i*>(pick));
  const __m256i shifts = _mm256_load_si256(reinterpret_cast<const __m256i*>(shift));
  const __m256i mask = _mm256_set1_epi32((1 << e) - 1), sign_value = _mm256_set1_epi32(1 << e);
  const __m256i sign_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  __m256 acc = _mm256_setzero_ps();
  for (; j + 8 <= d; j += 8) {
    uint64_t eight;
    __builtin_memcpy(&eight, packed + j / 8 * e, 8);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi64x(int64_t(eight)), picks);
    v = _mm256_and_si256(_mm256_srlv_epi32(v, shifts), mask);
    const __m256i signs8 = _mm256_and_si256(_mm256_set1_epi32(signs[j / 8]), sign_bits);
    v = _mm256_or_si256(v, _mm256_and_si256(_mm256_cmpeq_epi32(signs8, sign_bits), sign_value));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(r + j), acc);
  }
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  sum = _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
#endif
  for (; j < d; j++) sum += r[j] * float(rabitq_extended_value(signs, packed, e, j));
  return sum;
}
