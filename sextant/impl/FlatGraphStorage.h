#pragma once

#include <vector>

#include "sextant/MetricType.h"
#include "sextant/impl/GraphDistance.h"
#include "sextant/utils/HugePageAllocator.h"

namespace sextant {

/// Float vectors stored as they are, row after row, traversable by a graph.
/// Rows sit in huge-page-backed memory: a graph search jumps between random
/// rows, and with 4 KiB pages nearly every jump would also miss the TLB.
/// Distances use the active SIMD kernels; the batch call prefetches the next
/// rows while it computes the current one, and (L2) stops a row early once its
/// partial sum reaches the bound.
class FlatGraphStorage final : public GraphStorage {
 public:
  FlatGraphStorage(size_t d, MetricType metric) : d_(d), metric_(metric) {}

  size_t d() const { return d_; }
  MetricType metric() const { return metric_; }
  size_t size() const { return xb_.size() / d_; }
  const float* data() const { return xb_.data(); }
  const float* row(size_t i) const { return xb_.data() + i * d_; }

  void append(size_t n, const float* x);
  void replace(size_t i, const float* x);
  /// Keeps rows kept[0], kept[1], ... (increasing) as rows 0, 1, ...
  void compact(const std::vector<node_t>& kept);
  void clear() { xb_.clear(); }
  size_t memory_bytes() const { return xb_.capacity() * sizeof(float); }

  std::unique_ptr<GraphDistance> distance_computer() const override;

 private:
  size_t d_;
  MetricType metric_;
  LargeVector<float> xb_;
};

}  // namespace sextant
