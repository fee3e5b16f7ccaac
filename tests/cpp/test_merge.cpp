// merge_from joins indexes as if they had been built in one go.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "reference.h"
#include "same_answers.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexHNSW.h"
#include "sextant/IndexIDMap.h"
#include "sextant/base/Error.h"
#include "sextant/index_factory.h"
#include "sextant/index_io.h"

namespace sextant {
namespace {

using test::expect_same_search;

std::unique_ptr<Index> filled(const std::string& description, MetricType metric, const std::vector<float>& x,
                              size_t first, size_t n, const Index* trained_like = nullptr) {
  // A copy of a trained index (as shards of one trained index are), or a new one trained here.
  std::unique_ptr<Index> index =
      trained_like ? deserialize_index(serialize_index(*trained_like)) : index_factory(16, description, metric);
  if (!trained_like) index->train(x.size() / 16, x.data());
  if (dynamic_cast<IndexIDMap*>(index.get())) {
    std::vector<idx_t> ids(n);
    for (size_t i = 0; i < n; i++) ids[i] = idx_t(5 * (first + i) + 1);
    index->add_with_ids(n, x.data() + first * 16, ids.data());
  } else {
    index->add(n, x.data() + first * 16);
  }
  return index;
}

// The add_id that puts the other's vectors after a's: a's ntotal, whether a keeps the ids it gave (IVF) or
// numbers its vectors (flat: the same ids said); id maps keep the caller's ids as they are.
idx_t merge_shift(const Index& a) { return dynamic_cast<const IndexIDMap*>(&a) ? 0 : a.ntotal(); }

class MergeFrom : public ::testing::TestWithParam<const char*> {};

TEST_P(MergeFrom, EqualsBuildingInOneGo) {
  const size_t nb = 1200, d = 16;
  const auto x = test::random_vectors(nb, d, 12), xq = test::random_vectors(30, d, 13);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    SCOPED_TRACE(metric_name(metric));
    auto trained = index_factory(d, GetParam(), metric);
    trained->train(nb, x.data());
    auto whole = filled(GetParam(), metric, x, 0, nb, trained.get());
    auto a = filled(GetParam(), metric, x, 0, 700, trained.get());
    auto b = filled(GetParam(), metric, x, 700, nb - 700, trained.get());
    a->merge_from(*b, merge_shift(*a));
    if (!dynamic_cast<IndexIDMap*>(a.get()) && a->removal_closes_up_ids()) {  // Faiss's spelling appends too
      auto c = filled(GetParam(), metric, x, 0, 700, trained.get());
      auto e = filled(GetParam(), metric, x, 700, nb - 700, trained.get());
      c->merge_from(*e);
      expect_same_search(*whole, *c, xq, 10);
    }
    EXPECT_EQ(a->ntotal(), idx_t(nb));
    EXPECT_EQ(b->ntotal(), 0);
    expect_same_search(*whole, *a, xq, 10);
    EXPECT_THROW(a->merge_from(*a), Error);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryMergeableIndex, MergeFrom,
                         ::testing::Values("Flat", "SQ8", "PQ4", "PQ8x4fs", "IVF8,Flat", "IVF8,SQ8", "IVF8,PQ4",
                                           "IVF8,PQ8x4fs", "IDMap,Flat", "IDMap2,PQ4", "PCA8,IVF8,Flat",
                                           "IVF8,PQ4,RFlat", "IDMap,IVF8,SQ8", "RaBitQ", "IVF8,RaBitQ", "IVF8,RaBitQfs", "RaBitQfs",
                                           "RaBitQ4", "IVF8,RaBitQ2", "RaBitQfs3", "IVF8,RaBitQfs2"),
                         test::factory_name);

TEST(MergeFrom, KeepsIdsPlusAddIdAndRefusesWhatCannotJoin) {
  const size_t d = 16;
  const auto x = test::random_vectors(800, d, 14);
  // IVF and IDMap keep the other's ids, shifted.
  auto ivf = index_factory(d, "IVF4,Flat");
  ivf->train(400, x.data());
  auto other = deserialize_index(serialize_index(*ivf));
  other->add(10, x.data());
  ivf->merge_from(*other, 1000);
  float dist;
  idx_t label;
  ivf->search(1, x.data() + 3 * d, 1, &dist, &label);
  EXPECT_EQ(label, 1003);

  IndexIDMap2 map(std::make_shared<IndexFlat>(d)), map_other(std::make_shared<IndexFlat>(d));
  const idx_t ids[] = {1, 2};
  map.add_with_ids(2, x.data(), ids);
  map_other.add_with_ids(2, x.data() + 2 * d, ids);
  EXPECT_THROW(map.merge_from(map_other), Error);  // ids 1 and 2 twice
  EXPECT_EQ(map_other.ntotal(), 2);               // nothing moved
  map.merge_from(map_other, 10);
  std::vector<float> r(d);
  map.reconstruct(12, r.data());
  EXPECT_EQ(r, std::vector<float>(x.begin() + 3 * d, x.begin() + 4 * d));

  // Flat indexes number their vectors: no shift; other types, dimensions, trainings, graphs refuse.
  IndexFlat flat(d), flat_other(d);
  EXPECT_THROW(flat.merge_from(flat_other, 5), Error);
  IndexFlat flat8(8);
  EXPECT_THROW(flat.merge_from(flat8), Error);
  EXPECT_THROW(flat.merge_from(*ivf), Error);
  auto pq = index_factory(d, "PQ4"), pq_other = index_factory(d, "PQ4");
  pq->train(400, x.data());
  pq_other->train(400, x.data() + 400 * d);  // other codebooks
  EXPECT_THROW(pq->merge_from(*pq_other), Error);
  auto ivf_other = index_factory(d, "IVF4,Flat");
  ivf_other->train(200, x.data() + 200 * d);  // other centroids
  EXPECT_THROW(ivf->merge_from(*ivf_other), Error);
  IndexHNSWFlat hnsw(d, 8), hnsw_other(d, 8);
  EXPECT_THROW(hnsw.merge_from(hnsw_other), Error);
}

TEST(MergeFrom, ShardFilesMergeBackIntoTheWholeIndex) {
  // Shards of one trained index, written to and read from files, merge into an index equal to the whole.
  const size_t nb = 900, d = 16;
  const auto x = test::random_vectors(nb, d, 15), xq = test::random_vectors(20, d, 16);
  auto trained = index_factory(d, "OPQ4,IVF8,PQ4");
  trained->train(nb, x.data());
  auto whole = filled("", MetricType::L2, x, 0, nb, trained.get());
  auto merged = filled("", MetricType::L2, x, 0, 0, trained.get());
  for (size_t s = 0; s < 3; s++) {
    auto shard = deserialize_index(serialize_index(*filled("", MetricType::L2, x, s * 300, 300, trained.get())));
    merged->merge_from(*shard, idx_t(s * 300));
  }
  expect_same_search(*whole, *merged, xq, 10);
}

}  // namespace
}  // namespace sextant
