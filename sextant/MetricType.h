#pragma once

#include <cstdint>
#include <limits>

namespace sextant {

/// Vector identifiers (labels). -1 marks a missing result.
using idx_t = int64_t;

/// The two metrics every index supports. The values match Faiss's, so files
/// and code written for Faiss keep their meaning. Cosine similarity is the
/// inner product of L2-normalised vectors (see normalize_L2).
enum class MetricType : int {
  INNER_PRODUCT = 0,  ///< larger is closer
  L2 = 1,             ///< squared Euclidean distance, smaller is closer
};

/// True when larger values are better (inner product).
constexpr bool is_similarity(MetricType metric) { return metric == MetricType::INNER_PRODUCT; }

/// The distance reported for a missing result: the worst possible value.
constexpr float worst_distance(MetricType metric) {
  return is_similarity(metric) ? -std::numeric_limits<float>::infinity()
                               : std::numeric_limits<float>::infinity();
}

constexpr const char* metric_name(MetricType metric) {
  return metric == MetricType::L2 ? "L2" : "INNER_PRODUCT";
}

}  // namespace sextant
