// Splitting fp32 values into two TF32 values (hi + lo) so that three TF32
// tensor-core products, hi*hi + hi*lo + lo*hi, give an fp32-accurate product
// (the dropped lo*lo term is ~2^-22 of it): fp32 exact search at tensor-core
// speed. Plain arithmetic, shared by the GPU kernel and the CPU tests.
#pragma once

#include <cstdint>

#include "gpu/select/OrderedKey.h"

namespace sextant::gpu {

/// x rounded to the nearest TF32 value (10 mantissa bits: the low 13 bits of
/// the fp32 pattern cleared), ties away from zero. Finite inputs.
SEXTANT_HD float round_to_tf32(float x) {
  uint32_t u = float_bits(x);
  u = (u + 0x1000u) & 0xFFFFE000u;
  return bits_float(u);
}

/// hi + lo == x to within 2^-22 |x|, both exactly representable in TF32.
SEXTANT_HD void split_tf32(float x, float& hi, float& lo) {
  hi = round_to_tf32(x);
  lo = round_to_tf32(x - hi);
}

}  // namespace sextant::gpu
