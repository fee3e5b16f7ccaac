// Bitonic sorting and merging networks over arrays spread across a warp.
//
// An array of N = 32 * L entries lives in L registers per lane, slot-major:
// element i is register slot i / 32 of lane i % 32. Compare-exchanges between
// elements 32 or more apart are then between two registers of one lane, and
// those fewer than 32 apart are between lanes at the same slot (one shuffle).
// Every loop bound is a compile-time constant, so after unrolling each slot
// index is a constant and the arrays stay in registers.
#pragma once

#include <cstdint>

#include "gpu/select/WarpLanes.h"

namespace sextant::gpu {

/// One stage of a bitonic network on the warp array v: elements `stride`
/// apart are compare-exchanged, in blocks of `size` elements of alternating
/// direction (size >= 2N: all ascending).
template <class W, int L>
SEXTANT_HD void bitonic_stage(typename W::Entry (&v)[L], uint32_t size, uint32_t stride) {
  if (stride >= 32) {
    const int rs = static_cast<int>(stride / 32);
#pragma unroll
    for (int s = 0; s < L; s++) {
      if ((s & rs) != 0) continue;
      const int t = s | rs;
      const bool ascending = ((static_cast<uint32_t>(s) * 32u) & size) == 0;
      const typename W::Entry lo = min_entry(v[s], v[t]);
      const typename W::Entry hi = max_entry(v[s], v[t]);
      v[s] = ascending ? lo : hi;
      v[t] = ascending ? hi : lo;
    }
  } else {
#pragma unroll
    for (int s = 0; s < L; s++) v[s] = W::cross_lane_step(v[s], s, size, stride);
  }
}

template <int N>
constexpr int log2_exact() {
  static_assert(N > 0 && (N & (N - 1)) == 0, "a power of two");
  int r = 0;
  while ((1 << r) < N) r++;
  return r;
}

/// Sorts the 32 * L entries of v ascending (full bitonic sort).
template <class W, int L>
SEXTANT_HD void warp_bitonic_sort(typename W::Entry (&v)[L]) {
  constexpr int kLogN = log2_exact<32 * L>();
#pragma unroll
  for (int ls = 1; ls <= kLogN; ls++) {
#pragma unroll
    for (int lst = ls - 1; lst >= 0; lst--) bitonic_stage<W, L>(v, 1u << ls, 1u << lst);
  }
}

/// Sorts v ascending when it is bitonic (ascending then descending, or a
/// rotation of that): the last log2(32 L) stages of the sort.
template <class W, int L>
SEXTANT_HD void warp_bitonic_merge(typename W::Entry (&v)[L]) {
  constexpr int kLogN = log2_exact<32 * L>();
#pragma unroll
  for (int lst = kLogN - 1; lst >= 0; lst--) bitonic_stage<W, L>(v, 2u << kLogN, 1u << lst);
}

/// q (32 * Q entries, sorted ascending) becomes the 32 * Q smallest entries of
/// q and b, sorted ascending; b is 32 * B entries sorted ascending. Only the
/// first min(Q, B) slots of b can matter. Pairing q's tail with b reversed
/// (slot Q-1-s, lane 31-lane) and keeping the minima leaves a bitonic array
/// that holds the smallest entries; one merge network sorts it.
template <class W, int Q, int B>
SEXTANT_HD void merge_sorted_into(typename W::Entry (&q)[Q], const typename W::Entry (&b)[B]) {
  constexpr int R = Q < B ? Q : B;
#pragma unroll
  for (int s = Q - R; s < Q; s++) q[s] = min_entry(q[s], W::shfl_xor(b[Q - 1 - s], 31));
  warp_bitonic_merge<W, Q>(q);
}

/// Shared-memory (or any flat array) bitonic sort, one pair per work item:
/// pair p of the stage that compares elements `stride` apart has its lower
/// element here; the upper one is at + stride.
SEXTANT_HD uint32_t bitonic_pair_lower(uint32_t p, uint32_t stride) {
  return (p / stride) * 2u * stride + (p % stride);
}

/// Sorts n entries ascending where n is a power of two, on one thread; the
/// block-wide GPU sort runs these same pairs in parallel, one stage at a time.
SEXTANT_HD void flat_bitonic_sort(uint64_t* x, uint32_t n) {
  for (uint32_t size = 2; size <= n; size *= 2) {
    for (uint32_t stride = size / 2; stride > 0; stride /= 2) {
      for (uint32_t p = 0; p < n / 2; p++) {
        const uint32_t i = bitonic_pair_lower(p, stride), j = i + stride;
        const bool ascending = (i & size) == 0;
        const uint64_t a = x[i], b = x[j];
        if ((a > b) == ascending) {
          x[i] = b;
          x[j] = a;
        }
      }
    }
  }
}

}  // namespace sextant::gpu
