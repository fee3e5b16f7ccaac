// 8 x float32 in one AVX2 register. Include only from translation units built
// with -mavx2 -mfma, inside their own namespace.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

struct Vec {
  static constexpr size_t N = 8;
  /// Rows distances_rows takes at a time: 4 accumulators each, 12 of 16 registers.
  static constexpr size_t kRows = 3;
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
  /// c - a * b
  friend Vec fnmadd(Vec a, Vec b, Vec c) { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }
  friend Vec lanes_min(Vec a, Vec b) { return {_mm256_min_ps(a.v, b.v)}; }
  friend Vec lanes_max(Vec a, Vec b) { return {_mm256_max_ps(a.v, b.v)}; }

  // Decoders of N scalar-quantizer components starting at p (see sq_codecs.h).
  static Vec from_int(__m256i i) { return {_mm256_cvtepi32_ps(i)}; }
  static Vec load_u8(const uint8_t* p) {
    return from_int(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static Vec load_u4(const uint8_t* p) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    const __m128i twice = _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(w)),
                                           _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0));
    const __m256i shifted = _mm256_srlv_epi32(_mm256_cvtepu8_epi32(twice), _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4));
    return from_int(_mm256_and_si256(shifted, _mm256_set1_epi32(15)));
  }
  static Vec load_u6(const uint8_t* p) {
    uint64_t w = 0;
    std::memcpy(&w, p, 6);
    const int lo = static_cast<int>(w & 0xffffff), hi = static_cast<int>((w >> 24) & 0xffffff);
    const __m256i shifted = _mm256_srlv_epi32(_mm256_setr_epi32(lo, lo, lo, lo, hi, hi, hi, hi),
                                              _mm256_setr_epi32(0, 6, 12, 18, 0, 6, 12, 18));
    return from_int(_mm256_and_si256(shifted, _mm256_set1_epi32(63)));
  }
  static Vec load_fp16(const uint8_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))};
  }
  static Vec load_bf16(const uint8_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(wide, 16))};
  }

  // Split rows (FlatGraphStorage): word i of a row's high halves holds the top
  // 16 bits of elements 2i (low half of the word) and 2i + 1 (high half); the
  // low halves' words hold their bottom 16 bits the same way.
  static __m256i load_words(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  /// The first n < N words at p (never touching p[n..]), zeros above.
  static __m256i load_words(const uint32_t* p, size_t n) {
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lanes);
    return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), mask);
  }
  /// Elements 2i and 2i + 1 truncated to their high halves (low mantissa bits zero).
  static void from_high_halves(__m256i h, Vec& even, Vec& odd) {
    even = {_mm256_castsi256_ps(_mm256_slli_epi32(h, 16))};
    odd = {_mm256_castsi256_ps(_mm256_and_si256(h, _mm256_set1_epi32(static_cast<int>(0xffff0000u))))};
  }
  /// Elements 2i and 2i + 1 exactly, from both halves.
  static void from_halves(__m256i h, __m256i l, Vec& even, Vec& odd) {
    const __m256i low16 = _mm256_set1_epi32(0xffff);
    even = {_mm256_castsi256_ps(_mm256_or_si256(_mm256_slli_epi32(h, 16), _mm256_and_si256(l, low16)))};
    odd = {_mm256_castsi256_ps(_mm256_or_si256(_mm256_andnot_si256(low16, h), _mm256_srli_epi32(l, 16)))};
  }

  /// The sum of the lanes: halves added to four lanes t, then (t0 + t2) + (t1 + t3).
  float min() const {
    __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_min_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_min_ss(s, _mm_movehdup_ps(s)));
  }
  float max() const {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
  }
  float sum() const {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  /// out[i] = the sum() of the i-th argument, the same bits, with the
  /// shuffles shared: each 128-bit lane of the intermediate holds one vector's.
  static void sum4(Vec a, Vec b, Vec c, Vec d, float* out) {
    auto halves = [](__m256 x, __m256 y) {  // [x.lo128 + x.hi128 | y.lo128 + y.hi128]
      return _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
    };
    auto finish = [](__m256 t) {
      t = _mm256_add_ps(t, _mm256_permute_ps(t, 0xEE));     // t0 + t2, t1 + t3
      return _mm256_add_ps(t, _mm256_permute_ps(t, 0x55));  // (t0 + t2) + (t1 + t3)
    };
    const __m256 ab = finish(halves(a.v, b.v)), cd = finish(halves(c.v, d.v));
    // Element 0 of each lane: [a a c c | b b d d], then a b c d.
    const __m256 firsts = _mm256_shuffle_ps(ab, cd, 0);
    _mm_storeu_ps(out, _mm256_castps256_ps128(_mm256_permutevar8x32_ps(firsts, _mm256_setr_epi32(0, 4, 2, 6, 0, 0, 0, 0))));
  }
  /// Bit i set when lane i < t.
  uint32_t less_mask(Vec t) const {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, t.v, _CMP_LT_OQ)));
  }
  /// Lane i of `then` where a[i] < b[i], else lane i of `otherwise`.
  friend Vec select_less(Vec a, Vec b, Vec then, Vec otherwise) {
    return {_mm256_blendv_ps(otherwise.v, then.v, _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ))};
  }
};
