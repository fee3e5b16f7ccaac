#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference.h"
#include "sextant/Clustering.h"
#include "sextant/IndexFlat.h"
#include "sextant/base/Error.h"
#include "sextant/impl/kmeans.h"

namespace sextant {
namespace {

// Seeded points around `centers` well-separated blob centres.
std::vector<float> blobs(size_t n, size_t d, size_t centers, uint32_t seed) {
  auto means = test::random_vectors(centers, d, seed, -10, 10);
  auto noise = test::random_vectors(n, d, seed + 1, -1, 1);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++) noise[i * d + j] += means[(i % centers) * d + j];
  }
  return noise;
}

// Plain Lloyd iterations in double precision from given centroids.
std::vector<double> lloyd(const std::vector<float>& x, size_t d, std::vector<double> c, size_t k, int niter,
                          std::vector<double>* objective) {
  const size_t n = x.size() / d;
  for (int it = 0; it < niter; it++) {
    std::vector<double> sums(k * d, 0.0);
    std::vector<size_t> counts(k, 0);
    double obj = 0;
    for (size_t i = 0; i < n; i++) {
      size_t best = 0;
      double best_d = 1e300;
      for (size_t cc = 0; cc < k; cc++) {
        double dist = 0;
        for (size_t j = 0; j < d; j++) dist += (x[i * d + j] - c[cc * d + j]) * (x[i * d + j] - c[cc * d + j]);
        if (dist < best_d) best_d = dist, best = cc;
      }
      obj += best_d;
      counts[best]++;
      for (size_t j = 0; j < d; j++) sums[best * d + j] += x[i * d + j];
    }
    objective->push_back(obj);
    for (size_t cc = 0; cc < k; cc++) {
      for (size_t j = 0; j < d && counts[cc] > 0; j++) c[cc * d + j] = sums[cc * d + j] / counts[cc];
    }
  }
  return c;
}

TEST(KMeans, MatchesPlainLloydFromTheSameStart) {
  const size_t n = 2000, d = 8, k = 12;
  auto x = blobs(n, d, 12, 3);
  KMeansParams params;
  params.niter = 0;  // only the initialisation
  KMeansResult init = kmeans(n, d, x.data(), k, params, exact_assign(d, MetricType::L2), false);
  params.niter = 8;
  KMeansResult got = kmeans(n, d, x.data(), k, params, exact_assign(d, MetricType::L2), false);
  std::vector<double> ref_obj;
  auto ref = lloyd(x, d, std::vector<double>(init.centroids.begin(), init.centroids.end()), k, 8, &ref_obj);
  ASSERT_EQ(got.objective.size(), 8u);
  for (size_t i = 0; i < 8; i++) EXPECT_NEAR(got.objective[i], ref_obj[i], 1e-4 * ref_obj[i]) << "iteration " << i;
  for (size_t i = 0; i < k * d; i++) EXPECT_NEAR(got.centroids[i], ref[i], 1e-3) << i;
}

TEST(KMeans, ObjectiveDecreases) {
  const size_t n = 5000, d = 16, k = 50;
  auto x = test::random_vectors(n, d, 5);
  for (KMeansInit init : {KMeansInit::random, KMeansInit::kmeans_plus_plus}) {
    KMeansParams params;
    params.init = init;
    params.niter = 15;
    KMeansResult r = kmeans(n, d, x.data(), k, params, exact_assign(d, MetricType::L2), false);
    for (size_t i = 1; i < r.objective.size(); i++) EXPECT_LE(r.objective[i], r.objective[i - 1] * (1 + 1e-6));
    EXPECT_LT(r.objective.back(), 0.8 * r.objective.front());
  }
}

TEST(KMeans, PlusPlusStartsBetterThanRandomOnBlobs) {
  const size_t n = 4000, d = 8, k = 40;
  auto x = blobs(n, d, 40, 7);
  KMeansParams params;
  params.niter = 1;
  double random = 0, plus = 0;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    params.seed = seed;
    params.init = KMeansInit::random;
    random += kmeans(n, d, x.data(), k, params, exact_assign(d, MetricType::L2), false).objective[0];
    params.init = KMeansInit::kmeans_plus_plus;
    plus += kmeans(n, d, x.data(), k, params, exact_assign(d, MetricType::L2), false).objective[0];
  }
  EXPECT_LT(plus, random);
}

TEST(KMeans, EmptyClustersAreSplit) {
  // Only 5 distinct points for 10 centroids: clusters empty out and must be re-seeded.
  const size_t d = 4, k = 10;
  auto distinct = test::random_vectors(5, d, 9);
  std::vector<float> x;
  for (int r = 0; r < 40; r++) x.insert(x.end(), distinct.begin(), distinct.end());
  KMeansParams params;
  params.niter = 5;
  KMeansResult res = kmeans(x.size() / d, d, x.data(), k, params, exact_assign(d, MetricType::L2), false);
  EXPECT_GT(res.empty_splits, 0u);
  for (float v : res.centroids) EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(res.objective.back(), 0.0, 1e-3);
}

TEST(KMeans, DeterministicSampledRedoneSpherical) {
  const size_t n = 6000, d = 6, k = 10;
  auto x = test::random_vectors(n, d, 11);
  KMeansParams params;
  params.max_points_per_centroid = 100;  // sample 1000 of the 6000
  auto run = [&](uint64_t seed, int nredo, bool spherical) {
    params.seed = seed;
    params.nredo = nredo;
    params.spherical = spherical;
    return kmeans(n, d, x.data(), k, params, exact_assign(d, MetricType::L2), false);
  };
  KMeansResult a = run(1, 1, false), b = run(1, 1, false), c = run(2, 1, false);
  EXPECT_EQ(a.points_used, 1000u);
  EXPECT_EQ(a.centroids, b.centroids);
  EXPECT_NE(a.centroids, c.centroids);
  KMeansResult best = run(1, 4, false);
  EXPECT_LE(best.objective.back(), a.objective.back() * (1 + 1e-6));
  KMeansResult sph = run(1, 1, true);
  for (size_t c0 = 0; c0 < k; c0++) {
    double norm = 0;
    for (size_t j = 0; j < d; j++) norm += sph.centroids[c0 * d + j] * sph.centroids[c0 * d + j];
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
}

TEST(Clustering, AnyIndexCanAssign) {
  const size_t n = 3000, d = 8, k = 20;
  auto x = blobs(n, d, 20, 13);
  Clustering exact(d, k), with_index(d, k);
  exact.train(n, x.data());
  IndexFlat assigner(d);
  with_index.train(n, x.data(), &assigner);
  ASSERT_EQ(exact.objective().size(), with_index.objective().size());
  for (size_t i = 0; i < exact.objective().size(); i++) {
    EXPECT_NEAR(exact.objective()[i], with_index.objective()[i], 1e-4 * exact.objective()[i]);
  }
  EXPECT_THROW(Clustering(d, k).train(k - 1, x.data()), Error);
  IndexFlat wrong(d + 1);
  EXPECT_THROW(Clustering(d, k).train(n, x.data(), &wrong), Error);
}

}  // namespace
}  // namespace sextant
