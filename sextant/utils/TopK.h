#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "sextant/MetricType.h"

namespace sextant {

/// Keeps the k smallest (key, id) pairs pushed so far, as a binary max-heap in
/// caller-owned arrays (typically one row of a search's output). Ties between
/// equal keys go to the smaller id, so the result is the same whatever order
/// the candidates arrive in: results do not depend on tiling or threads.
///
/// For k > kHeapMaxK (re-ranking asks for k * k_factor candidates) the pairs go
/// to a pool instead: appending is O(1), and when the pool holds 2k pairs a
/// selection keeps the k best and sets the bound. Every admitted pair of a heap
/// costs a sift through log2(k) levels of unpredictable branches; the pool
/// spends a few comparisons per pair (IVF-PQ fast-scan re-ranked with
/// k_factor 8-16 on Fashion-MNIST: 2-9% more queries a second).
class TopKHeap {
 public:
  static constexpr size_t kHeapMaxK = 32;

  TopKHeap(float* keys, idx_t* ids, size_t k) : keys_(keys), ids_(ids), k_(k) {
    if (k_ > kHeapMaxK) pool_.reserve(2 * k_);
  }

  size_t size() const { return k_ > kHeapMaxK ? std::min(pool_.size(), k_) : size_; }
  size_t capacity() const { return k_; }

  /// Candidates with key >= this bound cannot enter; one below it may.
  float admission_bound() const {
    if (k_ > kHeapMaxK) return std::nextafter(key_of(bound_), std::numeric_limits<float>::infinity());
    return size_ < k_ ? std::numeric_limits<float>::infinity()
                      : std::nextafter(keys_[0], std::numeric_limits<float>::infinity());
  }

  void push(float key, idx_t id) {
    if (k_ > kHeapMaxK) {
      const Packed p = pack(key, id);
      if (!(p < bound_) || std::isnan(key)) return;
      pool_.push_back(p);
      if (pool_.size() == 2 * k_) shrink_pool();
      return;
    }
    if (size_ < k_) {
      if (std::isnan(key)) return;  // a NaN is no result (once full, the comparison below drops it)
      size_t i = size_++;
      while (i > 0) {  // sift up
        size_t parent = (i - 1) / 2;
        if (!worse(key, id, keys_[parent], ids_[parent])) break;
        keys_[i] = keys_[parent];
        ids_[i] = ids_[parent];
        i = parent;
      }
      keys_[i] = key;
      ids_[i] = id;
    } else if (k_ > 0 && worse(keys_[0], ids_[0], key, id)) {
      sift_down(0, size_, key, id);
    }
  }

  /// Sorts the kept pairs best first into slots [0, size()) and pads slots
  /// [size(), k) with (+inf, -1). Returns size(). The heap is empty afterwards.
  size_t finish() {
    if (k_ > kHeapMaxK) return finish_pool();
    size_t n = size_;
    for (size_t end = n; end > 1; end--) {  // heap sort: move the worst to the back
      float key = keys_[end - 1];
      idx_t id = ids_[end - 1];
      keys_[end - 1] = keys_[0];
      ids_[end - 1] = ids_[0];
      sift_down(0, end - 1, key, id);
    }
    for (size_t i = n; i < k_; i++) {
      keys_[i] = std::numeric_limits<float>::infinity();
      ids_[i] = -1;
    }
    size_ = 0;
    return n;
  }

 private:
  // A pool entry packs (key, id) into one integer that orders as the pairs
  // do (key, then id): the key's bits made monotonic in the high half, the id
  // shifted to unsigned in the low half. Selecting and sorting integers
  // compares once where a pair compares twice, both branches unpredictable.
  using Packed = unsigned __int128;
  static constexpr uint64_t kIdBias = uint64_t{1} << 63;
  static Packed pack(float key, idx_t id) {
    key += 0.0f;  // -0 becomes +0: equal keys must pack equal
    uint32_t b;
    std::memcpy(&b, &key, sizeof b);
    b = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
    return (Packed(b) << 64) | (uint64_t(id) ^ kIdBias);
  }
  static float key_of(Packed p) {
    uint32_t b = uint32_t(p >> 64);
    b = (b & 0x80000000u) ? (b & 0x7fffffffu) : ~b;
    float key;
    std::memcpy(&key, &b, sizeof key);
    return key;
  }
  static idx_t id_of(Packed p) { return idx_t(uint64_t(p) ^ kIdBias); }

  static bool worse(float ka, idx_t ia, float kb, idx_t ib) { return ka > kb || (ka == kb && ia > ib); }

  /// Keeps the k best pairs of the pool; the worst of them becomes the bound.
  void shrink_pool() {
    std::nth_element(pool_.begin(), pool_.begin() + (k_ - 1), pool_.end());
    bound_ = pool_[k_ - 1];
    pool_.resize(k_);
  }

  size_t finish_pool() {
    if (pool_.size() > k_) shrink_pool();
    std::sort(pool_.begin(), pool_.end());
    const size_t n = pool_.size();
    for (size_t i = 0; i < k_; i++) {
      keys_[i] = i < n ? key_of(pool_[i]) : std::numeric_limits<float>::infinity();
      ids_[i] = i < n ? id_of(pool_[i]) : -1;
    }
    pool_.clear();
    bound_ = kNoBound;
    return n;
  }

  /// Places (key, id) at slot i of a heap of n slots, moving larger children up.
  void sift_down(size_t i, size_t n, float key, idx_t id) {
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && worse(keys_[child + 1], ids_[child + 1], keys_[child], ids_[child])) child++;
      if (!worse(keys_[child], ids_[child], key, id)) break;
      keys_[i] = keys_[child];
      ids_[i] = ids_[child];
      i = child;
    }
    keys_[i] = key;
    ids_[i] = id;
  }

  float* keys_;
  idx_t* ids_;
  size_t k_;
  size_t size_ = 0;
  // pack(+inf, largest id): every finite key and every +inf with a smaller id is below it.
  static constexpr Packed kNoBound = (Packed{0xff800000u} << 64) | ~uint64_t{0};
  std::vector<Packed> pool_;  // k > kHeapMaxK: candidates, unordered
  Packed bound_ = kNoBound;   // entries must pack below it
};

/// Merges the partial top-k lists of `slices` slices of the work into one row
/// per query: the list of slice s for query q sits at (s * n + q) * k in keys
/// and ids, padded with id -1 as TopKHeap leaves it; the k best go to row q of
/// out_keys and out_ids.
inline void merge_slices(size_t n, size_t k, size_t slices, const float* keys, const idx_t* ids, float* out_keys,
                         idx_t* out_ids) {
  for (size_t q = 0; q < n; q++) {
    TopKHeap merged(out_keys + q * k, out_ids + q * k, k);
    for (size_t s = 0; s < slices; s++) {
      const size_t at = (s * n + q) * k;
      for (size_t i = 0; i < k && ids[at + i] >= 0; i++) merged.push(keys[at + i], ids[at + i]);
    }
    merged.finish();
  }
}

}  // namespace sextant
