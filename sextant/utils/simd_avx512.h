// 16 x float32 in one AVX-512 register. Include only from translation units
// built with -mavx512f (and friends), inside their own namespace.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

struct Vec {
  static constexpr size_t N = 16;
  __m512 v;

  static Vec zero() { return {_mm512_setzero_ps()}; }
  static Vec set1(float a) { return {_mm512_set1_ps(a)}; }
  static Vec load(const float* p) { return {_mm512_loadu_ps(p)}; }
  /// Loads the first n < N floats at p (never touching p[n..]), zeros above.
  static Vec load_tail(const float* p, size_t n) {
    return {_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p)};
  }
  void store(float* p) const { _mm512_storeu_ps(p, v); }

  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
  /// a * b + c
  friend Vec fmadd(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }

  float sum() const { return _mm512_reduce_add_ps(v); }
  /// Bit i set when lane i < t.
  uint32_t less_mask(Vec t) const { return _mm512_cmp_ps_mask(v, t.v, _CMP_LT_OQ); }
};
