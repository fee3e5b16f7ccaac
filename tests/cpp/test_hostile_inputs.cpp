// Inputs that used to kill the process, at the C++ level (scripts/sanitize.sh
// runs them under AddressSanitizer and UndefinedBehaviorSanitizer; the Python
// suite has the same cases in tests/python/test_hostile.py): each raises an
// Error or works, and leaves the index usable.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "reference.h"
#include "sextant/IndexHNSW.h"
#include "sextant/IndexPreTransform.h"
#include "sextant/VectorTransform.h"
#include "sextant/base/Error.h"
#include "sextant/index_factory.h"
#include "sextant/utils/validate.h"

namespace sextant {
namespace {

class Overflow : public ::testing::TestWithParam<const char*> {};

TEST_P(Overflow, VectorsWhoseDistancesOverflowAreRefused) {
  // Components of 1e20: inner products of +-1e40 are +-inf in float, and inf - inf = NaN.
  const size_t n = 600, d = 16;
  auto x = test::random_vectors(n, d, 7);
  std::vector<float> huge(x);
  for (float& v : huge) v *= 1e20f;
  for (MetricType metric : {MetricType::INNER_PRODUCT, MetricType::L2}) {
    auto index = index_factory(d, GetParam(), metric);
    if (!index->is_trained()) EXPECT_THROW(index->train(n, huge.data()), Error);
    index->train(n, x.data());
    EXPECT_THROW(index->add(n, huge.data()), Error);
    index->add(n, x.data());
    std::vector<float> dist(5 * 3);
    std::vector<idx_t> labels(5 * 3);
    EXPECT_THROW(index->search(5, huge.data(), 3, dist.data(), labels.data()), Error);
    index->search(5, x.data(), 3, dist.data(), labels.data());
    for (size_t i = 0; i < dist.size(); i++) EXPECT_TRUE(std::isfinite(dist[i]) && labels[i] >= 0);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryFamily, Overflow,
                         ::testing::Values("Flat", "HNSW16", "HNSW16,SQ8", "HNSW16,PQ4", "IVF8,Flat", "PQ4", "RaBitQ",
                                           "IVF8,RaBitQ", "IVF8,RaBitQfs", "RaBitQfs", "RaBitQ4", "IVF8,RaBitQ3",
                                           "IVF8,RaBitQfs3"),
                         test::factory_name);

TEST(HostileInputs, NormLimitIsInclusive) {
  const float at_limit = std::sqrt(kMaxSquaredNorm), beyond = std::nextafter(at_limit, 1e30f);
  EXPECT_NO_THROW(check_bounded(&at_limit, 1, 1, "x"));
  EXPECT_THROW(check_bounded(&beyond, 1, 1, "x"), Error);
}

class HugeK : public ::testing::TestWithParam<const char*> {};

TEST_P(HugeK, NeedsNoScratchOfItsSize) {
  // k = 10^7 on 2000 vectors: the answer holds 2000 results and padding; no
  // thread may reserve k candidates (it used to: 160 MB a thread, a bad_alloc
  // inside a parallel region under a memory limit).
  const size_t n = 2000, d = 16, k = 10000000;
  auto x = test::random_vectors(n, d, 8);
  auto index = index_factory(d, GetParam());
  index->train(n, x.data());
  index->add(n, x.data());
  std::vector<float> dist(k);
  std::vector<idx_t> labels(k);
  SearchParams params;
  if (index->search_knobs() & kKnobNprobe) params.nprobe = 64;
  if (index->search_knobs() & kKnobRaBitQEps0) params.rabitq_eps0 = 1.9f;
  index->search(1, x.data(), k, dist.data(), labels.data(), params);
  size_t found = 0;
  while (found < k && labels[found] >= 0) found++;
  EXPECT_GE(found, n * 9 / 10);
  for (size_t i = found; i < k; i++) ASSERT_EQ(labels[i], -1) << i;
}

INSTANTIATE_TEST_SUITE_P(EveryFamily, HugeK,
                         ::testing::Values("Flat", "IVF16,Flat", "PQ4", "IVF16,PQ4x4fs", "HNSW16", "IVF16,PQ4,RFlat",
                                           "RaBitQ,RFlat", "IVF16,RaBitQ", "IVF16,RaBitQfs", "RaBitQfs,RFlat"),
                         test::factory_name);

TEST(HostileInputs, HugeEfConstructionCostsNoMemory) {
  const size_t n = 300, d = 16;
  auto x = test::random_vectors(n, d, 9);
  IndexHNSWFlat index(d, 16);
  index.set_efConstruction(1 << 30);  // a pool of 2^30 candidates would take 8 GB
  index.add(100, x.data());
  index.add(n - 100, x.data() + 100 * d);
  float dist;
  idx_t label;
  index.search(1, x.data() + 150 * d, 1, &dist, &label);
  EXPECT_EQ(label, 150);
}

TEST(HostileInputs, NegativeIdsAreRefused) {
  auto index = index_factory(8, "IDMap,Flat");
  auto x = test::random_vectors(2, 8, 10);
  const idx_t ids[2] = {3, -1};
  EXPECT_THROW(index->add_with_ids(2, x.data(), ids), Error);
  EXPECT_EQ(index->ntotal(), 0);
}

TEST(HostileInputs, PcaNeedsAsManyPointsAsOutputDimensions) {
  auto x = test::random_vectors(10, 64, 11);
  PCAMatrix pca(64, 16);
  EXPECT_THROW(pca.train(10, x.data()), Error);
  EXPECT_FALSE(pca.is_trained());
}

TEST(HostileInputs, OpqAndPcaTrainOnLargeValues) {
  // Squared norms near the limit: the sums over rows that the SVD and the
  // eigen-decomposition see would overflow float (the SVD then looped forever).
  const size_t n = 2000, d = 8;
  auto x = test::random_vectors(n, d, 12);
  for (float& v : x) v *= 3e17f;
  OPQMatrix opq(d, 4);
  opq.niter = 2;
  opq.train(n, x.data());
  PCAMatrix pca(d, 4);
  pca.train(n, x.data());
  for (const auto* A : {&opq.A(), &pca.A()}) {
    for (float v : *A) ASSERT_TRUE(std::isfinite(v));
  }
  for (float v : pca.eigenvalues()) EXPECT_TRUE(std::isfinite(v) && v >= 0);
}

}  // namespace
}  // namespace sextant
