#pragma once

#include <cstddef>
#include <vector>

#include "sextant/MetricType.h"

namespace sextant {

/// Exact L2 k-nearest-neighbour search that reads few of the rows of a
/// high-dimensional set, such as the centroids of an IVF index's coarse
/// quantizer.
///
/// Each row also lives as its projection on kDim orthonormal axes P (the
/// rows' leading principal axes). As ||P(q - y)||^2 <= ||q - y||^2, a row
/// whose projected distance already reaches the k-th best exact distance
/// cannot be among the k nearest, and its d floats are never read. A query
/// gets the exact distances of the k rows nearest in projection, then of the
/// other rows whose projected distance is below the k-th of those: on 1024
/// k-means centroids of Fashion-MNIST (d = 784) that is ~3-5% of the rows for
/// k = 8-16, where a GEMM computes all. The answer is exact whatever the axes;
/// how well they fit the rows only decides how many rows are read.
class ProjectedRows {
 public:
  static constexpr size_t kDim = 64;

  /// Whether rows of dimension d are long enough for the projections to pay.
  static bool worthwhile(size_t d) { return d >= 4 * kDim; }

  ProjectedRows() = default;
  /// Axes from the n rows x of dimension d (a sample of them when n is large),
  /// and the projections of all n.
  ProjectedRows(const float* x, size_t n, size_t d);

  bool empty() const { return axes_.empty(); }
  /// Whether the rows are structured enough for the projections to rule out
  /// most of them (tested at construction; otherwise a GEMM scan is faster).
  bool selective() const { return selective_; }
  size_t size() const { return projections_.size() / kDim; }

  /// Projects n more rows on the same axes.
  void append(const float* x, size_t n);
  /// Replaces the projections by those of the n rows x (after rows were removed).
  void assign(const float* x, size_t n);

  /// For each of nq queries, the k nearest of `rows` (the size() rows these
  /// projections come from), best first and padded with (+inf, -1); ties go
  /// to the smaller id. Parallel over queries.
  void search(const float* xq, size_t nq, const float* rows, size_t k, float* distances, idx_t* labels) const;

 private:
  struct Scratch;
  /// out (n x kDim) = P (x - mean) for n rows x: a GEMM for many rows, the SIMD
  /// kernels for a few (where a GEMM would mostly pack matrices).
  void project(const float* x, size_t n, float* out) const;
  /// Searches m <= kQueryBlock queries; returns how many rows it read.
  size_t search_block(const float* xq, size_t m, const float* rows, size_t k, Scratch& scratch, float* distances,
                      idx_t* labels) const;
  size_t search_one(const float* x, float x_offset, const float* products, const float* rows, size_t k,
                    Scratch& scratch, float* distances, idx_t* labels) const;

  size_t d_ = 0;
  bool selective_ = false;
  std::vector<float> axes_;  // kDim x d, orthonormal rows
  std::vector<float> bias_;  // -P mean, the rows' mean: projections are of y - mean (short, so little rounding)
  // The projected distance of q and y, |P(q - mean)|^2 + |P(y - mean)|^2 - 2 <.,.>
  // through a GEMM, is scaled by shrink_ and lowered by kRoundoff (|.|^2 + |.|^2)
  // so that it stays below the exact distance despite float rounding and the
  // axes' deviation from orthonormality.
  float shrink_ = 1.0f;
  std::vector<float> projections_;  // size() x kDim
  std::vector<float> offsets_;      // per row: (shrink_ - kRoundoff) |P(y - mean)|^2
};

}  // namespace sextant
