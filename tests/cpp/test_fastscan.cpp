#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "reference.h"
#include "sextant/impl/FastScan.h"
#include "sextant/utils/TopK.h"
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

// Side floats (vector-major arrays per block) and tail bytes (a vector's
// together) come back as they went in, and stay out of the sub-codes' bytes.
TEST(FastScan, BlockLayoutKeepsSideFloatsAndTails) {
  std::mt19937 rng(3);
  for (size_t tail : {0, 1, 13, 40}) {
    const fastscan::BlockLayout layout{7, 3, tail};
    const size_t n = 70, cs = layout.code_size();
    ASSERT_EQ(cs, 4 + 12 + tail);
    std::vector<uint8_t> codes(n * cs), blocks(fastscan::nblocks(n) * layout.stride(), 0), back(cs);
    for (size_t i = 0; i < n; i++) {
      for (size_t b = 0; b < cs; b++) codes[i * cs + b] = uint8_t(rng());
      codes[i * cs + 3] &= 0x0f;  // M = 7: the last byte's high nibble is no sub-code
      layout.set(blocks.data(), i, &codes[i * cs]);
    }
    for (size_t i = 0; i < n; i++) {
      layout.get(blocks.data(), i, back.data());
      EXPECT_EQ(std::vector<uint8_t>(codes.begin() + i * cs, codes.begin() + (i + 1) * cs), back) << tail << " " << i;
      const uint8_t* block = blocks.data() + i / 32 * layout.stride();
      float f2;
      std::memcpy(&f2, &codes[i * cs + 4 + 8], sizeof(f2));
      EXPECT_EQ(std::memcmp(&layout.aux(block)[2 * 32 + i % 32], &f2, sizeof(f2)), 0);
      EXPECT_EQ(std::memcmp(layout.tail(block, i % 32), &codes[i * cs + 16], tail), 0);
    }
  }
}

// Every SIMD level finds the same candidates and sums as the scalar reference,
// and the same sums of whole blocks.
TEST(FastScan, SimdKernelsMatchScalarExactly) {
  const Kernels& scalar = *kernels_for(SimdLevel::scalar);
  std::mt19937 rng(2);
  for (SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512, SimdLevel::avx512icl}) {
    const Kernels* simd = kernels_for(level);
    if (simd == nullptr) continue;
    // Up to 128 pairs any bytes fit 16-bit sums; beyond, the tables come from
    // quantization, which keeps the sums within 16 bits (M = 300, 392, 784).
    // Odd counts of pairs take the 256-bit step after the 512-bit ones.
    for (size_t npairs : {1, 3, 4, 8, 25, 32, 127, 128, 150, 196, 392}) {
      const size_t nblocks = 5;
      std::vector<uint8_t> blocks(nblocks * npairs * 32), luts(npairs * 32);
      for (auto& b : blocks) b = uint8_t(rng());
      if (npairs <= 128) {
        for (auto& l : luts) l = uint8_t(rng());
      } else {
        fastscan::QuantizedLUT lut;
        const auto table = test::random_vectors(2 * npairs, 16, npairs, 0, 1);
        lut.build(table.data(), 2 * npairs);
        std::copy(lut.bytes(), lut.bytes() + luts.size(), luts.begin());
      }
      for (uint16_t threshold : {uint16_t(0), uint16_t(std::min<size_t>(npairs * 255, 30000)), uint16_t(65535)}) {
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
      for (size_t b = 0; b < nblocks; b++) {  // every sum of a block, in vector order
        uint16_t all1[32], all2[32];
        scalar.fastscan_sums(blocks.data() + b * npairs * 32, npairs, luts.data(), all1);
        simd->fastscan_sums(blocks.data() + b * npairs * 32, npairs, luts.data(), all2);
        EXPECT_TRUE(std::equal(all1, all1 + 32, all2)) << to_string(level) << " npairs " << npairs;
      }
    }
  }
}

