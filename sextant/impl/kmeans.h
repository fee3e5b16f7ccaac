#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sextant/MetricType.h"

namespace sextant {

enum class KMeansInit { random, kmeans_plus_plus };

/// Parameters of k-means; the defaults follow Faiss's but for the initialisation.
struct KMeansParams {
  int niter = 25;                     ///< Lloyd iterations per run
  int nredo = 1;                      ///< independent runs; the best objective wins
  bool spherical = false;             ///< normalise centroids after each update (for inner product)
  /// k-means++ (on a projected sample, see kmeans.cpp): on clustered data it
  /// finds a much lower objective than Faiss's uniform draw, for under 1% of the time.
  KMeansInit init = KMeansInit::kmeans_plus_plus;
  uint64_t seed = 1234;               ///< same seed and thread count: same result
  int max_points_per_centroid = 256;  ///< train on a sample of at most this many points per centroid
  int min_points_per_centroid = 39;   ///< fewer points per centroid than this is reported as a warning
  bool verbose = false;               ///< report on stderr: a bar per iteration on a terminal, a summary at the end
};

/// The assignment step: for each of the n points, the nearest of the k
/// centroids (label) and its distance (or similarity, for inner product).
using KMeansAssign = std::function<void(size_t n, const float* x, size_t k, const float* centroids,
                                        idx_t* labels, float* distances)>;

struct KMeansResult {
  std::vector<float> centroids;   ///< k x d
  std::vector<float> objective;   ///< after each iteration of the kept run: sum of distances (or similarities)
  size_t points_used = 0;         ///< training points after sampling
  size_t empty_splits = 0;        ///< empty clusters that were re-seeded by splitting a large one
};

/// Lloyd's k-means of n points of dimension d into k clusters. `assign` does
/// the assignment step (an exact GEMM search by default, any index in
/// Clustering); `maximize` is true when it returns similarities (inner product).
KMeansResult kmeans(size_t n, size_t d, const float* x, size_t k, const KMeansParams& params,
                    const KMeansAssign& assign, bool maximize);

/// The exact assignment step for `metric` (GEMM tiles with fused top-1).
KMeansAssign exact_assign(size_t d, MetricType metric);

}  // namespace sextant
