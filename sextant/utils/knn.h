#pragma once

#include <cstddef>

#include "sextant/IDSelector.h"
#include "sextant/MetricType.h"
#include "sextant/RangeSearchResult.h"

namespace sextant {

/// A borrowed set of n row-major vectors of dimension d; their ids are the row
/// numbers. `norms`, when not null, holds the n squared L2 norms (used for L2).
struct VectorSet {
  const float* x;
  size_t n;
  size_t d;
  const float* norms = nullptr;
};

/// Exact k-nearest-neighbour search of nq queries (dimension db.d) in db.
/// distances and labels are nq * k, best first, padded with the worst
/// distance and label -1 when fewer than k vectors qualify. Ties go to the
/// smaller id. Large batches run as BLAS GEMM tiles with the norms trick and
/// k-selection fused on each tile, small batches on the SIMD kernels; the
/// distances returned are the SIMD kernels' (recompute_distances).
/// Parallel (OpenMP) over query blocks, or over database slices when there
/// are fewer query blocks than threads. The vectors must be finite: indexes
/// check them when they are added; knn() checks them itself.
void exact_search(const float* xq, size_t nq, const VectorSet& db, size_t k, MetricType metric, float* distances,
                  idx_t* labels, const IDSelector* sel = nullptr);

/// Replaces the distance of every result (label >= 0) in the nq rows of k by
/// the single-pair kernel's distance between the query and row `label` of db,
/// and sorts each row again (ties: smaller label). Searches that rank with
/// other arithmetic (GEMM tiles and the norms trick, projections) finish with
/// it, so a (query, row) pair has the same distance whatever path found it:
/// whatever the batch, the size of the set, or how it is split into shards.
void recompute_distances(const float* xq, size_t nq, const VectorSet& db, size_t k, MetricType metric,
                         float* distances, idx_t* labels);

/// Exact range search: for each query, every vector with L2 distance < radius
/// (inner product: similarity > radius), best first. Vectors must be finite.
RangeSearchResult exact_range_search(const float* xq, size_t nq, const VectorSet& db, float radius,
                                     MetricType metric, const IDSelector* sel = nullptr);

/// Brute-force search without an index: exact_search() after checking that
/// queries and database are finite.
void knn(const float* xq, size_t nq, const VectorSet& db, size_t k, MetricType metric, float* distances,
         idx_t* labels, const IDSelector* sel = nullptr);

}  // namespace sextant
