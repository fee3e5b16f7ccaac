// Vector transforms (PCA, OPQ, random rotation, normalisation), IndexPreTransform
// and IndexRefine, each against an exact reference.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexHNSW.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexPreTransform.h"
#include "sextant/IndexRefine.h"
#include "sextant/VectorTransform.h"
#include "sextant/base/Error.h"
#include "sextant/impl/ProductQuantizer.h"

namespace sextant {
namespace {

constexpr size_t kD = 16;

double dot(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t i = 0; i < d; i++) s += double(a[i]) * b[i];
  return s;
}

// n rows of z R + mean, where z has independent Gaussian columns of standard
// deviations sigma[j] (descending geometrically) and R is orthonormal: the
// principal axes are R's rows, the covariance's eigenvalues sigma^2.
struct Correlated {
  std::vector<float> x, axes, sigma, mean;
};

Correlated correlated(size_t n, size_t d, uint32_t seed) {
  Correlated c;
  RandomRotationMatrix rotation(static_cast<int>(d), static_cast<int>(d), seed);
  c.axes = rotation.A();
  for (size_t j = 0; j < d; j++) c.sigma.push_back(16.f * std::pow(0.75f, float(j)));
  c.mean = test::random_vectors(1, d, seed + 1, -5.f, 5.f);
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss;
  c.x.assign(n * d, 0.f);
  std::vector<float> z(d);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++) z[j] = c.sigma[j] * gauss(rng);
    for (size_t j = 0; j < d; j++) {
      float v = c.mean[j];
      for (size_t r = 0; r < d; r++) v += z[r] * c.axes[r * d + j];
      c.x[i * d + j] = v;
    }
  }
  return c;
}

TEST(PCAMatrix, FindsTheKnownAxesAndVariances) {
  const size_t n = 20000;
  Correlated data = correlated(n, kD, 3);
  PCAMatrix pca(kD, 4);
  EXPECT_THROW(pca.apply(1, data.x.data(), nullptr), Error);  // not trained
  pca.train(n, data.x.data());
  ASSERT_EQ(pca.eigenvalues().size(), kD);
  for (size_t r = 0; r < kD; r++) {
    const double expected = double(data.sigma[r]) * data.sigma[r];
    EXPECT_NEAR(pca.eigenvalues()[r], expected, 0.05 * expected) << "eigenvalue " << r;
  }
  for (size_t r = 0; r < 4; r++) {  // each output axis is a true axis (up to sign)
    EXPECT_GT(std::fabs(dot(&pca.A()[r * kD], &data.axes[r * kD], kD)), 0.99) << "axis " << r;
  }
  for (size_t j = 0; j < kD; j++) EXPECT_NEAR(pca.mean()[j], data.mean[j], 0.5);
  // y = A (x - mean): the outputs are centred and have the leading variances.
  std::vector<float> y(n * 4);
  pca.apply(n, data.x.data(), y.data());
  for (size_t r = 0; r < 4; r++) {
    double sum = 0, squares = 0;
    for (size_t i = 0; i < n; i++) sum += y[i * 4 + r], squares += double(y[i * 4 + r]) * y[i * 4 + r];
    EXPECT_NEAR(sum / n, 0.0, 1e-2 * data.sigma[r]);
    EXPECT_NEAR(squares / n, pca.eigenvalues()[r], 1e-3 * pca.eigenvalues()[r]);
  }
  // Whitening: unit variance on every output.
  PCAMatrix white(kD, 4, -0.5f);
  white.train(n, data.x.data());
  white.apply(n, data.x.data(), y.data());
  for (size_t r = 0; r < 4; r++) {
    double squares = 0;
    for (size_t i = 0; i < n; i++) squares += double(y[i * 4 + r]) * y[i * 4 + r];
    EXPECT_NEAR(squares / n, 1.0, 1e-3);
  }
}

TEST(PCAMatrix, RefusesWhatCannotBeTrained) {
  EXPECT_THROW(PCAMatrix(8, 9), Error);  // more outputs than inputs
  std::vector<float> x = test::random_vectors(100, 8, 1);
  PCAMatrix pca(8, 8);
  EXPECT_THROW(pca.train(4, x.data()), Error);  // fewer vectors than outputs
  x[17] = std::nanf("");
  EXPECT_THROW(pca.train(100, x.data()), Error);
  EXPECT_FALSE(pca.is_trained());
}

