// Test helpers: seeded data and a plain double-precision exact search.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sextant/MetricType.h"

namespace sextant::test {

/// The test name of a factory-string parameter: "IVF16,PQ8" becomes "IVF16_PQ8".
inline std::string factory_name(const ::testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

/// Fraction of the true top-k labels (ref) found in res's top-k.
inline double recall_at_k(const std::vector<idx_t>& ref, const std::vector<idx_t>& res, size_t n, size_t k) {
  size_t hit = 0;
  for (size_t q = 0; q < n; q++) {
    std::set<idx_t> s(ref.begin() + q * k, ref.begin() + (q + 1) * k);
    for (size_t r = 0; r < k; r++) hit += s.count(res[q * k + r]);
  }
  return double(hit) / double(n * k);
}

inline std::vector<float> random_vectors(size_t n, size_t d, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> x(n * d);
  for (float& v : x) v = dist(rng);
  return x;
}

inline double exact_distance(const float* a, const float* b, size_t d, MetricType metric) {
  double s = 0;
  for (size_t i = 0; i < d; i++) {
    s += metric == MetricType::L2 ? (double(a[i]) - b[i]) * (double(a[i]) - b[i]) : double(a[i]) * b[i];
  }
  return s;
}

/// All (distance, id) of one query, best first (ties: smaller id).
inline std::vector<std::pair<double, idx_t>> ranked(const float* q, const float* xb, size_t nb, size_t d,
                                                    MetricType metric,
                                                    const std::function<bool(idx_t)>& keep = nullptr) {
  std::vector<std::pair<double, idx_t>> all;
  for (size_t j = 0; j < nb; j++) {
    if (keep && !keep(j)) continue;
    double dist = exact_distance(q, xb + j * d, d, metric);
    all.emplace_back(is_similarity(metric) ? -dist : dist, idx_t(j));
  }
  std::sort(all.begin(), all.end());
  for (auto& e : all) e.first = is_similarity(metric) ? -e.first : e.first;
  return all;
}

/// Checks one result row against the exact ranking: each rank holds a
/// distance within `tol` of the exact one at that rank, each label's true
/// distance matches its reported distance, labels are distinct, and missing
/// results are padded with (worst distance, -1).
inline void expect_row_matches(const std::vector<std::pair<double, idx_t>>& exact, const float* dist,
                               const idx_t* labels, size_t k, const float* q, const float* xb, size_t d,
                               MetricType metric, double tol) {
  std::set<idx_t> seen;
  for (size_t r = 0; r < k; r++) {
    if (r >= exact.size()) {
      EXPECT_EQ(labels[r], -1) << "rank " << r;
      EXPECT_EQ(dist[r], worst_distance(metric)) << "rank " << r;
      continue;
    }
    double scale = std::max(1.0, std::fabs(exact[r].first));
    EXPECT_NEAR(dist[r], exact[r].first, tol * scale) << "rank " << r;
    ASSERT_GE(labels[r], 0) << "rank " << r;
    EXPECT_TRUE(seen.insert(labels[r]).second) << "label " << labels[r] << " repeated";
    EXPECT_NEAR(exact_distance(q, xb + labels[r] * d, d, metric), exact[r].first, 2 * tol * scale)
        << "rank " << r << " label " << labels[r];
  }
}

}  // namespace sextant::test
