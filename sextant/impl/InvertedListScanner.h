#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sextant/IDSelector.h"
#include "sextant/MetricType.h"
#include "sextant/utils/TopK.h"

namespace sextant {

/// Scores the codes of one inverted list for one query. An IVF index makes
/// one per search thread, so it may keep query state.
class InvertedListScanner {
 public:
  explicit InvertedListScanner(MetricType metric) : metric_(metric) {}
  virtual ~InvertedListScanner() = default;

  virtual void set_query(const float* x) = 0;
  /// `coarse` is the query's distance (similarity) to the list's centroid.
  virtual void set_list(size_t list, float coarse) = 0;
  /// out[j] = distance (L2) or similarity (IP) of the query to code j, for n
  /// codes in the plain layout (one after the other).
  virtual void score(const uint8_t* codes, size_t n, float* out) const = 0;

  /// Offers the first n entries of the current list (its codes as the list
  /// stores them) to the heap, whose keys are L2 distances or negated
  /// similarities. The default scores chunks and filters them in SIMD.
  virtual void scan(const uint8_t* codes, const idx_t* ids, size_t n, size_t code_size, TopKHeap& heap,
                    const IDSelector* sel) const;
  /// Appends the (distance, id) of the entries within the radius (L2:
  /// distance < radius; IP: similarity > radius).
  virtual void scan_range(const uint8_t* codes, const idx_t* ids, size_t n, size_t code_size, float radius,
                          const IDSelector* sel, std::vector<std::pair<float, idx_t>>& hits) const;

 protected:
  MetricType metric_;
};

}  // namespace sextant
