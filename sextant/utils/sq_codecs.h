// Scalar encodings of one vector component, shared by the scalar quantizer
// and its kernels. Every function is `static inline` on purpose: each
// translation unit (some built with wider instruction sets) gets its own
// private copy, so no copy compiled with AVX-512 can be shared with callers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sextant {

/// Layouts of scalar-quantizer codes.
enum SQCodec : int {
  kSQ8bit,   ///< one byte per component
  kSQ6bit,   ///< 6 bits per component, a little-endian bit stream (4 components in 3 bytes)
  kSQ4bit,   ///< a nibble per component, even components in the low nibble
  kSQfp16,   ///< IEEE half precision
  kSQbf16,   ///< bfloat16 (upper half of a float32)
  kNumSQCodecs,
};

static inline size_t sq_code_size(SQCodec codec, size_t d) {
  switch (codec) {
    case kSQ8bit: return d;
    case kSQ6bit: return (d * 6 + 7) / 8;
    case kSQ4bit: return (d + 1) / 2;
    default: return 2 * d;
  }
}

static inline bool sq_is_integer(SQCodec codec) { return codec == kSQ8bit || codec == kSQ6bit || codec == kSQ4bit; }

/// Largest integer code of an integer codec.
static inline uint32_t sq_levels(SQCodec codec) { return codec == kSQ8bit ? 255 : codec == kSQ6bit ? 63 : 15; }

static inline float sq_half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    exp = 113;
    while (!(mant & 0x400)) {
      mant <<= 1;
      exp--;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Round to nearest even; overflow saturates to infinity.
static inline uint16_t sq_float_to_half(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs >= 0x7f800000u) return sign | (abs > 0x7f800000u ? 0x7e00 : 0x7c00);
  if (abs >= 0x477ff000u) return sign | 0x7c00;  // rounds past the largest half
  if (abs < 0x38800000u) {                         // result is subnormal or zero
    if (abs < 0x33000000u) return sign;
    const uint32_t exp = abs >> 23, mant = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - exp;  // 14 .. 24
    uint32_t half = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1))) half++;
    return sign | uint16_t(half);
  }
  uint32_t half = ((abs >> 23) - 112) << 10 | ((abs >> 13) & 0x3ff);
  const uint32_t rest = abs & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
  return sign | uint16_t(half);
}

static inline float sq_bf16_to_float(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Round to nearest even.
static inline uint16_t sq_float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);  // keep nan a nan
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

/// Integer code of component i.
static inline uint32_t sq_get(SQCodec codec, const uint8_t* code, size_t i) {
  switch (codec) {
    case kSQ8bit: return code[i];
    case kSQ4bit: return (code[i / 2] >> ((i & 1) * 4)) & 15;
    default: {  // 6 bit: bits 6i .. 6i+5 of the stream
      const size_t bit = 6 * i;
      uint32_t two = code[bit / 8];
      if (bit % 8 > 2) two |= uint32_t(code[bit / 8 + 1]) << 8;
      return (two >> (bit % 8)) & 63;
    }
  }
}

/// Stores integer code q for component i (the code must start zeroed).
static inline void sq_put(SQCodec codec, uint8_t* code, size_t i, uint32_t q) {
  switch (codec) {
    case kSQ8bit: code[i] = uint8_t(q); break;
    case kSQ4bit: code[i / 2] |= uint8_t(q << ((i & 1) * 4)); break;
    default: {
      const size_t bit = 6 * i;
      code[bit / 8] |= uint8_t(q << (bit % 8));
      if (bit % 8 > 2) code[bit / 8 + 1] |= uint8_t(q >> (8 - bit % 8));
    }
  }
}

/// Component i as a float: the integer code for integer codecs, the value for float codecs.
static inline float sq_value(SQCodec codec, const uint8_t* code, size_t i) {
  uint16_t h;
  switch (codec) {
    case kSQfp16: std::memcpy(&h, code + 2 * i, 2); return sq_half_to_float(h);
    case kSQbf16: std::memcpy(&h, code + 2 * i, 2); return sq_bf16_to_float(h);
    default: return float(sq_get(codec, code, i));
  }
}

}  // namespace sextant
