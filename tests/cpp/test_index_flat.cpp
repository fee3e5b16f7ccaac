#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/base/Error.h"
#include "sextant/impl/ProjectedRows.h"
#include "sextant/utils/knn.h"

namespace sextant {
namespace {

struct Case {
  size_t nq, nb, d, k;
};

// Runs the index against the exact reference for both metrics.
void check_search(const Case& c, MetricType metric, const SearchParams& params = {},
                  const std::function<bool(idx_t)>& keep = nullptr) {
  auto xb = test::random_vectors(c.nb, c.d, 100 + c.nb + c.d);
  auto xq = test::random_vectors(c.nq, c.d, 200 + c.nq + c.d);
  IndexFlat index(c.d, metric);
  index.add(c.nb, xb.data());
  std::vector<float> dist(c.nq * c.k);
  std::vector<idx_t> labels(c.nq * c.k);
  index.search(c.nq, xq.data(), c.k, dist.data(), labels.data(), params);
  for (size_t q = 0; q < c.nq; q++) {
    SCOPED_TRACE(::testing::Message() << "nq=" << c.nq << " nb=" << c.nb << " d=" << c.d << " k=" << c.k << " "
                                      << metric_name(metric) << " query " << q);
    auto exact = test::ranked(&xq[q * c.d], xb.data(), c.nb, c.d, metric, keep);
    test::expect_row_matches(exact, &dist[q * c.k], &labels[q * c.k], c.k, &xq[q * c.d], xb.data(), c.d,
                             metric, 2e-5);
    if (keep) {
      for (size_t r = 0; r < c.k; r++) {
        if (labels[q * c.k + r] >= 0) EXPECT_TRUE(keep(labels[q * c.k + r]));
      }
    }
  }
}

TEST(IndexFlat, MatchesExactSearchOnBothPaths) {
  // nq < 20 runs the SIMD kernels, larger batches the GEMM tiles (512 queries each).
  const Case cases[] = {{1, 1, 1, 1},      {1, 300, 3, 10},  {5, 1000, 17, 7},  {19, 2000, 100, 10},
                        {20, 2000, 100, 10}, {33, 777, 5, 50}, {600, 3000, 33, 5}, {40, 9, 8, 12}};
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    for (const Case& c : cases) check_search(c, metric);
  }
}

TEST(IndexFlat, NearestOfFewLowDimensionalVectors) {
  // k = 1, L2, d <= 32, at most 4096 vectors and 64+ queries: the k-means
  // assignment path (Kernels::l2_nearest); its neighbours: either side of each limit.
  const Case cases[] = {{64, 256, 14, 1},  {63, 256, 14, 1}, {300, 4096, 32, 1}, {300, 4097, 32, 1},
                        {300, 100, 33, 1}, {1000, 1, 1, 1},  {257, 17, 3, 1},    {300, 256, 8, 2}};
  for (const Case& c : cases) check_search(c, MetricType::L2);
}

TEST(IndexFlat, EveryKFromOneToBeyondNtotal) {
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    for (size_t nq : {3, 25}) {
      for (size_t k = 1; k <= 45; k++) check_search({nq, 40, 6, k}, metric);
    }
  }
}

// Rows near an 8-dimensional subspace of R^d, shifted by `offset` (a large
// common offset stresses the rounding of the projected bounds).
std::vector<float> low_rank_vectors(size_t n, size_t d, uint32_t seed, float offset = 0.0f) {
  auto basis = test::random_vectors(8, d, 7);
  auto coef = test::random_vectors(n, 8, seed);
  auto noise = test::random_vectors(n, d, seed + 1, -0.05f, 0.05f);
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++) {
      float v = offset + noise[i * d + j];
      for (size_t c = 0; c < 8; c++) v += coef[i * 8 + c] * basis[c * d + j];
      x[i * d + j] = v;
    }
  }
  return x;
}

