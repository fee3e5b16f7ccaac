// An exception thrown inside a parallel region (here by a selector, as a
// failed allocation or a check would be) comes out of the call that started
// the region as that exception, whatever the index; it never reaches
// std::terminate, and the index stays usable.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "reference.h"
#include "sextant/IndexIDMap.h"
#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/index_factory.h"

namespace sextant {
namespace {

/// Accepts every id until `budget` questions are spent, then throws.
class FailingSelector final : public IDSelector {
 public:
  explicit FailingSelector(long budget) : left_(budget) {}
  bool is_member(idx_t) const override {
    SEXTANT_CHECK(left_.fetch_sub(1) > 0, "selector out of budget");
    return true;
  }

 private:
  mutable std::atomic<long> left_;
};

class ParallelErrorsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ParallelErrorsTest, ThrowInsideARegionReachesTheCaller) {
  const size_t nb = 3000, nq = 300, d = 16, k = 40;  // k > 32: the heaps' pool path too
  auto xb = test::random_vectors(nb, d, 1), xq = test::random_vectors(nq, d, 2);
  auto index = index_factory(d, GetParam());
  index->train(nb, xb.data());
  if (dynamic_cast<IndexIDMap*>(index.get())) {
    std::vector<idx_t> ids(nb);
    for (size_t i = 0; i < nb; i++) ids[i] = idx_t(i);
    index->add_with_ids(nb, xb.data(), ids.data());
  } else {
    index->add(nb, xb.data());
  }
  std::vector<float> dist(nq * k);
  std::vector<idx_t> labels(nq * k);
  for (long budget : {0L, 500L, 20000L}) {
    SearchParams params;
    params.sel = std::make_shared<FailingSelector>(budget);
    EXPECT_THROW(index->search(nq, xq.data(), k, dist.data(), labels.data(), params), Error) << budget;
    params.sel = std::make_shared<FailingSelector>(budget);
    EXPECT_THROW(index->range_search(nq, xq.data(), 1e9f, params), Error) << budget;
  }
  // Still usable: an unfiltered search finds each base vector itself.
  index->search(20, xb.data(), 1, dist.data(), labels.data());
  for (size_t i = 0; i < 20; i++) EXPECT_GE(labels[i], 0);
}

TEST(ParallelErrors, KeepsTheFirstAndSkipsTheRest) {
  ParallelErrors errors;
  std::atomic<int> ran{0};
#pragma omp parallel for
  for (int i = 0; i < 1000; i++) errors.run([&] {
    ran++;
    SEXTANT_CHECK(i != 10, "item ", i);
  });
  EXPECT_TRUE(errors.failed());
  EXPECT_LT(ran.load(), 1000);  // the work after the failure was skipped
  EXPECT_THROW(errors.rethrow(), Error);
  ParallelErrors clean;
  clean.run([] {});
  EXPECT_FALSE(clean.failed());
  EXPECT_NO_THROW(clean.rethrow());
}

INSTANTIATE_TEST_SUITE_P(EveryIndex, ParallelErrorsTest,
                         ::testing::Values("Flat", "SQ8", "PQ8", "PQ8x4fs", "IVF16,Flat", "IVF16,SQ8", "IVF16,PQ8",
                                           "IVF16,PQ8x4fs", "IDMap,Flat", "IVF16,PQ8,RFlat", "HNSW16", "HNSW8,SQ8",
                                           "RaBitQ", "IVF16,RaBitQ", "IVF16,RaBitQfs", "RaBitQfs"),
                         test::factory_name);

}  // namespace
}  // namespace sextant
