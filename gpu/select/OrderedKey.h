// Selection works on 64-bit "entries": an order-preserving 32-bit image of the
// float key in the high half and a 32-bit id in the low half. Comparing two
// entries as unsigned integers then compares keys, and on equal keys the ids,
// which gives the library's tie rule (smaller id wins) for free and makes every
// selection network a plain min/max network on one integer type.
#pragma once

#include <cstdint>
#include <cstring>

#include "gpu/select/HostDevice.h"

namespace sextant::gpu {

/// Entry that sorts after every real entry: NaN key and the largest id. Used
/// to pad queues and short rows; never returned as a result.
constexpr uint64_t kPadEntry = ~uint64_t{0};
/// The id of kPadEntry.
constexpr uint32_t kPadId = 0xFFFFFFFFu;

SEXTANT_HD uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

SEXTANT_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

/// Order-preserving image of a float: a < b  <=>  ordered_key(a) < ordered_key(b)
/// for non-NaN a, b. -0 and +0 map to the same value (they compare equal, so the
/// id must decide), and every NaN maps to the largest value: NaN ranks after
/// +inf, i.e. a NaN never beats a number.
SEXTANT_HD uint32_t ordered_key(float x) {
  uint32_t u = float_bits(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0xFFFFFFFFu;  // NaN (any sign, any payload)
  if (u == 0x80000000u) u = 0;                               // -0 -> +0
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/// Inverse of ordered_key (NaN comes back as a quiet NaN).
SEXTANT_HD float key_float(uint32_t key) {
  const uint32_t u = (key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key;
  return bits_float(u);
}

SEXTANT_HD uint64_t make_entry(uint32_t key, uint32_t id) { return (uint64_t(key) << 32) | id; }
SEXTANT_HD uint64_t make_entry_f(float key, uint32_t id) { return make_entry(ordered_key(key), id); }
SEXTANT_HD uint32_t entry_key(uint64_t e) { return uint32_t(e >> 32); }
SEXTANT_HD float entry_float(uint64_t e) { return key_float(entry_key(e)); }
SEXTANT_HD uint32_t entry_id(uint64_t e) { return uint32_t(e); }

/// The distance reported for a selected key: negated back for similarities;
/// with the norms trick the row's |x|^2 added and a rounding below zero
/// clamped to 0. A NaN key stays NaN (clamping it would report a distance of 0).
SEXTANT_HD float decode_distance(float key, bool negate, const float* row_offset) {
  if (negate) key = -key;
  if (row_offset != nullptr) {
    key += *row_offset;
    if (key < 0.0f) key = 0.0f;  // false for NaN
  }
  return key;
}

/// A float test that lets through every key whose entry could be below
/// `threshold` (for some id), and almost nothing else: one float compare per
/// candidate instead of building and comparing its 64-bit entry, so rows
/// stream at memory speed once the queue is full. NaN keys pass only while
/// the threshold itself has the NaN key (the queue is not full of numbers).
struct EntryFilter {
  float bound;
  bool open;
  SEXTANT_HD explicit EntryFilter(uint64_t threshold)
      : bound(key_float(entry_key(threshold))), open(entry_key(threshold) == 0xFFFFFFFFu) {}
  SEXTANT_HD bool operator()(float key) const { return open || key <= bound; }
};

}  // namespace sextant::gpu