// Checks nq result rows of k (best first) against the exact L2 ranking of xb.
void expect_exact_rows(const std::vector<float>& xb, const std::vector<float>& xq, size_t d, size_t k,
                       const std::vector<float>& dist, const std::vector<idx_t>& labels) {
  const size_t nb = xb.size() / d, nq = xq.size() / d;
  for (size_t q = 0; q < nq; q++) {
    SCOPED_TRACE(::testing::Message() << "nb=" << nb << " nq=" << nq << " k=" << k << " query " << q);
    auto exact = test::ranked(&xq[q * d], xb.data(), nb, d, MetricType::L2);
    test::expect_row_matches(exact, &dist[q * k], &labels[q * k], k, &xq[q * d], xb.data(), d, MetricType::L2,
                             2e-5);
  }
}

// Searches `index` (holding xb) and checks the results against the exact ranking.
void expect_exact(const IndexFlat& index, const std::vector<float>& xb, const std::vector<float>& xq, size_t k) {
  const size_t d = index.d(), nq = xq.size() / d;
  ASSERT_EQ(size_t(index.ntotal()), xb.size() / d);
  std::vector<float> dist(nq * k);
  std::vector<idx_t> labels(nq * k);
  index.search(nq, xq.data(), k, dist.data(), labels.data());
  expect_exact_rows(xb, xq, d, k, dist, labels);
}

TEST(ProjectedRows, ExactOnStructuredRowsItRulesOut) {
  // Structured rows (near a subspace) are ruled out by their projections, also
  // far from the origin (the bounds' rounding); one query (SIMD projections)
  // and GEMM blocks of queries. A wrong bound would show as a missed row.
  for (float offset : {0.0f, 1000.0f}) {
    const size_t d = 300, nb = 2000;
    auto xb = low_rank_vectors(nb, d, 1, offset);
    auto xq = low_rank_vectors(130, d, 3, offset);
    ProjectedRows projections(xb.data(), nb, d);
    EXPECT_TRUE(projections.selective());
    for (size_t nq : {1, 5, 130}) {
      const std::vector<float> queries(xq.begin(), xq.begin() + nq * d);
      for (size_t k : {1, 10, 60}) {
        SCOPED_TRACE(::testing::Message() << "offset=" << offset);
        std::vector<float> dist(nq * k);
        std::vector<idx_t> labels(nq * k);
        projections.search(queries.data(), nq, xb.data(), k, dist.data(), labels.data());
        expect_exact_rows(xb, queries, d, k, dist, labels);
      }
    }
  }
}

TEST(ProjectedRows, IsotropicRowsAreNotSelective) {
  // Rows spread evenly in all directions: projections rule out too few rows to
  // beat a scan, which the construction's self-test reports; answers stay exact.
  const size_t d = 256, nb = 1000, nq = 20, k = 5;
  auto xb = test::random_vectors(nb, d, 5);
  auto xq = test::random_vectors(nq, d, 6);
  ProjectedRows projections(xb.data(), nb, d);
  EXPECT_FALSE(projections.selective());
  std::vector<float> dist(nq * k);
  std::vector<idx_t> labels(nq * k);
  projections.search(xq.data(), nq, xb.data(), k, dist.data(), labels.data());
  expect_exact_rows(xb, xq, d, k, dist, labels);
}

TEST(IndexFlat, ProjectionsFollowAddsRemovalsAndReset) {
  // Rows of d >= 256 whose projections rule most rows out (ExactOnStructuredRowsItRulesOut):
  // searches for k <= ntotal / 32 go through them once 512 rows are in.
  const size_t d = 256;
  auto xb = low_rank_vectors(1500, d, 21);
  auto xq = low_rank_vectors(40, d, 23);
  ASSERT_TRUE(ProjectedRows(xb.data(), 1000, d).selective());
  IndexFlat index(d, MetricType::L2);
  std::vector<float> held;
  auto add = [&](size_t from, size_t to) {  // rows [from, to) of xb
    index.add(to - from, &xb[from * d]);
    held.insert(held.end(), xb.begin() + from * d, xb.begin() + to * d);
  };
  add(0, 300);  // too few rows for projections
  expect_exact(index, held, xq, 5);
  add(300, 1000);  // axes derived from all 1000
  expect_exact(index, held, xq, 5);
  add(1000, 1500);  // projected on the same axes
  expect_exact(index, held, xq, 5);
  // Remove every third row: the survivors' projections close up with them.
  std::vector<idx_t> removed;
  for (idx_t i = 0; i < 1500; i += 3) removed.push_back(i);
  index.remove_ids(IDSelectorBatch(removed.size(), removed.data()));
  std::vector<float> kept;
  for (size_t i = 0; i < 1500; i++) {
    if (i % 3 != 0) kept.insert(kept.end(), held.begin() + i * d, held.begin() + (i + 1) * d);
  }
  expect_exact(index, kept, xq, 5);
  index.reset();
  held.clear();
  add(700, 1400);
  expect_exact(index, held, xq, 5);
}

