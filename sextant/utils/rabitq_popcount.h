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

void rabitq_popcounts(const uint8_t* codes, size_t n, size_t code_size, size_t bits_size, const uint64_t* planes,
                      size_t words, size_t nplanes, uint32_t* dots, uint32_t* counts) {
  for (size_t i = 0; i < n; i++) {
    const uint8_t* bits = codes + i * code_size;
    uint64_t dot = 0, count = 0;
    for (size_t w = 0; w < words; w++) {
      const uint64_t word = rabitq_word(bits, bits_size, w);
      count += uint64_t(__builtin_popcountll(word));
      for (size_t p = 0; p < nplanes; p++) dot += uint64_t(__builtin_popcountll(word & planes[p * words + w])) << p;
    }
    dots[i] = uint32_t(dot);
    counts[i] = uint32_t(count);
  }
}
