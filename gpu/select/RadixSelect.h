// Arithmetic of the multi-pass k-selection used above the register queues'
// limit (k > 2048): the k-th smallest entry of a row is found digit by digit
// from the top (11-bit digits, one histogram pass each), then every entry at
// or below it is gathered (exactly k of them, entries being unique) and the k
// are sorted. Working on whole 64-bit entries (key, then id) makes the k-th
// entry unique, so ties on the key are cut by id with no special case.
#pragma once

#include <cstdint>

#include "gpu/select/HostDevice.h"

namespace sextant::gpu {

constexpr int kRadixBits = 11;
constexpr int kRadixBins = 1 << kRadixBits;

/// Per-row progress of the digit passes.
struct RadixState {
  uint64_t prefix;       ///< the digits chosen so far, in place (low bits zero)
  uint32_t prefix_bits;  ///< how many top bits of prefix are chosen
  uint32_t k_rem;        ///< rank of the wanted entry among those matching prefix (1-based)
  uint32_t done;         ///< 1: the entries to keep are exactly those selected by radix_selected
  uint32_t pad_;
};

SEXTANT_HD RadixState radix_start(uint64_t k, uint64_t row_length) {
  RadixState s{0, 0, static_cast<uint32_t>(k), 0, 0};
  if (k >= row_length) s.done = 1;  // the whole row
  return s;
}

/// Bits of the digit examined by the next pass.
SEXTANT_HD int radix_digit_bits(const RadixState& s) {
  const int left = 64 - static_cast<int>(s.prefix_bits);
  return left < kRadixBits ? left : kRadixBits;
}

/// Whether entry agrees with the chosen prefix (all entries do before the first pass).
SEXTANT_HD bool radix_matches(uint64_t entry, const RadixState& s) {
  if (s.prefix_bits == 0) return true;
  const int shift = 64 - static_cast<int>(s.prefix_bits);
  return (entry >> shift) == (s.prefix >> shift);
}

/// The next digit of an entry that matches the prefix.
SEXTANT_HD uint32_t radix_digit(uint64_t entry, const RadixState& s) {
  const int bits = radix_digit_bits(s);
  const int shift = 64 - static_cast<int>(s.prefix_bits) - bits;
  return static_cast<uint32_t>((entry >> shift) & ((uint64_t{1} << bits) - 1));
}

/// Chooses the bucket holding the k_rem-th matching entry from the pass's
/// histogram (counts of matching entries per digit) and moves to it. The row
/// is done when every entry of that bucket is wanted, or no bits remain.
SEXTANT_HD void radix_advance(RadixState& s, const uint32_t* hist) {
  const int bits = radix_digit_bits(s);
  const int bins = 1 << bits;
  uint32_t below = 0;
  int bucket = 0;
  for (; bucket < bins - 1; bucket++) {
    if (below + hist[bucket] >= s.k_rem) break;
    below += hist[bucket];
  }
  const int shift = 64 - static_cast<int>(s.prefix_bits) - bits;
  s.prefix |= static_cast<uint64_t>(bucket) << shift;
  s.prefix_bits += static_cast<uint32_t>(bits);
  s.k_rem -= below;
  if (hist[bucket] == s.k_rem || s.prefix_bits == 64) s.done = 1;
}

/// Whether a done row keeps entry: it is below the chosen prefix, or in its bucket.
SEXTANT_HD bool radix_selected(uint64_t entry, const RadixState& s) {
  if (s.prefix_bits == 0) return true;
  const int shift = 64 - static_cast<int>(s.prefix_bits);
  return (entry >> shift) <= (s.prefix >> shift);
}

/// Upper bound on the digit passes a row can need.
constexpr int kRadixMaxPasses = (64 + kRadixBits - 1) / kRadixBits;

}  // namespace sextant::gpu