TEST(IndexFlat, DistancesDoNotDependOnThePathThatFoundThem) {
  // GEMM tiles (large batches), the SIMD kernels (small ones, rows four at a time), the nearest-centroid
  // kernel (k = 1, few short rows) and projections (long rows) rank with different arithmetic; the
  // distances returned are the same bits whatever the batch or the size of the set searched.
  for (size_t d : {7, 24, 300}) {
    for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
      SCOPED_TRACE("d=" + std::to_string(d) + " " + metric_name(metric));
      const size_t nb = 2003, nq = 100;
      const auto xb = test::random_vectors(nb, d, 31), xq = test::random_vectors(nq, d, 32);
      IndexFlat whole(d, metric), part(d, metric);
      whole.add(nb, xb.data());
      part.add(nb - 1001, xb.data() + 1001 * d);  // rows 1001.. at other positions, in a smaller set
      for (size_t k : {1, 5}) {
        std::vector<float> batch_d(nq * k), one_d(k), part_d(k);
        std::vector<idx_t> batch_l(nq * k), one_l(k), part_l(k);
        whole.search(nq, xq.data(), k, batch_d.data(), batch_l.data());
        for (size_t q = 0; q < nq; q++) {
          whole.search(1, &xq[q * d], k, one_d.data(), one_l.data());
          EXPECT_EQ(one_l, std::vector<idx_t>(batch_l.begin() + q * k, batch_l.begin() + (q + 1) * k));
          EXPECT_EQ(one_d, std::vector<float>(batch_d.begin() + q * k, batch_d.begin() + (q + 1) * k));
          part.search(1, &xq[q * d], k, part_d.data(), part_l.data());
          for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < k; j++) {
              if (batch_l[q * k + j] == part_l[i] + 1001) EXPECT_EQ(batch_d[q * k + j], part_d[i]);
            }
          }
        }
      }
    }
  }
}

TEST(IndexFlat, SameResultsWithOneOrManyThreads) {
  // Few query blocks and a large database: work splits into database slices,
  // whose GEMM tiles start at other columns: distances may differ in the last bit.
  for (size_t nq : {1, 3, 30, 1100}) {
    auto xb = test::random_vectors(20000, 24, 1);
    auto xq = test::random_vectors(nq, 24, 2);
    IndexFlat index(24, MetricType::L2);
    index.add(20000, xb.data());
    std::vector<float> d1(nq * 10), d4(nq * 10);
    std::vector<idx_t> l1(nq * 10), l4(nq * 10);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    index.search(nq, xq.data(), 10, d1.data(), l1.data());
    omp_set_num_threads(4);
    index.search(nq, xq.data(), 10, d4.data(), l4.data());
    omp_set_num_threads(saved);
    EXPECT_EQ(l1, l4) << "nq=" << nq;
    for (size_t i = 0; i < d1.size(); i++) EXPECT_NEAR(d1[i], d4[i], 1e-5f * d1[i]) << "nq=" << nq;
  }
}

