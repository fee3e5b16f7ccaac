// 16 x float32 in one AVX-512 register. Include only from translation units
// built with -mavx512f (and friends), inside their own namespace.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

struct Vec {
  static constexpr size_t N = 16;
  /// Rows distances_rows takes at a time: 4 accumulators each, 16 of 32 registers
  /// (more gain nothing: the loads then run at the L2 cache's bandwidth).
  static constexpr size_t kRows = 4;
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
  /// c - a * b
  friend Vec fnmadd(Vec a, Vec b, Vec c) { return {_mm512_fnmadd_ps(a.v, b.v, c.v)}; }
  friend Vec lanes_min(Vec a, Vec b) { return {_mm512_min_ps(a.v, b.v)}; }
  friend Vec lanes_max(Vec a, Vec b) { return {_mm512_max_ps(a.v, b.v)}; }

  // Decoders of N scalar-quantizer components starting at p (see sq_codecs.h).
  static Vec from_int(__m512i i) { return {_mm512_cvtepi32_ps(i)}; }
  static Vec load_u8(const uint8_t* p) {
    return from_int(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static Vec load_u4(const uint8_t* p) {
    const __m128i twice = _mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                                           _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7));
    const __m512i shifts = _mm512_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4);
    const __m512i shifted = _mm512_srlv_epi32(_mm512_cvtepu8_epi32(twice), shifts);
    return from_int(_mm512_and_si512(shifted, _mm512_set1_epi32(15)));
  }
  static Vec load_u6(const uint8_t* p) {  // two groups of 8 components in 6 bytes each
    uint64_t w0 = 0, w1 = 0;
    std::memcpy(&w0, p, 6);
    std::memcpy(&w1, p + 6, 6);
    const int a = static_cast<int>(w0 & 0xffffff), b = static_cast<int>((w0 >> 24) & 0xffffff);
    const int c = static_cast<int>(w1 & 0xffffff), e = static_cast<int>((w1 >> 24) & 0xffffff);
    const __m512i words = _mm512_setr_epi32(a, a, a, a, b, b, b, b, c, c, c, c, e, e, e, e);
    const __m512i shifts = _mm512_setr_epi32(0, 6, 12, 18, 0, 6, 12, 18, 0, 6, 12, 18, 0, 6, 12, 18);
    return from_int(_mm512_and_si512(_mm512_srlv_epi32(words, shifts), _mm512_set1_epi32(63)));
  }
  static Vec load_fp16(const uint8_t* p) {
    return {_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))};
  }
  static Vec load_bf16(const uint8_t* p) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(wide, 16))};
  }

  // Split rows (FlatGraphStorage): see simd_avx2.h.
  static __m512i load_words(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static __m512i load_words(const uint32_t* p, size_t n) {
    return _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << n) - 1), p);
  }
  static void from_high_halves(__m512i h, Vec& even, Vec& odd) {
    even = {_mm512_castsi512_ps(_mm512_slli_epi32(h, 16))};
    odd = {_mm512_castsi512_ps(_mm512_and_si512(h, _mm512_set1_epi32(static_cast<int>(0xffff0000u))))};
  }
  static void from_halves(__m512i h, __m512i l, Vec& even, Vec& odd) {
    const __m512i low16 = _mm512_set1_epi32(0xffff);
    even = {_mm512_castsi512_ps(_mm512_or_si512(_mm512_slli_epi32(h, 16), _mm512_and_si512(l, low16)))};
    odd = {_mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(low16, h), _mm512_srli_epi32(l, 16)))};
  }

  /// The sum of the lanes: halves added down to four lanes t, then
  /// (t0 + t2) + (t1 + t3), the order of simd_avx2.h's sum().
  float min() const { return _mm512_reduce_min_ps(v); }
  float max() const { return _mm512_reduce_max_ps(v); }
  float sum() const {
    const __m256 h = _mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
    __m128 t = _mm_add_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
  }
  /// out[i] = the sum() of the i-th argument, the same bits, with the
  /// shuffles shared: each 128-bit lane of the intermediate holds one vector's.
  static void sum4(Vec a, Vec b, Vec c, Vec d, float* out) {
    auto halves = [](__m512 x, __m512 y) {  // [x.hi256 + x.lo256 | y.hi256 + y.lo256]
      return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0xEE), _mm512_shuffle_f32x4(x, y, 0x44));
    };
    const __m512 ab = halves(a.v, b.v), cd = halves(c.v, d.v);
    // Lane i: the four lanes t of vector i.
    __m512 t = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0xDD), _mm512_shuffle_f32x4(ab, cd, 0x88));
    t = _mm512_add_ps(t, _mm512_permute_ps(t, 0xEE));  // t0 + t2, t1 + t3
    t = _mm512_add_ps(t, _mm512_permute_ps(t, 0x55));  // (t0 + t2) + (t1 + t3)
    const __m512 first = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), t);
    _mm_storeu_ps(out, _mm512_castps512_ps128(first));
  }
  /// Bit i set when lane i < t.
  uint32_t less_mask(Vec t) const { return _mm512_cmp_ps_mask(v, t.v, _CMP_LT_OQ); }
  /// Lane i of `then` where a[i] < b[i], else lane i of `otherwise`.
  friend Vec select_less(Vec a, Vec b, Vec then, Vec otherwise) {
    return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ), otherwise.v, then.v)};
  }
};
