#pragma once

#include <vector>

#include "sextant/Index.h"
#include "sextant/impl/kmeans.h"

namespace sextant {

/// k-means clustering of d-dimensional points into k centroids. The
/// assignment step is exact GEMM search by default, or any index given to
/// train() (an HNSW or GPU index pays off with many centroids): the index is
/// reset and refilled with the centroids at each iteration.
class Clustering {
 public:
  Clustering(int d, int k, const KMeansParams& params = {}, MetricType metric = MetricType::L2);

  /// Runs k-means on n points. `assigner`, when given, must be an empty index of
  /// dimension d whose metric decides whether distances are minimised or
  /// similarities maximised.
  void train(idx_t n, const float* x, Index* assigner = nullptr);

  int d() const { return d_; }
  int k() const { return k_; }
  const KMeansParams& params() const { return params_; }
  MetricType metric() const { return metric_; }
  /// k x d, empty before training.
  const std::vector<float>& centroids() const { return result_.centroids; }
  /// Objective after each iteration of the kept run (sum of distances, or of similarities).
  const std::vector<float>& objective() const { return result_.objective; }
  const KMeansResult& result() const { return result_; }

 private:
  int d_, k_;
  KMeansParams params_;
  MetricType metric_;
  KMeansResult result_;
};

}  // namespace sextant