// Table quantisation: the same bytes, step and bias at every level, for odd
// and even M, negative entries, and flat tables.
TEST(FastScan, QuantizeMatchesScalarExactly) {
  const Kernels& scalar = *kernels_for(SimdLevel::scalar);
  for (SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512, SimdLevel::avx512icl}) {
    const Kernels* simd = kernels_for(level);
    if (simd == nullptr) continue;
    for (size_t M : {1, 2, 7, 56, 64, 256, 300, 392, 784}) {
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
        // The largest sum (each sub-quantizer's largest entry) fits 16 bits.
        size_t largest = 0;
        for (size_t m = 0; m < M; m++) {
          const uint8_t* e = q1.data() + (m / 2) * 32 + (m % 2) * 16;
          largest += *std::max_element(e, e + 16);
        }
        EXPECT_LE(largest, 65535u) << "M=" << M;
        if (flat) {
          EXPECT_EQ(largest, 0u);
        } else if (M <= 256) {
          EXPECT_EQ(*std::max_element(q1.begin(), q1.end()), 255);  // the widest sub-quantizer spans the byte
        } else {
          // Either the widest spans the byte or the sums use (nearly) all of 16 bits.
          EXPECT_TRUE(*std::max_element(q1.begin(), q1.end()) == 255 || largest + 2 * M >= 65535) << "M=" << M;
        }
      }
    }
  }
}

// Dequantized sums stay within M / 2 table steps of the float sums, also
// beyond 256 sub-quantizers, where the step widens so that sums fit 16 bits:
// the sums the kernel of each level finds are the exact integer sums.
TEST(FastScan, QuantizedTableError) {
  std::mt19937 rng(4);
  for (size_t M : {12, 300, 392, 784}) {
    auto table = test::random_vectors(M, 16, 3 + M, -5, 20);
    fastscan::QuantizedLUT lut;
    lut.build(table.data(), M);
    float range = 0, total = 0;
    for (size_t m = 0; m < M; m++) {
      float lo = 1e30f, hi = -1e30f;
      for (size_t c = 0; c < 16; c++) lo = std::min(lo, table[m * 16 + c]), hi = std::max(hi, table[m * 16 + c]);
      range = std::max(range, hi - lo);
      total += hi - lo;
    }
    const float step = M <= 256 ? range / 255 : std::max(range / 255, total / float(65535 - M));
    const size_t n = 64;
    std::vector<uint8_t> codes(n * ((M + 1) / 2), 0), blocks(fastscan::nblocks(n) * fastscan::block_bytes(M), 0);
    std::vector<float> exact(n, 0);
    std::vector<uint32_t> sums(n, 0);
    for (size_t i = 0; i < n; i++) {
      for (size_t m = 0; m < M; m++) {
        const size_t c = rng() % 16;
        codes[i * ((M + 1) / 2) + m / 2] |= uint8_t(c << ((m % 2) * 4));
        exact[i] += table[m * 16 + c];
        sums[i] += lut.bytes()[(m / 2) * 32 + (m % 2) * 16 + c];
      }
      fastscan::set_code(blocks.data(), M, i, &codes[i * ((M + 1) / 2)]);
      ASSERT_LE(sums[i], 65535u);
      EXPECT_NEAR(lut.key(uint16_t(sums[i])), exact[i], M * step / 2 + 1e-3f * std::abs(exact[i])) << "M=" << M;
    }
    for (SimdLevel level : kSimdLevels) {
      const Kernels* k = kernels_for(level);
      if (k == nullptr) continue;
      std::vector<uint32_t> idx(n);
      std::vector<uint16_t> got(n);
      const size_t found =
          k->fastscan_collect(blocks.data(), 2, fastscan::npairs(M), lut.bytes(), 65535, idx.data(), got.data());
      ASSERT_EQ(found, n);
      for (size_t i = 0; i < n; i++) EXPECT_EQ(got[i], sums[idx[i]]) << to_string(level) << " M=" << M;
    }
  }
}

// The threshold is the largest sum whose key is below the bound (no looser,
// no tighter), also where the bias dwarfs the step so that inverting key() in
// floats is inexact.
TEST(FastScan, ThresholdIsExact) {
  std::mt19937 rng(5);
  for (float offset : {0.0f, 1e5f, -3e6f}) {
    auto table = test::random_vectors(392, 16, 9, 0, 1);
    for (auto& t : table) t += offset / 392;
    fastscan::QuantizedLUT lut;
    lut.build(table.data(), 392);
    EXPECT_EQ(lut.threshold(std::numeric_limits<float>::infinity()), 65535);
    EXPECT_EQ(lut.threshold(lut.key(0)), 0);  // no key is below the smallest
    for (int t = 0; t < 400; t++) {
      // Keys themselves, their float neighbours and midpoints: the edges.
      const uint16_t s = uint16_t(rng() % 65535);
      const float inf = std::numeric_limits<float>::infinity(), candidates[] = {
          lut.key(s), std::nextafter(lut.key(s), inf), std::nextafter(lut.key(s), -inf),
          (lut.key(s) + lut.key(uint16_t(s + 1))) / 2};
      const float bound = candidates[t % 4];
      const uint16_t thr = lut.threshold(bound);
      if (thr > 0) EXPECT_LT(lut.key(thr), bound) << offset;
      if (thr < 65535) EXPECT_GE(lut.key(uint16_t(thr + 1)), bound) << offset;
    }
  }
  fastscan::QuantizedLUT lut;
  auto table = test::random_vectors(12, 16, 3, -5, 20);
  lut.build(table.data(), 12);
  EXPECT_EQ(lut.threshold(-1e9f), 0);
}

