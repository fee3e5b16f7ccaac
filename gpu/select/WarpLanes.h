// The two ways warp-synchronous code runs here.
//
// DeviceWarp: real CUDA; each thread holds its own lane's values and lanes
// talk through shuffles and votes.
//
// HostWarp: plain C++; one object holds the values of all 32 lanes (Lanes<T>)
// and a "shuffle" reads another lane's slot. The selection code is written once
// against either policy, so the networks the GPU runs are the networks the CPU
// tests check, lane by lane. Code written this way may only branch on values
// that are the same in every lane (compile-time constants, W::any votes);
// per-lane choices go through choose().
#pragma once

#include <cstdint>

#include "gpu/select/HostDevice.h"

namespace sextant::gpu {

SEXTANT_HD uint64_t min_entry(uint64_t a, uint64_t b) { return a < b ? a : b; }
SEXTANT_HD uint64_t max_entry(uint64_t a, uint64_t b) { return a < b ? b : a; }
template <class T>
SEXTANT_HD T choose(bool p, T a, T b) {
  return p ? a : b;
}

/// Whether element i of an ascending bitonic network keeps the smaller value
/// of its pair in the stage that compares elements `stride` apart inside
/// blocks of `size` elements (blocks alternate direction; size >= the whole
/// array means every block is ascending).
SEXTANT_HD bool bitonic_keeps_min(uint32_t i, uint32_t size, uint32_t stride) {
  const bool ascending = (i & size) == 0;
  const bool lower = (i & stride) == 0;
  return lower == ascending;
}

#if defined(__CUDACC__)
/// One lane's view of a warp (CUDA). Every member is __host__ __device__ so
/// that templates instantiated with it compile in nvcc's host pass; the host
/// bodies are never run.
struct DeviceWarp {
  using Entry = uint64_t;
  using Pred = bool;
  using Count = int;

