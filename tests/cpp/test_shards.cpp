// IndexShards and IndexReplicas give the answers of one index holding every vector.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "reference.h"
#include "same_answers.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIDMap.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexReplicas.h"
#include "sextant/IndexShards.h"
#include "sextant/base/Error.h"
#include "sextant/index_factory.h"
#include "sextant/index_io.h"
#include "sextant/utils/merge_results.h"

namespace sextant {
namespace {

using test::expect_same_range;
using test::expect_same_search;
using test::Results;
using test::search;

std::unique_ptr<IndexShards> flat_shards(size_t n, size_t d, MetricType metric) {
  auto shards = std::make_unique<IndexShards>(d, metric);
  for (size_t s = 0; s < n; s++) shards->add_shard(std::make_shared<IndexFlat>(d, metric));
  return shards;
}

class ShardsOfFlat : public ::testing::TestWithParam<MetricType> {};

TEST_P(ShardsOfFlat, AnswerLikeOneFlatIndexBitForBit) {
  const MetricType metric = GetParam();
  const size_t nb = 1003, nq = 300, d = 24;
  const auto xb = test::random_vectors(nb, d, 1), xq = test::random_vectors(nq, d, 2);
  IndexFlat one(d, metric);
  one.add(nb, xb.data());
  auto shards = flat_shards(4, d, metric);
  shards->add(nb, xb.data());
  EXPECT_EQ(shards->ntotal(), idx_t(nb));
  EXPECT_EQ(shards->shard(3)->ntotal(), idx_t(nb - 3 * nb / 4));
  EXPECT_EQ(shards->id_offset(2), idx_t(2 * nb / 4));

  for (size_t k : {1, 10, 300, 1500}) expect_same_search(one, *shards, xq, k);
  SearchParams filtered;
  filtered.sel = std::make_shared<IDSelectorRange>(240, 760);  // across shards 0..3
  expect_same_search(one, *shards, xq, 20, filtered);
  expect_same_range(one, *shards, xq, metric == MetricType::L2 ? 5.f : 1.f);

  std::vector<float> a(d), b(d);
  for (idx_t id : {idx_t(0), idx_t(250), idx_t(251), idx_t(nb - 1)}) {
    one.reconstruct(id, a.data());
    shards->reconstruct(id, b.data());
    EXPECT_EQ(a, b) << "id " << id;
  }
  EXPECT_THROW(shards->reconstruct(nb, b.data()), Error);

  // Removal closes up the ids across shards, as in one flat index.
  const IDSelectorRange gone(100, 400);
  EXPECT_EQ(one.remove_ids(gone), shards->remove_ids(gone));
  EXPECT_EQ(shards->ntotal(), one.ntotal());
  expect_same_search(one, *shards, xq, 10);
  one.reconstruct(500, a.data());
  shards->reconstruct(500, b.data());
  EXPECT_EQ(a, b);
}

TEST_P(ShardsOfFlat, AddRunsLikeFaissAndOtherwiseFailsClearly) {
  const MetricType metric = GetParam();
  const size_t d = 8;
  const auto x = test::random_vectors(10, d, 3);
  IndexShards none(d, metric);
  EXPECT_THROW(none.add(10, x.data()), Error);
  float dist[2];
  idx_t labels[2];
  none.search(1, x.data(), 2, dist, labels);  // no shards: an empty index
  EXPECT_EQ(labels[0], -1);

  auto shards = flat_shards(3, d, metric);
  EXPECT_THROW(shards->add_shard(std::make_shared<IndexFlat>(d + 1, metric)), Error);
  EXPECT_THROW(shards->add_shard(shards->shard(0)), Error);
  const std::vector<idx_t> ids(10, 7);
  EXPECT_THROW(shards->add_with_ids(10, x.data(), ids.data()), Error);
  shards->add(2, x.data());  // fewer vectors than shards: some stay empty
  EXPECT_EQ(shards->ntotal(), 2);
  EXPECT_THROW(shards->add(2, x.data()), Error);  // successive ids: one pass
  shards->search(1, x.data(), 2, dist, labels);
  EXPECT_EQ(labels[0], 0);
  EXPECT_EQ(labels[1], 1);
  SearchParams nprobe;
  nprobe.nprobe = 4;
  EXPECT_THROW(shards->search(1, x.data(), 2, dist, labels, nprobe), Error);  // no shard reads nprobe
}

INSTANTIATE_TEST_SUITE_P(BothMetrics, ShardsOfFlat, ::testing::Values(MetricType::L2, MetricType::INNER_PRODUCT),
                         [](const auto& info) { return info.param == MetricType::L2 ? "L2" : "IP"; });

TEST(IndexShards, IvfShardsSharingAQuantizerAnswerLikeOneIvf) {
  const size_t nb = 4000, nq = 200, d = 16, nlist = 32;
  const auto xb = test::random_vectors(nb, d, 4), xq = test::random_vectors(nq, d, 5);
  auto quantizer = std::make_shared<IndexFlat>(d);
  IndexIVFFlat one(quantizer, d, nlist);
  one.train(nb, xb.data());
  one.add(nb, xb.data());
  // Shards keeping ids, added to in two batches, numbered globally.
  IndexShards shards(d, MetricType::L2, false);
  for (int s = 0; s < 3; s++) shards.add_shard(std::make_shared<IndexIVFFlat>(quantizer, d, nlist));
  shards.add(1500, xb.data());
  shards.add(nb - 1500, xb.data() + 1500 * d);
  EXPECT_EQ(shards.next_id(), idx_t(nb));
  EXPECT_EQ(shards.ntotal(), idx_t(nb));
  for (int64_t nprobe : {1, 4, 32}) {
    SearchParams p;
    p.nprobe = nprobe;
    expect_same_search(one, shards, xq, 10, p);
  }
  // Caller ids pass through; removal and reconstruction find the right shard.
  const std::vector<idx_t> extra_ids = {1'000'000, 2'000'000};
  shards.add_with_ids(2, xb.data(), extra_ids.data());
  for (int s = 0; s < 3; s++) static_cast<IndexIVF&>(*shards.shard(s)).make_direct_map(DirectMapType::hashtable);
  std::vector<float> r(d);
  shards.reconstruct(2'000'000, r.data());
  EXPECT_EQ(r, std::vector<float>(xb.begin() + d, xb.begin() + 2 * d));
  EXPECT_THROW(shards.reconstruct(3'000'000, r.data()), Error);
  EXPECT_EQ(shards.remove_ids(IDSelectorBatch(extra_ids.size(), extra_ids.data())), 2u);
  EXPECT_EQ(shards.ntotal(), idx_t(nb));
}

TEST(IndexShards, HnswShardsKeepRecall) {
  const size_t nb = 3000, nq = 100, d = 16, k = 10;
  const auto xb = test::random_vectors(nb, d, 6), xq = test::random_vectors(nq, d, 7);
  IndexFlat exact(d);
  exact.add(nb, xb.data());
  const Results truth = search(exact, xq, k);
  auto shards = index_factory(d, "Shards3,HNSW16");
  shards->add(nb, xb.data());
  SearchParams p;
  p.efSearch = 64;
  const Results got = search(*shards, xq, k, p);
  size_t hits = 0;
  for (size_t q = 0; q < nq; q++) {
    for (size_t i = 0; i < k; i++) {
      for (size_t j = 0; j < k; j++) hits += got.labels[q * k + i] == truth.labels[q * k + j];
    }
  }
  EXPECT_GT(double(hits) / (nq * k), 0.95);
}

TEST(IndexReplicas, SplitTheQueriesAndAnswerLikeOneIndex) {
  const size_t nb = 2000, nq = 37, d = 16;
  const auto xb = test::random_vectors(nb, d, 8), xq = test::random_vectors(nq, d, 9);
  IndexFlat one(d, MetricType::INNER_PRODUCT);
  one.add(nb, xb.data());
  IndexReplicas replicas(d, MetricType::INNER_PRODUCT);
  for (int r = 0; r < 3; r++) replicas.add_replica(std::make_shared<IndexFlat>(d, MetricType::INNER_PRODUCT));
  replicas.add(nb, xb.data());
  for (int r = 0; r < 3; r++) EXPECT_EQ(replicas.replica(r)->ntotal(), idx_t(nb));
  expect_same_search(one, replicas, xq, 10);
  expect_same_range(one, replicas, xq, 2.f);
  EXPECT_THROW(replicas.add_replica(std::make_shared<IndexFlat>(d, MetricType::INNER_PRODUCT)), Error);  // empty
  const IDSelectorRange gone(0, 10);
  EXPECT_EQ(replicas.remove_ids(gone), one.remove_ids(gone));
  expect_same_search(one, replicas, xq, 10);
}

TEST(IndexShards, FilesRoundTripAndRejectLies) {
  const size_t nb = 500, d = 8;
  const auto xb = test::random_vectors(nb, d, 10), xq = test::random_vectors(20, d, 11);
  for (const char* description : {"Shards3,IVF8,PQ4", "IDMap,Shards2,Flat", "Replicas2,Shards2,SQ8"}) {
    SCOPED_TRACE(description);
    auto index = index_factory(d, description);
    index->train(nb, xb.data());
    if (std::string(description).rfind("IDMap", 0) == 0) {
      std::vector<idx_t> ids(nb);
      for (size_t i = 0; i < nb; i++) ids[i] = idx_t(10 * i);
      index->add_with_ids(nb, xb.data(), ids.data());
    } else {
      index->add(nb, xb.data());
    }
    auto again = deserialize_index(serialize_index(*index));
    EXPECT_EQ(describe(*again), description);
    expect_same_search(*index, *again, xq, 5);
  }
  // Successive-id offsets restored as saved, after a removal from shards that keep ids.
  IndexShards shards(d, MetricType::L2, true);
  auto quantizer = std::make_shared<IndexFlat>(d);
  for (int s = 0; s < 2; s++) shards.add_shard(std::make_shared<IndexIVFFlat>(quantizer, d, 4));
  shards.train(nb, xb.data());
  shards.add(nb, xb.data());
  shards.remove_ids(IDSelectorRange(0, 50));
  auto again = deserialize_index(serialize_index(shards));
  EXPECT_EQ(dynamic_cast<IndexShards&>(*again).id_offset(1), idx_t(nb / 2));
  expect_same_search(shards, *again, xq, 5);
}

TEST(MergeKnnResults, OrdersByDistanceThenIdWithNaNLastAndPads) {
  // Two parts, one query, k = 4; part 1 has a missing result and a NaN.
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float D[] = {1.f, 2.f, 2.f, 5.f, /* part 1 */ 0.5f, 2.f, nan, inf};
  const idx_t I[] = {10, 30, 31, 12, /* part 1 */ 7, 20, 8, -1};
  float out_d[6];
  idx_t out_i[6];
  merge_knn_results(2, 1, 4, D, I, MetricType::L2, out_d, out_i);
  EXPECT_EQ(std::vector<idx_t>(out_i, out_i + 4), (std::vector<idx_t>{7, 10, 20, 30}));
  EXPECT_EQ(std::vector<float>(out_d, out_d + 4), (std::vector<float>{0.5f, 1.f, 2.f, 2.f}));
  // Inner product: larger first; with k = 6 of 7 real hits the NaN ranks last, then padding.
  const float Dip[] = {1.f, 2.f, 2.f, nan, 3.f, 2.f};
  const idx_t Iip[] = {1, 2, 3, 9, 4, -1};
  merge_knn_results(2, 1, 3, Dip, Iip, MetricType::INNER_PRODUCT, out_d, out_i);
  EXPECT_EQ(std::vector<idx_t>(out_i, out_i + 3), (std::vector<idx_t>{4, 2, 3}));
  merge_knn_results(1, 2, 3, Dip, Iip, MetricType::INNER_PRODUCT, out_d, out_i);  // one part, two queries
  EXPECT_EQ(std::vector<idx_t>(out_i, out_i + 6), (std::vector<idx_t>{2, 3, 1, 4, 9, -1}));
  EXPECT_EQ(out_d[5], -inf);
}

}  // namespace
}  // namespace sextant
