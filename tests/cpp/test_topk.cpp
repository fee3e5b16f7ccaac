#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sextant/utils/TopK.h"

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

}  // namespace
}  // namespace sextant
