// Test helpers: two indexes give the same answers, bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "sextant/Index.h"

namespace sextant::test {

struct Results {
  std::vector<float> distances;
  std::vector<idx_t> labels;
};

inline Results search(const Index& index, const std::vector<float>& xq, size_t k, const SearchParams& params = {}) {
  const size_t nq = xq.size() / index.d();
  Results r{std::vector<float>(nq * k), std::vector<idx_t>(nq * k)};
  index.search(nq, xq.data(), k, r.distances.data(), r.labels.data(), params);
  return r;
}

inline void expect_same_results(const Results& a, const Results& b) {
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.distances, b.distances);
}

// The whole batch, and its first query alone: small batches take other kernels than large ones.
inline void expect_same_search(const Index& a, const Index& b, const std::vector<float>& xq, size_t k,
                               const SearchParams& params = {}) {
  expect_same_results(search(a, xq, k, params), search(b, xq, k, params));
  const std::vector<float> one(xq.begin(), xq.begin() + a.d());
  expect_same_results(search(a, one, k, params), search(b, one, k, params));
}

inline void expect_same_range(const Index& a, const Index& b, const std::vector<float>& xq, float radius) {
  const size_t nq = xq.size() / a.d();
  const RangeSearchResult ra = a.range_search(nq, xq.data(), radius), rb = b.range_search(nq, xq.data(), radius);
  EXPECT_EQ(ra.lims, rb.lims);
  EXPECT_EQ(ra.labels, rb.labels);
  EXPECT_EQ(ra.distances, rb.distances);
}

}  // namespace sextant::test
