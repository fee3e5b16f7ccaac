#include "sextant/utils/merge_results.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sextant/base/Error.h"

namespace sextant {

namespace {

// One result, with a key that is smaller for better results whatever the
// metric; NaN keys are ranked after every number.
struct Hit {
  float key;
  idx_t id;
  float distance;
};

bool better(const Hit& a, const Hit& b) {
  const bool a_nan = std::isnan(a.key), b_nan = std::isnan(b.key);
  if (a_nan != b_nan) return b_nan;
  if (!a_nan && a.key != b.key) return a.key < b.key;
  return a.id < b.id;
}

Hit hit(float distance, idx_t id, MetricType metric) {
  return {metric == MetricType::L2 ? distance : -distance, id, distance};
}

}  // namespace

void merge_knn_results(size_t nparts, size_t nq, size_t k, const float* D, const idx_t* I, MetricType metric,
                       float* out_D, idx_t* out_I) {
  SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
  const float worst = metric == MetricType::L2 ? std::numeric_limits<float>::infinity()
                                               : -std::numeric_limits<float>::infinity();
  std::vector<Hit> hits;
  hits.reserve(nparts * k);
  for (size_t q = 0; q < nq; q++) {
    hits.clear();
    for (size_t p = 0; p < nparts; p++) {
      const size_t row = (p * nq + q) * k;
      for (size_t j = 0; j < k; j++) {
        if (I[row + j] >= 0) hits.push_back(hit(D[row + j], I[row + j], metric));
      }
    }
    const size_t kept = std::min(k, hits.size());
    std::partial_sort(hits.begin(), hits.begin() + kept, hits.end(), better);
    for (size_t j = 0; j < k; j++) {
      out_D[q * k + j] = j < kept ? hits[j].distance : worst;
      out_I[q * k + j] = j < kept ? hits[j].id : -1;
    }
  }
}

RangeSearchResult merge_range_results(std::span<const RangeSearchResult> parts, MetricType metric) {
  RangeSearchResult out;
  const size_t nq = parts.empty() ? 0 : parts[0].nq();
  for (const RangeSearchResult& part : parts) {
    SEXTANT_CHECK(part.nq() == nq, "range results to merge cover ", part.nq(), " and ", nq, " queries");
  }
  out.lims.assign(1, 0);
  std::vector<Hit> hits;
  for (size_t q = 0; q < nq; q++) {
    hits.clear();
    for (const RangeSearchResult& part : parts) {
      for (size_t j = part.lims[q]; j < part.lims[q + 1]; j++) hits.push_back(hit(part.distances[j], part.labels[j], metric));
    }
    std::sort(hits.begin(), hits.end(), better);
    for (const Hit& h : hits) {
      out.distances.push_back(h.distance);
      out.labels.push_back(h.id);
    }
    out.lims.push_back(out.labels.size());
  }
  return out;
}

}  // namespace sextant
