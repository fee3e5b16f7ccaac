#pragma once

#include <functional>
#include <memory>

#include "sextant/IDSelector.h"
#include "sextant/MetricType.h"
#include "sextant/RangeSearchResult.h"
#include "sextant/utils/TopK.h"

namespace sextant {

/// Scores stored codes 0..nb-1 against one query at a time. Made per thread.
class CodeScorer {
 public:
  explicit CodeScorer(MetricType metric) : metric_(metric) {}
  virtual ~CodeScorer() = default;
  virtual void set_query(const float* x) = 0;
  /// out[i] = distance (L2) or similarity (IP) of the query to code j0 + i, for i < n.
  virtual void score(size_t j0, size_t n, float* out) = 0;
  /// Offers codes [j0, j1) to the heap (keys: L2 distances, negated
  /// similarities). The default scores chunks and filters them in SIMD.
  virtual void scan(size_t j0, size_t j1, TopKHeap& heap, const IDSelector* sel);

 protected:
  MetricType metric_;
};

using CodeScorerFactory = std::function<std::unique_ptr<CodeScorer>()>;

/// Exhaustive k-NN over nb codes: parallel over queries, or over slices of the
/// codes (private heaps, merged) when there are fewer queries than threads.
/// Output as Index::search; the code's position is its id.
void search_codes(size_t n, const float* x, size_t d, size_t nb, size_t k, MetricType metric,
                  const IDSelector* sel, const CodeScorerFactory& make_scorer, float* distances, idx_t* labels);

/// Exhaustive range search over nb codes (Index::range_search semantics).
RangeSearchResult range_search_codes(size_t n, const float* x, size_t d, size_t nb, float radius, MetricType metric,
                                     const IDSelector* sel, const CodeScorerFactory& make_scorer);

}  // namespace sextant