TEST(IndexFlat, SelectorsRestrictResults) {
  const size_t nb = 3000;
  std::vector<idx_t> batch_ids;
  for (idx_t i = 0; i < idx_t(nb); i += 7) batch_ids.push_back(i);
  std::vector<uint8_t> bitmap(nb / 8 + 1, 0);
  for (size_t i = 0; i < nb; i += 3) bitmap[i / 8] |= uint8_t(1u << (i % 8));
  auto range = std::make_shared<IDSelectorRange>(100, 400);
  std::vector<std::pair<std::shared_ptr<const IDSelector>, std::function<bool(idx_t)>>> selectors = {
      {range, [](idx_t i) { return i >= 100 && i < 400; }},
      {std::make_shared<IDSelectorBatch>(batch_ids.size(), batch_ids.data()), [](idx_t i) { return i % 7 == 0; }},
      {std::make_shared<IDSelectorBitmap>(bitmap.size(), bitmap.data()), [](idx_t i) { return i % 3 == 0; }},
      {std::make_shared<IDSelectorNot>(range), [](idx_t i) { return i < 100 || i >= 400; }},
      {std::make_shared<IDSelectorRange>(5, 8), [](idx_t i) { return i >= 5 && i < 8; }},  // fewer than k
  };
  for (auto& [sel, keep] : selectors) {
    SearchParams params;
    params.sel = sel;
    for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
      check_search({4, nb, 12, 10}, metric, params, keep);
      check_search({64, nb, 12, 10}, metric, params, keep);
    }
  }
}

TEST(IndexFlat, RangeSearchMatchesExact) {
  const size_t nb = 2500, d = 10;
  auto xb = test::random_vectors(nb, d, 5);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    IndexFlat index(d, metric);
    index.add(nb, xb.data());
    const float radius = metric == MetricType::L2 ? 1.5f : 1.2f;
    for (size_t nq : {3, 45}) {
      auto xq = test::random_vectors(nq, d, 6 + nq);
      RangeSearchResult res = index.range_search(nq, xq.data(), radius);
      ASSERT_EQ(res.lims.size(), nq + 1);
      for (size_t q = 0; q < nq; q++) {
        auto exact = test::ranked(&xq[q * d], xb.data(), nb, d, metric);
        std::vector<std::pair<double, idx_t>> inside;
        for (auto& e : exact) {
          // Leave out borderline vectors, whose side of the radius float rounding decides.
          if (std::fabs(e.first - radius) < 1e-4) continue;
          if (metric == MetricType::L2 ? e.first < radius : e.first > radius) inside.push_back(e);
        }
        size_t got = res.lims[q + 1] - res.lims[q];
        EXPECT_NEAR(double(got), double(inside.size()), 2.0) << metric_name(metric) << " query " << q;
        std::set<idx_t> labels(res.labels.begin() + res.lims[q], res.labels.begin() + res.lims[q + 1]);
        for (auto& e : inside) EXPECT_TRUE(labels.count(e.second)) << "missing id " << e.second;
        for (size_t i = res.lims[q]; i < res.lims[q + 1]; i++) {
          double true_dist = test::exact_distance(&xq[q * d], &xb[res.labels[i] * d], d, metric);
          EXPECT_NEAR(res.distances[i], true_dist, 1e-4);
          if (i > res.lims[q]) {  // best first
            if (metric == MetricType::L2) EXPECT_LE(res.distances[i - 1], res.distances[i]);
            else EXPECT_GE(res.distances[i - 1], res.distances[i]);
          }
        }
      }
    }
  }
}