// scan_blocks keeps exactly the k best (key, id) of the codes in its range, for
// every k, whether its chunks cut hits at their own k-th best sum or not, and
// with a list's offset on every key.
TEST(FastScan, ScanBlocksKeepsTheBestOfItsRange) {
  std::mt19937 rng(7);
  const size_t M = 12, n = 700;
  std::vector<uint8_t> blocks(fastscan::nblocks(n) * fastscan::block_bytes(M), 0), code((M + 1) / 2);
  for (size_t i = 0; i < n; i++) {
    for (auto& c : code) c = uint8_t(rng());
    fastscan::set_code(blocks.data(), M, i, code.data());
  }
  const auto table = test::random_vectors(M, 16, 11, 0, 1);
  fastscan::QuantizedLUT lut;
  lut.build(table.data(), M);
  lut.set_offset(-2.5f);
  std::vector<idx_t> ids(n);
  for (size_t i = 0; i < n; i++) ids[i] = idx_t(3 * i + 1);
  const Kernels& kern = kernels();
  std::vector<uint32_t> idx(fastscan::nblocks(n) * 32);
  std::vector<uint16_t> sums(idx.size());
  kern.fastscan_collect(blocks.data(), fastscan::nblocks(n), fastscan::npairs(M), lut.bytes(), 65535, idx.data(),
                        sums.data());
  for (auto [begin, end] : {std::pair<size_t, size_t>{0, n}, {5, 650}, {40, 41}}) {
    for (size_t k : {1, 10, 30, 64, 200}) {
      std::vector<std::pair<float, idx_t>> expected;
      for (size_t j = begin; j < end; j++) expected.emplace_back(lut.key(sums[j]), ids[j]);
      std::sort(expected.begin(), expected.end());
      expected.resize(std::min(k, expected.size()));
      std::vector<float> keys(k);
      std::vector<idx_t> got(k);
      TopKHeap heap(keys.data(), got.data(), k);
      fastscan::scan_blocks(kern, blocks.data(), begin, end, M, lut, ids.data(), heap, nullptr);
      ASSERT_EQ(heap.finish(), expected.size()) << begin << " " << k;
      for (size_t i = 0; i < expected.size(); i++) {
        EXPECT_EQ(keys[i], expected[i].first) << begin << " " << k << " " << i;
        EXPECT_EQ(got[i], expected[i].second) << begin << " " << k << " " << i;
      }
    }
  }
}

TEST(FastScan, ScanBlocksCutsAmongEqualSums) {
  // One code everywhere: every sum is the same, so the chunk's cut has a
  // histogram of one value and the heap keeps the smallest ids.
  const size_t M = 6, n = 300, k = 20;
  std::vector<uint8_t> blocks(fastscan::nblocks(n) * fastscan::block_bytes(M), 0), code((M + 1) / 2, 0x5a);
  for (size_t i = 0; i < n; i++) fastscan::set_code(blocks.data(), M, i, code.data());
  const auto table = test::random_vectors(M, 16, 12, 0, 1);
  fastscan::QuantizedLUT lut;
  lut.build(table.data(), M);
  std::vector<float> keys(k);
  std::vector<idx_t> got(k);
  TopKHeap heap(keys.data(), got.data(), k);
  fastscan::scan_blocks(kernels(), blocks.data(), 0, n, M, lut, nullptr, heap, nullptr);
  ASSERT_EQ(heap.finish(), k);
  for (size_t i = 0; i < k; i++) EXPECT_EQ(got[i], idx_t(i));
}

}  // namespace
}  // namespace sextant
