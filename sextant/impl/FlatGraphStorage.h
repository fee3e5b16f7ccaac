#pragma once

#include <vector>

#include "sextant/MetricType.h"
#include "sextant/base/HugePageAllocator.h"
#include "sextant/impl/GraphDistance.h"

namespace sextant {

/// Float vectors stored exactly, row after row, traversable by a graph.
///
/// Rows sit in huge-page-backed memory: a graph search jumps between random
/// rows, and with 4 KiB pages nearly every jump would also miss the TLB.
///
/// Split rows: the high 16 bits of each float (sign, exponent, 7 mantissa
/// bits) are kept in one array and the low 16 bits in another (SplitQuery in
/// kernels.h): 4 bytes a float, as before. A traversal reads only the high
/// halves, half the bytes, through the gather kernels: the neighbours of a node
/// a few rows at a time with the next rows prefetched. Its distances carry the
/// truncation of each element to 8 significant bits (relative error < 2^-7),
/// which steers a search as well as exact ones; the search then re-ranks the
/// candidates it returns with exact distances, which read both halves (only
/// those that the truncation's bound, GraphDistance::exact_range, leaves in
/// reach of the k best: MiniLM: about 14 of 24 at efSearch 24, 14 of 64 at 64). The
/// halves live apart because a row's high halves are then contiguous (the
/// prefetchers running past them fetch the next row's, not the low halves):
/// one thread, MiniLM inner product +27% QPS at the same recall against +2%
/// with the halves side by side in one row. Against whole float rows: MiniLM
/// +27% single-query, +23% batch; Fashion-MNIST +10% and +17%; builds 10-15%
/// faster (benchs/RESULTS.md).
///
/// Rows whose floats all have 8 significant bits or fewer (integers below
/// 256: pixels, SIFT descriptors; bfloat16 embeddings) have zero low halves.
/// While every stored row is such a row, the storage keeps no low halves at
/// all: half the memory, and traversal distances are exact, so nothing is
/// re-ranked. The first row that needs them brings them for every row.
///
/// An L2 row stops once its partial sum reaches the candidate pool's bound.
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

  FlatGraphStorage(size_t d, MetricType metric) : d_(d), w_((d + 1) / 2), metric_(metric) {}

  size_t d() const { return d_; }
  MetricType metric() const { return metric_; }
  size_t size() const { return high_.size() / w_; }

  void append(size_t n, const float* x);
  void replace(size_t i, const float* x);
  /// Writes row i in the caller's column order.
  void reconstruct(size_t i, float* out) const;
  /// Keeps rows kept[0], kept[1], ... (increasing) as rows 0, 1, ...
  void compact(const std::vector<node_t>& kept);
  /// Row old_of_new[j] becomes row j (in place, one row of scratch).
  void permute(const std::vector<node_t>& old_of_new);
  void clear();
  size_t memory_bytes() const {
    return (high_.capacity() + low_.capacity() + order_.capacity()) * sizeof(uint32_t);
  }

  /// The stored state, for index files: the column order (empty: identity),
  /// whether it is fixed, and the rows as stored (node order, column order),
  /// as d floats each.
  const std::vector<uint32_t>& column_order() const { return order_; }
  bool column_order_fixed() const { return order_fixed_; }
  void stored_row(size_t i, float* out) const;
  /// Restores that state from the bytes of n rows of d floats (`floats` in
  /// all, checked; any alignment); checks that `order` is a permutation.
  void restore(std::vector<uint32_t> order, bool fixed, const uint8_t* rows, size_t floats, size_t n);

  std::unique_ptr<GraphDistance> distance_computer() const override;

 private:
  uint32_t* high(size_t i) { return high_.data() + i * w_; }
  uint32_t* low(size_t i) { return low_.data() + i * w_; }
  const uint32_t* low_or_null(size_t i) const;
  const uint32_t* high(size_t i) const { return high_.data() + i * w_; }
  const uint32_t* low(size_t i) const { return low_.data() + i * w_; }
  /// Stores x (caller's column order) as split row i.
  void store(const float* x, size_t i);
  /// Re-derives the column order from the stored rows and the n new rows x.
  void choose_order(size_t n, const float* x);

  size_t d_;
  size_t w_;  // words per half row: ceil(d / 2)
  MetricType metric_;
  std::vector<uint32_t> order_;  // stored column j is input column order_[j]; empty: identity
  bool order_fixed_ = false;
  LargeVector<uint32_t> high_, low_;  // w_ words a row each; low_ empty while every row's low halves are 0
  float max_norm_ = 0;                 // >= the norm of every row stored (exact_range)
};

}  // namespace sextant
