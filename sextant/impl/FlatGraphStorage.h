#pragma once

#include <vector>

#include "sextant/MetricType.h"
#include "sextant/impl/GraphDistance.h"
#include "sextant/utils/HugePageAllocator.h"

namespace sextant {

/// Float vectors stored exactly, row after row, traversable by a graph.
///
/// Rows sit in huge-page-backed memory: a graph search jumps between random
/// rows, and with 4 KiB pages nearly every jump would also miss the TLB.
/// Distances come from the gather kernels (kernels.h): the neighbours of a
/// node are read a few rows at a time with the next rows prefetched, and an L2
/// row stops once its partial sum reaches the candidate pool's bound.
///
/// Inner product has no such stop: a partial inner product bounds nothing.
/// (Normalised rows make -<q, y> an L2 distance in disguise, but the L2 stop
/// then cuts only 5% of the floats of MiniLM embeddings, and its checks cost
/// more than that: the plain inner-product gather is 10-15% faster.)
///
/// Column order (L2): the columns are stored by decreasing variance, so
/// that the columns where two vectors differ most come first and a rejected
/// row crosses the bound after fewer bytes (Fashion-MNIST: 77% of the bytes
/// read instead of 86%; a few % QPS, as the hardware prefetcher reads ahead). The
/// order is derived from the rows present while the storage holds fewer than
/// kOrderFixedAt rows (the rows are rewritten each time), then fixed. Queries
/// are reordered on entry and reconstruct() restores the caller's order, so
/// the order is invisible outside. Inner-product rows keep the caller's order.
class FlatGraphStorage final : public GraphStorage {
 public:
  static constexpr size_t kOrderFixedAt = 4096;

  FlatGraphStorage(size_t d, MetricType metric) : d_(d), metric_(metric) {}

  size_t d() const { return d_; }
  MetricType metric() const { return metric_; }
  size_t size() const { return xb_.size() / d_; }

  void append(size_t n, const float* x);
  void replace(size_t i, const float* x);
  /// Writes row i in the caller's column order.
  void reconstruct(size_t i, float* out) const;
  /// Keeps rows kept[0], kept[1], ... (increasing) as rows 0, 1, ...
  void compact(const std::vector<node_t>& kept);
  /// Row old_of_new[j] becomes row j (in place, one row of scratch).
  void permute(const std::vector<node_t>& old_of_new);
  void clear();
  size_t memory_bytes() const { return xb_.capacity() * sizeof(float) + order_.capacity() * sizeof(uint32_t); }

  /// The stored state, for index files: the column order (empty: identity),
  /// whether it is fixed, and the rows as stored (node order, column order).
  const std::vector<uint32_t>& column_order() const { return order_; }
  bool column_order_fixed() const { return order_fixed_; }
  const float* rows() const { return xb_.data(); }
  /// Restores that state (n rows); checks that `order` is a permutation.
  void restore(std::vector<uint32_t> order, bool fixed, LargeVector<float> rows, size_t n);

  std::unique_ptr<GraphDistance> distance_computer() const override;

 private:
  float* row(size_t i) { return xb_.data() + i * d_; }
  const float* row(size_t i) const { return xb_.data() + i * d_; }
  void store(const float* x, float* out) const;
  /// Re-derives the column order from the stored rows and the n new rows x.
  void choose_order(size_t n, const float* x);

  size_t d_;
  MetricType metric_;
  std::vector<uint32_t> order_;  // stored column j is input column order_[j]; empty: identity
  bool order_fixed_ = false;
  LargeVector<float> xb_;
};

}  // namespace sextant