TEST(RandomRotationMatrix, PreservesGeometryAndInverts) {
  RandomRotationMatrix rotation(kD, kD, 7);
  ASSERT_TRUE(rotation.is_orthonormal());
  const size_t n = 50;
  std::vector<float> x = test::random_vectors(n, kD, 2), y(n * kD), back(n * kD);
  rotation.apply(n, x.data(), y.data());
  rotation.reverse_transform(n, y.data(), back.data());
  for (size_t i = 0; i < n * kD; i++) EXPECT_NEAR(back[i], x[i], 1e-5);
  for (size_t i = 1; i < n; i++) {
    EXPECT_NEAR(test::exact_distance(&y[0], &y[i * kD], kD, MetricType::L2),
                test::exact_distance(&x[0], &x[i * kD], kD, MetricType::L2), 1e-4);
  }
  // A rotation into fewer dimensions keeps orthonormal rows; the other way, columns.
  RandomRotationMatrix down(kD, 4, 7), up(4, kD, 7);
  EXPECT_TRUE(down.is_orthonormal());
  for (size_t a = 0; a < 4; a++) {
    for (size_t b = 0; b < 4; b++) {
      double column = 0;
      for (size_t r = 0; r < kD; r++) column += double(up.A()[r * 4 + a]) * up.A()[r * 4 + b];
      EXPECT_NEAR(column, a == b ? 1.0 : 0.0, 1e-5);
    }
  }
}

TEST(NormalizationTransform, GivesUnitVectors) {
  NormalizationTransform norm(kD);
  std::vector<float> x = test::random_vectors(20, kD, 5, -100.f, 100.f), y(x.size());
  norm.apply(20, x.data(), y.data());
  for (size_t i = 0; i < 20; i++) {
    EXPECT_NEAR(dot(&y[i * kD], &y[i * kD], kD), 1.0, 1e-5);
    EXPECT_GT(dot(&y[i * kD], &x[i * kD], kD), 0.0);  // same direction
  }
}

// Squared error of a PQ with M sub-quantizers of 4 bits trained and applied on x.
double pq_error(const std::vector<float>& x, size_t n, size_t d, size_t M) {
  ProductQuantizer pq(d, M, 4);
  pq.train(n, x.data());
  std::vector<uint8_t> codes(n * pq.code_size());
  std::vector<float> decoded(n * d);
  pq.encode(n, x.data(), codes.data());
  pq.decode(n, codes.data(), decoded.data());
  double e = 0;
  for (size_t i = 0; i < n * d; i++) e += (double(x[i]) - decoded[i]) * (double(x[i]) - decoded[i]);
  return e;
}

TEST(OPQMatrix, LowersTheProductQuantizationError) {
  // Variance concentrated in a few rotated directions: plain PQ splits each
  // across sub-spaces; OPQ's rotation balances them.
  const size_t n = 4000, M = 4;
  Correlated data = correlated(n, kD, 9);
  OPQMatrix opq(kD, M);
  opq.niter = 10;
  opq.train(n, data.x.data());
  ASSERT_TRUE(opq.is_orthonormal());
  std::vector<float> rotated(n * kD);
  opq.apply(n, data.x.data(), rotated.data());
  const double plain = pq_error(data.x, n, kD, M), optimised = pq_error(rotated, n, kD, M);
  EXPECT_LT(optimised, 0.8 * plain) << "OPQ " << optimised << " vs PQ " << plain;
  EXPECT_THROW(OPQMatrix(kD, 5), Error);  // M must divide d
}

TEST(IndexPreTransform, SearchesTheTransformedVectorsExactly) {
  const size_t n = 1500, nq = 20, k = 10, d_out = 6;
  Correlated data = correlated(n, kD, 4);
  std::vector<float> q = test::random_vectors(nq, kD, 8, -10.f, 10.f);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    auto pca = std::make_shared<PCAMatrix>(kD, d_out);
    IndexPreTransform index(pca, std::make_shared<IndexFlat>(d_out, metric));
    EXPECT_FALSE(index.is_trained());
    EXPECT_THROW(index.add(n, data.x.data()), Error);
    index.train(n, data.x.data());
    index.add(n, data.x.data());
    // The reference: exact search over the vectors transformed by hand.
    std::vector<float> xt(n * d_out), qt(nq * d_out), D(nq * k), back(kD);
    std::vector<idx_t> I(nq * k);
    pca->apply(n, data.x.data(), xt.data());
    pca->apply(nq, q.data(), qt.data());
    index.search(nq, q.data(), k, D.data(), I.data());
    for (size_t i = 0; i < nq; i++) {
      auto exact = test::ranked(&qt[i * d_out], xt.data(), n, d_out, metric);
      test::expect_row_matches(exact, &D[i * k], &I[i * k], k, &qt[i * d_out], xt.data(), d_out, metric, 1e-4);
    }
    // Reconstruction maps back through the transform: the projection on the kept axes.
    index.reconstruct(3, back.data());
    std::vector<float> again(d_out);
    pca->apply(1, back.data(), again.data());
    for (size_t j = 0; j < d_out; j++) EXPECT_NEAR(again[j], xt[3 * d_out + j], 1e-3);
    EXPECT_EQ(index.remove_ids(IDSelectorRange(0, 10)), 10u);
    EXPECT_EQ(index.ntotal(), idx_t(n - 10));
    EXPECT_THROW(index.search(1, q.data(), 0, D.data(), I.data()), Error);  // k <= 0
  }
  // The chain's output must be the index's dimension.
  EXPECT_THROW(IndexPreTransform(std::make_shared<PCAMatrix>(kD, 4), std::make_shared<IndexFlat>(5)), Error);
}

