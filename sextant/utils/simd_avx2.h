// 8 x float32 in one AVX2 register. Include only from translation units built
// with -mavx2 -mfma, inside their own namespace.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

struct Vec {
  static constexpr size_t N = 8;
  __m256 v;

  static Vec zero() { return {_mm256_setzero_ps()}; }
  static Vec set1(float a) { return {_mm256_set1_ps(a)}; }
  static Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
  /// Loads the first n < N floats at p (never touching p[n..]), zeros above.
  static Vec load_tail(const float* p, size_t n) {
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lanes);
    return {_mm256_maskload_ps(p, mask)};
  }
  void store(float* p) const { _mm256_storeu_ps(p, v); }

  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
  /// a * b + c
  friend Vec fmadd(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }

  float sum() const {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  /// Bit i set when lane i < t.
  uint32_t less_mask(Vec t) const {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, t.v, _CMP_LT_OQ)));
  }
};
