#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sextant/utils/TopK.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/select.h"

namespace sextant {
namespace {

// Reference: sort all (key, id) pairs and keep the first k.
std::vector<std::pair<float, idx_t>> smallest(std::vector<std::pair<float, idx_t>> all, size_t k) {
  std::sort(all.begin(), all.end());
  all.resize(std::min(k, all.size()));
  return all;
}

TEST(TopKHeap, KeepsTheKSmallestWithTiesToSmallerIds) {
  std::mt19937 rng(7);
  for (size_t k : {1, 2, 3, 10, 64, 100, 500}) {
    for (size_t n : {0, 1, 5, 99, 1000}) {
      std::vector<std::pair<float, idx_t>> all;
      // Many ties, negative keys (inner-product keys are negated), and -0 equal to +0.
      for (size_t i = 0; i < n; i++) {
        const float key = float(int(rng() % 50) - 25);
        all.emplace_back(key == 0 && i % 2 ? -0.0f : key, idx_t(i));
      }
      for (int order = 0; order < 3; order++) {
        std::shuffle(all.begin(), all.end(), rng);
        std::vector<float> keys(k);
        std::vector<idx_t> ids(k);
        TopKHeap heap(keys.data(), ids.data(), k);
        for (auto [key, id] : all) heap.push(key, id);
        size_t kept = heap.finish();
        auto want = smallest(all, k);
        ASSERT_EQ(kept, want.size());
        for (size_t i = 0; i < k; i++) {
          if (i < kept) {
            EXPECT_EQ(keys[i], want[i].first) << "k=" << k << " n=" << n << " rank " << i;
            EXPECT_EQ(ids[i], want[i].second) << "k=" << k << " n=" << n << " rank " << i;
          } else {
            EXPECT_EQ(ids[i], -1);
            EXPECT_TRUE(std::isinf(keys[i]) && keys[i] > 0);
          }
        }
      }
    }
  }
}

TEST(TopKHeap, AdmissionBoundAdmitsTiesOnly) {
  float keys[2];
  idx_t ids[2];
  TopKHeap heap(keys, ids, 2);
  EXPECT_TRUE(std::isinf(heap.admission_bound()));
  heap.push(1.0f, 5);
  heap.push(2.0f, 6);
  // A key equal to the worst kept one may still enter with a smaller id.
  EXPECT_EQ(heap.admission_bound(), std::nextafter(2.0f, 3.0f));
  heap.push(2.0f, 3);
  heap.finish();
  EXPECT_EQ(ids[0], 5);
  EXPECT_EQ(ids[1], 3);
}

TEST(TopKHeap, LargeKBoundTightensOnceThePoolFills) {
  const size_t k = TopKHeap::kHeapMaxK + 8;
  std::vector<float> keys(k);
  std::vector<idx_t> ids(k);
  TopKHeap heap(keys.data(), ids.data(), k);
  for (size_t i = 2 * k; i-- > 1;) heap.push(float(i), idx_t(i));  // worst first
  EXPECT_TRUE(std::isinf(heap.admission_bound()));                 // the pool is not full yet
  heap.push(0.0f, 0);
  EXPECT_EQ(heap.admission_bound(), std::nextafter(float(k - 1), float(k)));
  heap.push(float(k - 1), idx_t(k - 2));  // ties the bound with a smaller id: enters
  heap.push(float(k - 1), idx_t(k));      // ties it with a larger id: rejected
  ASSERT_EQ(heap.finish(), k);
  EXPECT_EQ(ids[k - 2], idx_t(k - 2));
  EXPECT_EQ(keys[k - 1], float(k - 1));
  EXPECT_EQ(ids[k - 1], idx_t(k - 2));
}

// push_candidates leaves the heap as offering every key would, whichever way it
// selects: k = 1, a bound found by bisection (k a sizeable share of n; keys
// with ties, a bias, ids), or chunks under the heap's bound.
TEST(PushCandidates, KeepsTheKSmallestKeys) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (size_t n : {5, 64, 1000, 4096}) {
    std::vector<float> v(n), bias(n);
    std::vector<idx_t> ids(n);
    for (size_t j = 0; j < n; j++) {
      v[j] = j % 7 == 0 ? 0.5f : normal(rng);  // every seventh key a tie
      bias[j] = float(rng() % 4);
      ids[j] = idx_t(n - j) * 2;
    }
    for (size_t k : {1, 10, 16, 24, 64, 200}) {
      for (bool with_bias : {false, true}) {
        for (bool with_ids : {false, true}) {
          std::vector<std::pair<float, idx_t>> all;
          for (size_t j = 0; j < n; j++) {
            all.emplace_back(-2.0f * v[j] + (with_bias ? bias[j] : 0.0f), with_ids ? ids[j] : idx_t(j) + 100);
          }
          std::vector<float> keys(k);
          std::vector<idx_t> got(k);
          TopKHeap heap(keys.data(), got.data(), k);
          push_candidates(kernels(), v.data(), with_bias ? bias.data() : nullptr, -2.0f, n,
                          with_ids ? ids.data() : nullptr, 100, heap, nullptr);
          const auto want = smallest(all, k);
          ASSERT_EQ(heap.finish(), want.size()) << n << " " << k;
          for (size_t i = 0; i < want.size(); i++) {
            // Keys as the kernel computes them (perhaps fused): equal within rounding, ids exactly.
            EXPECT_NEAR(keys[i], want[i].first, 1e-5f * (1 + std::abs(want[i].first))) << n << " " << k << " " << i;
            EXPECT_EQ(got[i], want[i].second) << n << " " << k << " " << i << " bias " << with_bias;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sextant
