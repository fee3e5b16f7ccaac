#pragma once

#include <cstddef>
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
};

}  // namespace sextant
