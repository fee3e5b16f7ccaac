#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexRefine.h"
#include "sextant/base/Error.h"

namespace sextant {
namespace {

// Vectors whose every sub-vector is one of `ksub` prototypes plus small noise:
// a trained PQ must find the prototypes and decode within the noise.
std::vector<float> from_codebook(size_t n, size_t d, size_t M, size_t ksub, uint32_t seed) {
  const size_t dsub = d / M;
  auto protos = test::random_vectors(M * ksub, dsub, seed, -5, 5);
  auto noise = test::random_vectors(n, d, seed + 1, -0.01f, 0.01f);
  std::mt19937 rng(seed + 2);
  for (size_t i = 0; i < n; i++) {
    for (size_t m = 0; m < M; m++) {
      const size_t c = rng() % ksub;
      for (size_t j = 0; j < dsub; j++) noise[i * d + m * dsub + j] += protos[(m * ksub + c) * dsub + j];
    }
  }
  return noise;
}

TEST(ProductQuantizer, RecoversAKnownCodebook) {
  const size_t n = 4000, d = 16, M = 4, nbits = 4;
  auto x = from_codebook(n, d, M, 16, 3);
  ProductQuantizer pq(d, M, nbits);
  pq.train_params().init = KMeansInit::kmeans_plus_plus;
  pq.train(n, x.data());
  std::vector<uint8_t> codes(n * pq.code_size());
  std::vector<float> y(n * d);
  pq.encode(n, x.data(), codes.data());
  pq.decode(n, codes.data(), y.data());
  double err = 0;
  for (size_t i = 0; i < n * d; i++) err = std::max(err, double(std::fabs(x[i] - y[i])));
  EXPECT_LT(err, 0.05);
}

TEST(ProductQuantizer, CodesPackAnyBitWidth) {
  for (size_t nbits : {4, 5, 6, 8, 10, 12}) {
    const size_t d = 6, M = 3, ksub = size_t{1} << nbits;
    ProductQuantizer pq(d, M, nbits);
    std::vector<float> centroids(M * ksub * 2);
    for (size_t i = 0; i < centroids.size(); i++) centroids[i] = float(i % (2 * ksub));
    pq.set_centroids(centroids);
    // A vector equal to centroid c_m in each subspace encodes as (c_0, c_1, c_2).
    const size_t chosen[3] = {1, ksub - 1, ksub / 2};
    std::vector<float> x(d);
    for (size_t m = 0; m < M; m++) {
      for (size_t j = 0; j < 2; j++) x[m * 2 + j] = centroids[(m * ksub + chosen[m]) * 2 + j];
    }
    std::vector<uint8_t> code(pq.code_size());
    EXPECT_EQ(pq.code_size(), (M * nbits + 7) / 8);
    pq.encode(1, x.data(), code.data());
    for (size_t m = 0; m < M; m++) EXPECT_EQ(pq.code_at(code.data(), m), chosen[m]) << "nbits " << nbits;
  }
}

TEST(ProductQuantizer, AsymmetricDistancesEqualDistancesToDecodedVectors) {
  const size_t n = 600, d = 24;
  auto x = test::random_vectors(n, d, 5), q = test::random_vectors(1, d, 6);
  for (size_t nbits : {8, 6}) {
    ProductQuantizer pq(d, 6, nbits);
    pq.train(n, x.data());
    std::vector<uint8_t> codes(n * pq.code_size());
    std::vector<float> y(n * d), table(pq.M() * pq.ksub()), got(n);
    pq.encode(n, x.data(), codes.data());
    pq.decode(n, codes.data(), y.data());
    for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
      pq.compute_table(q.data(), metric, table.data());
      pq.score(table.data(), codes.data(), n, got.data());
      for (size_t j = 0; j < n; j++) {
        EXPECT_NEAR(got[j], test::exact_distance(q.data(), &y[j * d], d, metric), 1e-4) << nbits;
      }
    }
    auto sdc = pq.symmetric_table();
    const size_t ksub = pq.ksub(), dsub = pq.dsub();
    const float* c = pq.centroids().data();
    EXPECT_NEAR(sdc[ksub + 2], test::exact_distance(c + dsub, c + 2 * dsub, dsub, MetricType::L2), 1e-4);  // centroids 1, 2
  }
}

TEST(IndexPQ, SearchesDecodedVectorsExactly) {
  const size_t n = 3000, d = 16, nq = 30;
  auto x = test::random_vectors(n, d, 7), q = test::random_vectors(nq, d, 8);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    IndexPQ index(d, 4, 8, metric);
    index.train(n, x.data());
    index.add(n, x.data());
    std::vector<float> decoded(n * d), dist(nq * 10);
    std::vector<idx_t> labels(nq * 10);
    index.reconstruct_n(0, n, decoded.data());
    index.search(nq, q.data(), 10, dist.data(), labels.data());
    for (size_t i = 0; i < nq; i++) {
      auto exact = test::ranked(&q[i * d], decoded.data(), n, d, metric);
      test::expect_row_matches(exact, &dist[i * 10], &labels[i * 10], 10, &q[i * d], decoded.data(), d, metric, 1e-4);
    }
  }
}

