// RaBitQ's popcount scoring (impl/RaBitQuantizer.h), written once. Each ISA
// translation unit includes this file inside its own namespace: the vector
// levels are built with -mpopcnt, so the same loop runs on the POPCNT
// instruction there and on libgcc's bit arithmetic in the scalar reference.
// No standard-library templates (see kernels_simd.h).
#pragma once

#include <cstddef>
#include <cstdint>

// Word w of a code's bits_size bytes of bits, the last one zero-padded.
inline uint64_t rabitq_word(const uint8_t* bits, size_t bits_size, size_t w) {
  uint64_t word = 0;
  const size_t bytes = bits_size - 8 * w < 8 ? bits_size - 8 * w : 8;
  __builtin_memcpy(&word, bits + 8 * w, bytes);
  return word;
}

// kPlanes planes known at compile time: the planes loop unrolls, one
// accumulator each. Whole words are plain 8-byte loads; only a last partial
// word goes through rabitq_word.
template <size_t kPlanes>
inline void rabitq_popcounts_planes(const uint8_t* codes, size_t n, size_t code_size, size_t bits_size,
                                    const uint64_t* planes, size_t words, uint32_t* dots, uint32_t* counts) {
  const size_t full = bits_size / 8;
  for (size_t i = 0; i < n; i++) {
    const uint8_t* bits = codes + i * code_size;
    uint64_t count = 0, plane_counts[kPlanes > 0 ? kPlanes : 1] = {};
    auto add = [&](uint64_t word, size_t w) {
      count += uint64_t(__builtin_popcountll(word));
      for (size_t p = 0; p < kPlanes; p++) plane_counts[p] += uint64_t(__builtin_popcountll(word & planes[p * words + w]));
    };
    for (size_t w = 0; w < full; w++) {
      uint64_t word;
      __builtin_memcpy(&word, bits + 8 * w, 8);
      add(word, w);
    }
    if (full < words) add(rabitq_word(bits, bits_size, full), full);
    uint64_t dot = 0;
    for (size_t p = 0; p < kPlanes; p++) dot += plane_counts[p] << p;
    dots[i] = uint32_t(dot);
    counts[i] = uint32_t(count);
  }
}

void rabitq_popcounts(const uint8_t* codes, size_t n, size_t code_size, size_t bits_size, const uint64_t* planes,
                      size_t words, size_t nplanes, uint32_t* dots, uint32_t* counts) {
  using Fn = void (*)(const uint8_t*, size_t, size_t, size_t, const uint64_t*, size_t, uint32_t*, uint32_t*);
  constexpr Fn kByPlanes[] = {rabitq_popcounts_planes<0>, rabitq_popcounts_planes<1>, rabitq_popcounts_planes<2>,
                              rabitq_popcounts_planes<3>, rabitq_popcounts_planes<4>, rabitq_popcounts_planes<5>,
                              rabitq_popcounts_planes<6>, rabitq_popcounts_planes<7>, rabitq_popcounts_planes<8>};
  kByPlanes[nplanes < 8 ? nplanes : 8](codes, n, code_size, bits_size, planes, words, dots, counts);
}
