#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "sextant/MetricType.h"

namespace sextant {

/// Results of a range search over nq queries: the hits of query i are at
/// positions [lims[i], lims[i+1]) of `distances` and `labels`, best first.
struct RangeSearchResult {
  std::vector<size_t> lims;  // nq + 1 entries, lims[0] == 0
  std::vector<float> distances;
  std::vector<idx_t> labels;

  size_t nq() const { return lims.empty() ? 0 : lims.size() - 1; }

  /// The result of per-query hit lists of (distance, label), each already best first.
  static RangeSearchResult from_hits(const std::vector<std::vector<std::pair<float, idx_t>>>& hits) {
    RangeSearchResult r;
    r.lims.assign(hits.size() + 1, 0);
    for (size_t q = 0; q < hits.size(); q++) r.lims[q + 1] = r.lims[q] + hits[q].size();
    r.distances.reserve(r.lims.back());
    r.labels.reserve(r.lims.back());
    for (const auto& h : hits) {
      for (const auto& [distance, label] : h) {
        r.distances.push_back(distance);
        r.labels.push_back(label);
      }
    }
    return r;
  }
};

}  // namespace sextant