// Every reported distance is the distance to the decoded vector (centroid +
// decoded residual), with and without the precomputed table, for both metrics.
TEST(IndexIVFPQ, DistancesAreToDecodedVectors) {
  const size_t n = 4000, d = 16, nq = 20, k = 5;
  auto x = test::random_vectors(n, d, 9), q = test::random_vectors(nq, d, 10);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    IndexIVFPQ index(std::make_shared<IndexFlat>(d, metric), d, 16, 4, 8, metric);
    index.train(n, x.data());
    EXPECT_EQ(index.uses_precomputed_table(), metric == MetricType::L2);
    index.make_direct_map();
    index.add(n, x.data());
    SearchParams params;
    params.nprobe = 16;
    std::vector<float> d1(nq * k), d2(nq * k), r(d);
    std::vector<idx_t> l1(nq * k), l2(nq * k);
    index.search(nq, q.data(), k, d1.data(), l1.data(), params);
    index.set_use_precomputed_table(false);
    index.search(nq, q.data(), k, d2.data(), l2.data(), params);
    EXPECT_EQ(l1, l2);
    for (size_t i = 0; i < nq * k; i++) {
      EXPECT_NEAR(d1[i], d2[i], 1e-3 * std::max(1.0f, std::fabs(d1[i])));
      index.reconstruct(l1[i], r.data());
      EXPECT_NEAR(d1[i], test::exact_distance(&q[(i / k) * d], r.data(), d, metric), 1e-3) << metric_name(metric);
    }
  }
}

TEST(IndexRefine, RefiningEverythingIsExact) {
  const size_t n = 2000, d = 12, nq = 25, k = 10;
  auto x = test::random_vectors(n, d, 11), q = test::random_vectors(nq, d, 12);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    IndexRefineFlat index(std::make_shared<IndexPQ>(d, 3, 4, metric));
    index.train(n, x.data());
    index.add(n, x.data());
    IndexFlat flat(d, metric);
    flat.add(n, x.data());
    std::vector<float> dr(nq * k), df(nq * k);
    std::vector<idx_t> lr(nq * k), lf(nq * k);
    SearchParams params;
    params.k_factor = float(n) / k;  // the base proposes every vector
    index.search(nq, q.data(), k, dr.data(), lr.data(), params);
    flat.search(nq, q.data(), k, df.data(), lf.data());
    EXPECT_EQ(lr, lf) << metric_name(metric);
    for (size_t i = 0; i < nq * k; i++) EXPECT_NEAR(dr[i], df[i], 1e-4 * std::max(1.0f, std::fabs(df[i])));
    // Refined distances are exact even with a small k_factor.
    params.k_factor = 2;
    index.search(nq, q.data(), k, dr.data(), lr.data(), params);
    for (size_t i = 0; i < nq * k; i++) {
      EXPECT_NEAR(dr[i], test::exact_distance(&q[(i / k) * d], &x[lr[i] * d], d, metric), 1e-4);
    }
    params.k_factor = 0.5f;
    EXPECT_THROW(index.search(1, q.data(), k, dr.data(), lr.data(), params), Error);
    EXPECT_EQ(index.remove_ids(IDSelectorRange(0, 100)), 100u);  // both close up their ids
    EXPECT_EQ(index.ntotal(), idx_t(n - 100));
  }
  IndexRefineFlat over_ivf(std::make_shared<IndexIVFPQ>(std::make_shared<IndexFlat>(d), d, 4, 3));
  EXPECT_THROW(over_ivf.remove_ids(IDSelectorRange(0, 1)), Error);  // IVF keeps ids, Flat closes up
}

}  // namespace
}  // namespace sextant