TEST(IndexFlat, ReconstructRemoveReset) {
  const size_t nb = 100, d = 7;
  auto xb = test::random_vectors(nb, d, 9);
  IndexFlat index(d, MetricType::L2);
  index.add(nb, xb.data());
  std::vector<float> r(d);
  index.reconstruct(42, r.data());
  EXPECT_EQ(std::vector<float>(xb.begin() + 42 * d, xb.begin() + 43 * d), r);
  EXPECT_THROW(index.reconstruct(nb, r.data()), Error);
  EXPECT_THROW(index.reconstruct(-1, r.data()), Error);

  std::vector<float> all(nb * d);
  index.reconstruct_n(0, nb, all.data());
  EXPECT_EQ(all, xb);

  std::vector<uint8_t> codes(index.sa_code_size() * 3);
  EXPECT_EQ(index.sa_code_size(), d * sizeof(float));
  index.sa_encode(3, xb.data(), codes.data());
  std::vector<float> decoded(3 * d);
  index.sa_decode(3, codes.data(), decoded.data());
  EXPECT_EQ(decoded, std::vector<float>(xb.begin(), xb.begin() + 3 * d));

  // Removing [10, 20) closes the gap: old id 20 becomes id 10.
  EXPECT_EQ(index.remove_ids(IDSelectorRange(10, 20)), 10u);
  EXPECT_EQ(index.ntotal(), idx_t(nb - 10));
  index.reconstruct(10, r.data());
  EXPECT_EQ(std::vector<float>(xb.begin() + 20 * d, xb.begin() + 21 * d), r);
  float dist;
  idx_t label;
  index.search(1, &xb[25 * d], 1, &dist, &label);
  EXPECT_EQ(label, 15);
  EXPECT_NEAR(dist, 0.0f, 1e-6);

  std::vector<float> sd(2 * 3), recons(2 * 3 * d);
  std::vector<idx_t> sl(2 * 3);
  index.search_and_reconstruct(2, xb.data(), 3, sd.data(), sl.data(), recons.data());
  for (size_t i = 0; i < 6; i++) {
    index.reconstruct(sl[i], r.data());
    EXPECT_EQ(std::vector<float>(recons.begin() + i * d, recons.begin() + (i + 1) * d), r);
  }

  index.reset();
  EXPECT_EQ(index.ntotal(), 0);
  index.search(1, xb.data(), 2, sd.data(), sl.data());
  EXPECT_EQ(sl[0], -1);
  EXPECT_EQ(sd[0], std::numeric_limits<float>::infinity());
}

TEST(IndexFlat, BadInputsRaiseClearErrors) {
  auto expect_error = [](auto&& fn, const std::string& fragment) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one mentioning '" << fragment << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error([] { IndexFlat(0); }, "d (the vector dimension) must be > 0");
  IndexFlat index(4, MetricType::INNER_PRODUCT);
  std::vector<float> x = {1, 2, 3, 4}, d(4);
  std::vector<idx_t> l(4);
  index.add(1, x.data());
  expect_error([&] { index.search(1, x.data(), 0, d.data(), l.data()); }, "k must be > 0");
  expect_error([&] { index.search(-1, x.data(), 1, d.data(), l.data()); }, "must be >= 0");
  x[2] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { index.search(1, x.data(), 1, d.data(), l.data()); }, "queries must be finite: row 0, column 2");
  expect_error([&] { index.add(1, x.data()); }, "added vectors must be finite");
  x[2] = std::numeric_limits<float>::infinity();
  expect_error([&] { index.add(1, x.data()); }, "must be finite");
  x[2] = 3;
  SearchParams params;
  params.nprobe = 4;
  expect_error([&] { index.search(1, x.data(), 1, d.data(), l.data(), params); },
               "IndexFlat does not use SearchParams field(s): nprobe");
  idx_t id = 5;
  expect_error([&] { index.add_with_ids(1, x.data(), &id); }, "wrap it in IndexIDMap");
  expect_error([&] { knn(x.data(), 1, VectorSet{x.data(), 1, 4}, 0, MetricType::L2, d.data(), l.data()); },
               "k must be > 0");
  EXPECT_EQ(index.ntotal(), 1);  // failed calls changed nothing
}

TEST(Knn, FreeFunctionMatchesIndex) {
  const size_t nb = 500, nq = 30, d = 16, k = 5;
  auto xb = test::random_vectors(nb, d, 11), xq = test::random_vectors(nq, d, 12);
  IndexFlat index(d, MetricType::L2);
  index.add(nb, xb.data());
  std::vector<float> d1(nq * k), d2(nq * k);
  std::vector<idx_t> l1(nq * k), l2(nq * k);
  index.search(nq, xq.data(), k, d1.data(), l1.data());
  knn(xq.data(), nq, VectorSet{xb.data(), nb, d}, k, MetricType::L2, d2.data(), l2.data());
  EXPECT_EQ(l1, l2);
  for (size_t i = 0; i < nq * k; i++) EXPECT_NEAR(d1[i], d2[i], 1e-5);
}

}  // namespace
}  // namespace sextant