TEST(IndexPreTransform, ChainsApplyInOrderAndPassKnobsOn) {
  const size_t n = 2000, nq = 30, k = 5;
  std::vector<float> x = test::random_vectors(n, kD, 21), q = test::random_vectors(nq, kD, 22);
  auto ivf = std::make_shared<IndexIVFFlat>(std::make_shared<IndexFlat>(kD), kD, 16);
  IndexPreTransform index({std::make_shared<RandomRotationMatrix>(kD, kD, 1), std::make_shared<NormalizationTransform>(kD)},
                          ivf);
  index.train(n, x.data());
  index.add(n, x.data());
  // Rotation then normalisation: L2 among the unit vectors of x. All lists probed: exact.
  std::vector<float> unit(x), unit_q(q), D(nq * k);
  std::vector<idx_t> I(nq * k);
  NormalizationTransform norm(kD);
  norm.apply(n, x.data(), unit.data());
  norm.apply(nq, q.data(), unit_q.data());
  SearchParams all;
  all.nprobe = 16;
  index.search(nq, q.data(), k, D.data(), I.data(), all);
  for (size_t i = 0; i < nq; i++) {
    auto exact = test::ranked(&unit_q[i * kD], unit.data(), n, kD, MetricType::L2);
    for (size_t r = 0; r < k; r++) {
      EXPECT_NEAR(D[i * k + r], exact[r].first, 1e-4);
      EXPECT_EQ(I[i * k + r], exact[r].second) << "query " << i << " rank " << r;
    }
  }
  SearchParams hnsw_knob;
  hnsw_knob.efSearch = 32;  // nothing under the transform reads it
  EXPECT_THROW(index.search(nq, q.data(), k, D.data(), I.data(), hnsw_knob), Error);
}

TEST(IndexRefine, ReRanksAnApproximateBaseToExactRecall) {
  const size_t n = 3000, nq = 40, k = 10;
  std::vector<float> x = test::random_vectors(n, kD, 31), q = test::random_vectors(nq, kD, 32);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    auto base = std::make_shared<IndexIVFFlat>(std::make_shared<IndexFlat>(kD, metric), kD, 32, metric);
    IndexRefineFlat index(base);
    index.train(n, x.data());
    index.add(n, x.data());
    std::vector<float> D(nq * k);
    std::vector<idx_t> I(nq * k);
    SearchParams params;
    params.nprobe = 16;  // passed to the base
    params.k_factor = 4;
    index.search(nq, q.data(), k, D.data(), I.data(), params);
    size_t found = 0;
    for (size_t i = 0; i < nq; i++) {
      auto exact = test::ranked(&q[i * kD], x.data(), n, kD, metric);
      for (size_t r = 0; r < k; r++) {
        ASSERT_GE(I[i * k + r], 0);
        // Every reported distance is the exact one of its label.
        EXPECT_NEAR(D[i * k + r], test::exact_distance(&q[i * kD], &x[I[i * k + r] * kD], kD, metric), 1e-4);
        for (size_t s = 0; s < k; s++) found += I[i * k + r] == exact[s].second;
      }
    }
    EXPECT_GE(double(found) / (nq * k), 0.9) << metric_name(metric);
    // A selector reaches both the base and the re-ranking.
    params.sel = std::make_shared<IDSelectorRange>(0, n / 2);
    index.search(nq, q.data(), k, D.data(), I.data(), params);
    for (idx_t label : I) EXPECT_TRUE(label >= 0 && label < idx_t(n / 2));
    SearchParams wrong;
    wrong.efSearch = 16;  // no HNSW below
    EXPECT_THROW(index.search(1, q.data(), k, D.data(), I.data(), wrong), Error);
  }
}

}  // namespace
}  // namespace sextant
