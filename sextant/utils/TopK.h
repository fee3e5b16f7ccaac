#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "sextant/MetricType.h"

namespace sextant {

/// Keeps the k smallest (key, id) pairs pushed so far, as a binary max-heap in
/// caller-owned arrays (typically one row of a search's output). Ties between
/// equal keys go to the smaller id, so the result is the same whatever order
/// the candidates arrive in: results do not depend on tiling or threads.
class TopKHeap {
 public:
  TopKHeap(float* keys, idx_t* ids, size_t k) : keys_(keys), ids_(ids), k_(k) {}

  size_t size() const { return size_; }
  size_t capacity() const { return k_; }

  /// Candidates with key >= this bound cannot enter; one below it may.
  float admission_bound() const {
    return size_ < k_ ? std::numeric_limits<float>::infinity()
                      : std::nextafter(keys_[0], std::numeric_limits<float>::infinity());
  }

  void push(float key, idx_t id) {
    if (size_ < k_) {
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
  static bool worse(float ka, idx_t ia, float kb, idx_t ib) { return ka > kb || (ka == kb && ia > ib); }

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
};

}  // namespace sextant
