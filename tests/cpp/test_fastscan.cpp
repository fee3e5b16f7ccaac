#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "reference.h"
#include "sextant/impl/FastScan.h"
#include "sextant/utils/kernels.h"

namespace sextant {
namespace {

TEST(FastScan, BlockLayoutRoundTrips) {
  std::mt19937 rng(1);
  for (size_t M : {1, 2, 7, 16, 33}) {
    const size_t n = 70, cs = (M + 1) / 2;
    std::vector<uint8_t> codes(n * cs), blocks(fastscan::nblocks(n) * fastscan::block_bytes(M), 0), back(cs);
    for (size_t i = 0; i < n; i++) {
      for (size_t m = 0; m < M; m++) codes[i * cs + m / 2] |= uint8_t((rng() % 16) << ((m % 2) * 4));
      fastscan::set_code(blocks.data(), M, i, &codes[i * cs]);
    }
    for (size_t i = 0; i < n; i++) {
      fastscan::get_code(blocks.data(), M, i, back.data());
      EXPECT_EQ(std::vector<uint8_t>(codes.begin() + i * cs, codes.begin() + (i + 1) * cs), back) << M << " " << i;
    }
  }
}

// Every SIMD level finds the same candidates and sums as the scalar reference.
TEST(FastScan, SimdKernelsMatchScalarExactly) {
  const Kernels& scalar = *kernels_for(SimdLevel::scalar);
  std::mt19937 rng(2);
  for (SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512}) {
    const Kernels* simd = kernels_for(level);
    if (simd == nullptr) continue;
    for (size_t npairs : {1, 4, 8, 32}) {
      const size_t nblocks = 5;
      std::vector<uint8_t> blocks(nblocks * npairs * 32), luts(npairs * 32);
      for (auto& b : blocks) b = uint8_t(rng());
      for (auto& l : luts) l = uint8_t(rng());
      for (uint16_t threshold : {uint16_t(0), uint16_t(npairs * 255), uint16_t(65535)}) {
        std::vector<uint32_t> i1(nblocks * 32), i2(nblocks * 32);
        std::vector<uint16_t> s1(nblocks * 32), s2(nblocks * 32);
        const size_t c1 = scalar.fastscan_collect(blocks.data(), nblocks, npairs, luts.data(), threshold, i1.data(), s1.data());
        const size_t c2 = simd->fastscan_collect(blocks.data(), nblocks, npairs, luts.data(), threshold, i2.data(), s2.data());
        ASSERT_EQ(c1, c2) << to_string(level) << " npairs " << npairs << " threshold " << threshold;
        for (size_t c = 0; c < c1; c++) {
          EXPECT_EQ(i1[c], i2[c]);
          EXPECT_EQ(s1[c], s2[c]);
        }
      }
    }
  }
}

// Table quantisation: the same bytes, step and bias at every level, for odd
// and even M, negative entries, and flat tables.
TEST(FastScan, QuantizeMatchesScalarExactly) {
  const Kernels& scalar = *kernels_for(SimdLevel::scalar);
  for (SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512}) {
    const Kernels* simd = kernels_for(level);
    if (simd == nullptr) continue;
    for (size_t M : {1, 2, 7, 56, 64}) {
      for (int flat = 0; flat < 2; flat++) {
        auto table = test::random_vectors(M, 16, 5 + M, -30, 70);
        if (flat) std::fill(table.begin(), table.end(), 2.5f);
        const size_t bytes = fastscan::block_bytes(M);
        std::vector<uint8_t> q1(bytes, 7), q2(bytes, 7);  // bytes beyond the entries stay as they were
        float step1, step2, bias1, bias2;
        scalar.fastscan_quantize(table.data(), M, q1.data(), &step1, &bias1);
        simd->fastscan_quantize(table.data(), M, q2.data(), &step2, &bias2);
        EXPECT_EQ(q1, q2) << to_string(level) << " M=" << M << " flat=" << flat;
        EXPECT_EQ(step1, step2);
        EXPECT_EQ(bias1, bias2);
        if (flat) EXPECT_EQ(step1, 1.0f);
        if (M % 2) EXPECT_EQ(q1[bytes - 1], 7);
        if (flat) {
          EXPECT_EQ(*std::max_element(q1.begin(), q1.begin() + 16), 0);
        } else {
          EXPECT_EQ(*std::max_element(q1.begin(), q1.end()), 255);  // the widest sub-quantizer spans the byte
        }
      }
    }
  }
}

// Dequantized sums stay within M / 2 table steps of the float sums.
TEST(FastScan, QuantizedTableError) {
  const size_t M = 12;
  auto table = test::random_vectors(M, 16, 3, -5, 20);
  fastscan::QuantizedLUT lut;
  lut.build(table.data(), M);
  float range = 0;
  for (size_t m = 0; m < M; m++) {
    float lo = 1e30f, hi = -1e30f;
    for (size_t c = 0; c < 16; c++) lo = std::min(lo, table[m * 16 + c]), hi = std::max(hi, table[m * 16 + c]);
    range = std::max(range, hi - lo);
  }
  const float step = range / 255;
  std::mt19937 rng(4);
  for (int t = 0; t < 200; t++) {
    float exact = 0;
    uint32_t sum = 0;
    for (size_t m = 0; m < M; m++) {
      const size_t c = rng() % 16;
      exact += table[m * 16 + c];
      sum += lut.bytes()[(m / 2) * 32 + (m % 2) * 16 + c];
    }
    EXPECT_NEAR(lut.key(uint16_t(sum)), exact, M * step / 2 + 1e-4);
  }
  EXPECT_EQ(lut.threshold(std::numeric_limits<float>::infinity()), 65535);
  EXPECT_EQ(lut.threshold(-1e9f), 0);
}

}  // namespace
}  // namespace sextant
