// Score-aware (anisotropic) product quantization against plain PQ and exact search.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "reference.h"
#include "sextant/base/Error.h"
#include "sextant/impl/ProductQuantizer.h"

namespace sextant {
namespace {

// Unit vectors around a few hundred directions: angular data like sentence or
// word embeddings.
std::vector<float> unit_clusters(size_t n, size_t d, uint32_t seed) {
  const size_t clusters = 200;
  std::vector<float> centres = test::random_vectors(clusters, d, 1000), x(n * d);
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0, 0.35f);
  for (size_t i = 0; i < n; i++) {
    const float* c = &centres[(rng() % clusters) * d];
    double norm = 0;
    for (size_t j = 0; j < d; j++) {
      x[i * d + j] = c[j] + gauss(rng);
      norm += double(x[i * d + j]) * x[i * d + j];
    }
    for (size_t j = 0; j < d; j++) x[i * d + j] = float(x[i * d + j] / std::sqrt(norm));
  }
  return x;
}

// recall@k of the top-k by the PQ's estimated inner products, against the exact top-k.
double estimated_recall(const ProductQuantizer& pq, const std::vector<uint8_t>& codes, const std::vector<float>& x,
                        const std::vector<float>& q, size_t n, size_t nq, size_t d, size_t k) {
  std::vector<float> table(pq.M() * pq.ksub()), scores(n);
  size_t found = 0;
  for (size_t i = 0; i < nq; i++) {
    pq.compute_table(&q[i * d], MetricType::INNER_PRODUCT, table.data());
    pq.score(table.data(), codes.data(), n, scores.data());
    std::vector<size_t> order(n);
    for (size_t j = 0; j < n; j++) order[j] = j;
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    auto exact = test::ranked(&q[i * d], x.data(), n, d, MetricType::INNER_PRODUCT);
    std::set<idx_t> truth;
    for (size_t r = 0; r < k; r++) truth.insert(exact[r].second);
    for (size_t r = 0; r < k; r++) found += truth.count(idx_t(order[r]));
  }
  return double(found) / double(nq * k);
}

TEST(AnisotropicPQ, BeatsPlainPQOnTopKInnerProducts) {
  const size_t n = 20000, nq = 100, d = 32, k = 10;
  const auto x = unit_clusters(n, d, 1), q = unit_clusters(nq, d, 2);
  for (size_t nbits : {4, 8}) {
    const size_t M = nbits == 4 ? 16 : 8;  // 4-bit codes as fast-scan uses them: 2 dimensions each
    ProductQuantizer plain(d, M, nbits), aniso(d, M, nbits);
    aniso.set_anisotropic_threshold(0.4f);  // eta = 5.9 at d = 32
    plain.train(n, x.data());
    aniso.train(n, x.data());
    std::vector<uint8_t> plain_codes(n * plain.code_size()), aniso_codes(n * aniso.code_size());
    plain.encode(n, x.data(), plain_codes.data());
    aniso.encode(n, x.data(), aniso_codes.data());
    const double r_plain = estimated_recall(plain, plain_codes, x, q, n, nq, d, k);
    const double r_aniso = estimated_recall(aniso, aniso_codes, x, q, n, nq, d, k);
    EXPECT_GT(r_aniso, r_plain + 0.05) << "nbits " << nbits << ": anisotropic " << r_aniso << ", plain " << r_plain;
    // Each code is a local minimum of its own loss, below that of the nearest centroids.
    double aniso_loss = 0, nearest_loss = 0;
    std::vector<uint8_t> nearest(aniso.code_size());
    ProductQuantizer same_books(d, M, nbits);
    same_books.set_centroids(aniso.centroids());
    for (size_t i = 0; i < 500; i++) {
      same_books.encode(1, &x[i * d], nearest.data());
      aniso_loss += aniso.loss(&x[i * d], &x[i * d], &aniso_codes[i * aniso.code_size()]);
      nearest_loss += aniso.loss(&x[i * d], &x[i * d], nearest.data());
    }
    EXPECT_LT(aniso_loss, 0.95 * nearest_loss) << "nbits " << nbits;
  }
}

TEST(AnisotropicPQ, IsPlainPQAtTheIsotropicThreshold) {
  const size_t n = 3000, d = 16;
  const auto x = test::random_vectors(n, d, 7);
  ProductQuantizer plain(d, 4, 6), iso(d, 4, 6);
  plain.train(n, x.data());
  iso.set_centroids(plain.centroids());
  iso.set_anisotropic_threshold(float(1 / std::sqrt(double(d))));
  EXPECT_NEAR(iso.anisotropic_eta(), 1.0, 1e-5);
  std::vector<uint8_t> a(n * plain.code_size()), b(n * plain.code_size());
  plain.encode(n, x.data(), a.data());
  iso.encode(n, x.data(), b.data());
  EXPECT_EQ(a, b);  // the nearest centroids
  std::vector<float> decoded(d);
  for (size_t i = 0; i < 20; i++) {  // the loss is the squared error
    plain.decode(1, &a[i * plain.code_size()], decoded.data());
    EXPECT_NEAR(iso.loss(&x[i * d], &x[i * d], &a[i * plain.code_size()]),
                test::exact_distance(&x[i * d], decoded.data(), d, MetricType::L2), 1e-4);
  }
  // Training at eta = 1 refines the codebooks with Lloyd steps: the squared error only drops.
  ProductQuantizer trained(d, 4, 6);
  trained.set_anisotropic_threshold(float(1 / std::sqrt(double(d))));
  trained.train(n, x.data());
  trained.encode(n, x.data(), b.data());
  double e_plain = 0, e_trained = 0;
  for (size_t i = 0; i < n; i++) {
    e_plain += plain.loss(&x[i * d], &x[i * d], &a[i * plain.code_size()]);
    e_trained += trained.loss(&x[i * d], &x[i * d], &b[i * plain.code_size()]);
  }
  EXPECT_LE(e_trained, e_plain * (1 + 1e-6));
}

TEST(AnisotropicPQ, DirectionsOtherThanTheVector) {
  // Residual coding: the loss is parallel to the whole vector, not the residual.
  const size_t n = 4000, d = 16;
  const auto residuals = test::random_vectors(n, d, 8), vectors = test::random_vectors(n, d, 9);
  ProductQuantizer pq(d, 4, 4);
  pq.set_anisotropic_threshold(0.5f);
  pq.train(n, residuals.data(), vectors.data());
  std::vector<uint8_t> own(pq.code_size()), given(pq.code_size());
  size_t differ = 0;
  double given_loss = 0, own_loss = 0;
  for (size_t i = 0; i < 300; i++) {
    pq.encode(1, &residuals[i * d], own.data());  // direction: the residual itself
    pq.encode(1, &residuals[i * d], given.data(), &vectors[i * d]);
    differ += own != given;
    given_loss += pq.loss(&residuals[i * d], &vectors[i * d], given.data());
    own_loss += pq.loss(&residuals[i * d], &vectors[i * d], own.data());
  }
  EXPECT_GT(differ, 30u);
  EXPECT_LT(given_loss, own_loss);  // each is chosen for its own direction's loss
}

TEST(AnisotropicPQ, RefusesThresholdsOutsideTheRange) {
  ProductQuantizer pq(16, 4, 4);
  EXPECT_THROW(pq.set_anisotropic_threshold(0.2f), Error);  // below 1/sqrt(16) = 0.25: eta < 1
  EXPECT_THROW(pq.set_anisotropic_threshold(1.0f), Error);
  EXPECT_THROW(pq.set_anisotropic_threshold(-0.5f), Error);
  EXPECT_THROW(pq.set_anisotropic_threshold(std::nanf("")), Error);
  pq.set_anisotropic_threshold(0.25f);
  pq.set_anisotropic_threshold(0);  // off again
  EXPECT_EQ(pq.anisotropic_eta(), 1.0);
}

}  // namespace
}  // namespace sextant