  SEXTANT_HD static int lane() {
#if defined(__CUDA_ARCH__)
    return static_cast<int>(threadIdx.x & 31u);
#else
    return 0;
#endif
  }
  SEXTANT_HD static Entry splat(uint64_t x) { return x; }
  SEXTANT_HD static Count zero_count() { return 0; }
  SEXTANT_HD static uint64_t shfl_xor(uint64_t v, int mask) {
#if defined(__CUDA_ARCH__)
    return __shfl_xor_sync(0xFFFFFFFFu, v, mask);
#else
    (void)mask;
    return v;
#endif
  }
  /// The value lane `src` holds, in every lane.
  SEXTANT_HD static uint64_t broadcast(uint64_t v, int src) {
#if defined(__CUDA_ARCH__)
    return __shfl_sync(0xFFFFFFFFu, v, src);
#else
    (void)src;
    return v;
#endif
  }
  SEXTANT_HD static bool any(bool p) {
#if defined(__CUDA_ARCH__)
    return __any_sync(0xFFFFFFFFu, p);
#else
    return p;
#endif
  }
  /// One compare-exchange between lanes `stride` apart (stride < 32) on the
  /// values of register slot `slot` (element i = slot * 32 + lane).
  SEXTANT_HD static Entry cross_lane_step(Entry v, int slot, uint32_t size, uint32_t stride) {
    const uint64_t other = shfl_xor(v, static_cast<int>(stride));
    const uint32_t i = static_cast<uint32_t>(slot) * 32u + static_cast<uint32_t>(lane());
    return bitonic_keeps_min(i, size, stride) ? min_entry(v, other) : max_entry(v, other);
  }
  /// Element slot * 32 + lane of a slot-major array.
  SEXTANT_HD static Entry load(const uint64_t* src, int slot) { return src[slot * 32 + lane()]; }
  /// Like load, padding elements at or past `count` with kPad.
  SEXTANT_HD static Entry load_n(const uint64_t* src, int slot, int count, uint64_t pad) {
    const int i = slot * 32 + lane();
    return i < count ? src[i] : pad;
  }
  SEXTANT_HD static void store(uint64_t* dst, int slot, Entry v) { dst[slot * 32 + lane()] = v; }
};
#endif

/// The values of all 32 lanes of a warp, for HostWarp.
template <class T>
struct Lanes {
  T v[32];
  T& operator[](int l) { return v[l]; }
  const T& operator[](int l) const { return v[l]; }
};

inline Lanes<bool> operator&(const Lanes<bool>& a, const Lanes<bool>& b) {
  Lanes<bool> r;
  for (int l = 0; l < 32; l++) r[l] = a[l] && b[l];
  return r;
}
inline Lanes<bool> operator<(const Lanes<uint64_t>& a, uint64_t b) {
  Lanes<bool> r;
  for (int l = 0; l < 32; l++) r[l] = a[l] < b;
  return r;
}
inline Lanes<bool> operator==(const Lanes<int>& a, int b) {
  Lanes<bool> r;
  for (int l = 0; l < 32; l++) r[l] = a[l] == b;
  return r;
}
inline Lanes<bool> operator!=(const Lanes<int>& a, int b) {
  Lanes<bool> r;
  for (int l = 0; l < 32; l++) r[l] = a[l] != b;
  return r;
}
inline Lanes<int>& operator+=(Lanes<int>& a, const Lanes<bool>& p) {
  for (int l = 0; l < 32; l++) a[l] += p[l] ? 1 : 0;
  return a;
}
template <class T>
Lanes<T> choose(const Lanes<bool>& p, const Lanes<T>& a, const Lanes<T>& b) {
  Lanes<T> r;
  for (int l = 0; l < 32; l++) r[l] = p[l] ? a[l] : b[l];
  return r;
}
inline Lanes<uint64_t> min_entry(const Lanes<uint64_t>& a, const Lanes<uint64_t>& b) {
  Lanes<uint64_t> r;
  for (int l = 0; l < 32; l++) r[l] = min_entry(a[l], b[l]);
  return r;
}
inline Lanes<uint64_t> max_entry(const Lanes<uint64_t>& a, const Lanes<uint64_t>& b) {
  Lanes<uint64_t> r;
  for (int l = 0; l < 32; l++) r[l] = max_entry(a[l], b[l]);
  return r;
}

/// All 32 lanes of a warp at once (plain C++), for tests and host reference runs.
struct HostWarp {
  using Entry = Lanes<uint64_t>;
  using Pred = Lanes<bool>;
  using Count = Lanes<int>;

  static Entry splat(uint64_t x) {
    Entry r;
    for (int l = 0; l < 32; l++) r[l] = x;
    return r;
  }
  static Count zero_count() {
    Count r;
    for (int l = 0; l < 32; l++) r[l] = 0;
    return r;
  }
  static Entry shfl_xor(const Entry& v, int mask) {
    Entry r;
    for (int l = 0; l < 32; l++) r[l] = v[l ^ mask];
    return r;
  }
  static uint64_t broadcast(const Entry& v, int src) { return v[src]; }
  static bool any(const Pred& p) {
    for (int l = 0; l < 32; l++)
      if (p[l]) return true;
    return false;
  }
  static Entry cross_lane_step(const Entry& v, int slot, uint32_t size, uint32_t stride) {
    Entry r;
    for (int l = 0; l < 32; l++) {
      const uint64_t other = v[l ^ static_cast<int>(stride)];
      const uint32_t i = static_cast<uint32_t>(slot) * 32u + static_cast<uint32_t>(l);
      r[l] = bitonic_keeps_min(i, size, stride) ? min_entry(v[l], other) : max_entry(v[l], other);
    }
    return r;
  }
  static Entry load(const uint64_t* src, int slot) {
    Entry r;
    for (int l = 0; l < 32; l++) r[l] = src[slot * 32 + l];
    return r;
  }
  static Entry load_n(const uint64_t* src, int slot, int count, uint64_t pad) {
    Entry r;
    for (int l = 0; l < 32; l++) r[l] = slot * 32 + l < count ? src[slot * 32 + l] : pad;
    return r;
  }
  static void store(uint64_t* dst, int slot, const Entry& v) {
    for (int l = 0; l < 32; l++) dst[slot * 32 + l] = v[l];
  }
};

}  // namespace sextant::gpu
