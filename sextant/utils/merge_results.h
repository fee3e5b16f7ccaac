#pragma once

#include <cstddef>
#include <span>

#include "sextant/MetricType.h"
#include "sextant/RangeSearchResult.h"

namespace sextant {

/// Merges the k-nearest-neighbour results of `nparts` searches of the same nq
/// queries over disjoint parts of a collection (shards) into the results one
/// search of the whole collection gives. D and I hold nparts x nq x k entries,
/// part-major; out_D and out_I get nq x k. Results are ordered best first (L2
/// ascending, inner product descending), ties to the smaller id, NaN
/// distances last; entries with id -1 are missing results and are skipped,
/// and rows are padded with id -1 and the worst distance.
void merge_knn_results(size_t nparts, size_t nq, size_t k, const float* D, const idx_t* I, MetricType metric,
                       float* out_D, idx_t* out_I);

/// The range-search results of several parts (each over the same queries)
/// as one: each query's hits from every part, ordered as above.
RangeSearchResult merge_range_results(std::span<const RangeSearchResult> parts, MetricType metric);

}  // namespace sextant
