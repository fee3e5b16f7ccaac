#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexHNSW.h"
#include "sextant/IndexHNSWQuantized.h"
#include "sextant/IndexIDMap.h"
#include "sextant/IndexPQ.h"
#include "sextant/IndexRefine.h"
#include "sextant/IndexScalarQuantizer.h"
#include "sextant/base/Error.h"
#include "sextant/base/threads.h"

namespace sextant {
namespace {

constexpr size_t kD = 16, kK = 10;

/// Points around 40 fixed centres (the same for every seed, so queries come
/// from the distribution of the base): the shape of real embeddings, where a
/// graph has clusters to connect.
std::vector<float> clustered(size_t n, size_t d, uint32_t seed) {
  auto centres = test::random_vectors(40, d, 1000, -3.f, 3.f);
  auto noise = test::random_vectors(n, d, seed);
  std::vector<float> x(n * d);
  std::mt19937 pick(seed);
  for (size_t i = 0; i < n; i++) {
    const size_t c = pick() % 40;
    for (size_t j = 0; j < d; j++) x[i * d + j] = centres[c * d + j] + noise[i * d + j];
  }
  return x;
}

/// Share of the exact k nearest neighbours (by IndexFlat on the same vectors) that I holds.
double recall(const Index& flat, const float* xq, size_t nq, const std::vector<idx_t>& I, size_t k,
              const SearchParams& params = {}) {
  std::vector<float> Dt(nq * k);
  std::vector<idx_t> It(nq * k);
  flat.search(nq, xq, k, Dt.data(), It.data(), params);
  size_t hits = 0, total = 0;
  for (size_t q = 0; q < nq; q++) {
    std::set<idx_t> truth;
    for (size_t j = 0; j < k; j++) {
      if (It[q * k + j] >= 0) truth.insert(It[q * k + j]);
    }
    for (size_t j = 0; j < k; j++) hits += truth.count(I[q * k + j]);
    total += truth.size();
  }
  return double(hits) / double(total);
}

struct Built {
  std::unique_ptr<IndexHNSWFlat> hnsw;
  std::unique_ptr<IndexFlat> flat;
};

Built build(size_t nb, MetricType metric, const std::vector<float>& xb, int M = 16) {
  Built b{std::make_unique<IndexHNSWFlat>(kD, M, metric), std::make_unique<IndexFlat>(kD, metric)};
  b.hnsw->set_efConstruction(80);
  b.hnsw->add(nb, xb.data());
  b.flat->add(nb, xb.data());
  return b;
}

std::vector<idx_t> search(const Index& index, const std::vector<float>& xq, size_t k, const SearchParams& p = {}) {
  const size_t nq = xq.size() / index.d();
  std::vector<float> D(nq * k);
  std::vector<idx_t> I(nq * k);
  index.search(nq, xq.data(), k, D.data(), I.data(), p);
  return I;
}

SearchParams ef(int64_t value, std::shared_ptr<const IDSelector> sel = nullptr) {
  SearchParams p;
  p.efSearch = value;
  p.sel = std::move(sel);
  return p;
}

class HNSWMetric : public ::testing::TestWithParam<MetricType> {};

TEST(HNSW, EveryNodeKeepsAnInLinkOnLevelZero) {
  // Small M on many near-duplicate points: pruning drops links, and without
  // repair some nodes end up with no way in (no search could return them).
  const size_t nb = 6000;
  auto xb = clustered(nb, kD, 7);
  for (float& v : xb) v = std::round(v * 4) / 4;  // duplicates and ties
  IndexHNSWFlat index(kD, 4, MetricType::L2);
  index.set_efConstruction(16);
  auto orphans = [&] {
    const HNSW& g = index.hnsw();
    std::vector<int> in(g.ntotal(), 0);
    for (size_t i = 0; i < g.ntotal(); i++) {
      for (node_t u : g.neighbors(node_t(i), 0)) in[u]++;
    }
    size_t count = 0;
    for (size_t i = 0; i < g.ntotal(); i++) count += in[i] == 0 && node_t(i) != g.entry_point();
    return count;
  };
  index.add(nb, xb.data());
  EXPECT_EQ(orphans(), 0u) << "after add";
  index.remove_ids(IDSelectorRange(0, nb / 3));
  EXPECT_EQ(orphans(), 0u) << "after remove";
  std::vector<idx_t> keys = {0, 5, 17};
  index.update(3, keys.data(), xb.data());
  EXPECT_EQ(orphans(), 0u) << "after update";
}

TEST(HNSW, ParallelBuildReachesEveryNodeFromTheEntryPoint) {
  // Concurrent insertions must not leave islands on level 0. Linking a node
  // on an upper level before level 0 let another insertion descend into its
  // still empty list: before that was fixed, 11 of 30 two-thread builds here
  // left 2-5 nodes that no search could reach (serial builds: none).
  const size_t nb = 5000;
  auto xb = clustered(nb, kD, 31);
  const int saved = get_num_threads();
  set_num_threads(4);
  for (uint64_t seed = 1; seed <= 6; seed++) {
    IndexHNSWFlat index(kD, 16, MetricType::L2);
    index.set_seed(seed);
    index.set_efConstruction(40);
    index.add(nb, xb.data());
    const HNSW& g = index.hnsw();
    std::vector<bool> seen(g.ntotal(), false);
    std::vector<node_t> frontier = {g.entry_point()};
    seen[g.entry_point()] = true;
    size_t reached = 1;
    while (!frontier.empty()) {
      const node_t u = frontier.back();
      frontier.pop_back();
      for (node_t w : g.neighbors(u, 0)) {
        if (!seen[w]) {
          seen[w] = true;
          reached++;
          frontier.push_back(w);
        }
      }
    }
    EXPECT_EQ(reached, nb) << "seed " << seed;
  }
  set_num_threads(saved);
}

TEST(HNSW, InnerProductDistancesAreExactForRowsOfOneNormOrMany) {
  const size_t nb = 3000, nq = 100;
  auto xb = clustered(nb, kD, 1), xq = clustered(nq, kD, 2);
  for (size_t i = 0; i < nb; i++) {
    float norm = 0;
    for (size_t j = 0; j < kD; j++) norm += xb[i * kD + j] * xb[i * kD + j];
    for (size_t j = 0; j < kD; j++) xb[i * kD + j] /= std::sqrt(norm);
  }
  Built b = build(nb, MetricType::INNER_PRODUCT, xb);
  EXPECT_TRUE(b.hnsw->flat_storage().column_order().empty());  // no early stop to reorder columns for
  auto check = [&](const char* what) {
    std::vector<float> D(nq * kK);
    std::vector<idx_t> I(nq * kK);
    b.hnsw->search(nq, xq.data(), kK, D.data(), I.data(), ef(64));
    EXPECT_GE(recall(*b.flat, xq.data(), nq, I, kK), 0.97) << what;
    for (size_t q = 0; q < nq; q++) {
      for (size_t j = 0; j < kK; j++) {
        ASSERT_GE(I[q * kK + j], 0) << what;
        const double exact =
            test::exact_distance(&xq[q * kD], &xb[I[q * kK + j] * kD], kD, MetricType::INNER_PRODUCT);
        EXPECT_NEAR(D[q * kK + j], exact, 1e-5 * std::max(1.0, std::fabs(exact))) << what;
      }
    }
  };
  check("one norm");
  std::vector<float> longer(kD, 0.0f);
  longer[0] = 0.5f;  // shorter, in fact: any other norm will do
  b.hnsw->add(1, longer.data());
  b.flat->add(1, longer.data());
  xb.insert(xb.end(), longer.begin(), longer.end());
  check("mixed norms");
}

TEST_P(HNSWMetric, RecallAgainstExactSearch) {
  const MetricType metric = GetParam();
  const size_t nb = 3000, nq = 100;
  auto xb = clustered(nb, kD, 1), xq = clustered(nq, kD, 2);
  Built b = build(nb, metric, xb);
  // Recall grows with efSearch; at 64 this graph finds nearly everything.
  const double r16 = recall(*b.flat, xq.data(), nq, search(*b.hnsw, xq, kK, ef(16)), kK);
  const double r64 = recall(*b.flat, xq.data(), nq, search(*b.hnsw, xq, kK, ef(64)), kK);
  EXPECT_GE(r64, 0.97) << metric_name(metric);
  EXPECT_GE(r16, 0.80) << metric_name(metric);
  EXPECT_GE(r64, r16);

  // Distances are the exact ones of the returned labels, best first.
  std::vector<float> D(nq * kK);
  std::vector<idx_t> I(nq * kK);
  b.hnsw->search(nq, xq.data(), kK, D.data(), I.data(), ef(64));
  for (size_t q = 0; q < nq; q++) {
    for (size_t j = 0; j < kK; j++) {
      ASSERT_GE(I[q * kK + j], 0);
      const double exact = test::exact_distance(&xq[q * kD], &xb[I[q * kK + j] * kD], kD, metric);
      EXPECT_NEAR(D[q * kK + j], exact, 1e-3 * std::max(1.0, std::fabs(exact)));
      if (j > 0) EXPECT_TRUE(is_similarity(metric) ? D[q * kK + j] <= D[q * kK + j - 1] : D[q * kK + j] >= D[q * kK + j - 1]);
    }
  }
}

TEST_P(HNSWMetric, FilteredRecallAt50And10And1Percent) {
  const MetricType metric = GetParam();
  const size_t nb = 5000, nq = 60;
  auto xb = clustered(nb, kD, 3), xq = clustered(nq, kD, 4);
  Built b = build(nb, metric, xb);
  for (int percent : {50, 10, 1}) {
    std::vector<idx_t> ids;
    for (size_t i = 0; i < nb; i++) {
      if ((i * 7919) % 100 < size_t(percent)) ids.push_back(idx_t(i));
    }
    auto sel = std::make_shared<IDSelectorBatch>(ids.size(), ids.data());
    auto I = search(*b.hnsw, xq, kK, ef(32, sel));
    for (idx_t id : I) {
      if (id >= 0) EXPECT_TRUE(sel->is_member(id)) << percent << "%: id " << id << " is not in the filter";
    }
    SearchParams only_sel;
    only_sel.sel = sel;
    EXPECT_GE(recall(*b.flat, xq.data(), nq, I, kK, only_sel), 0.95) << percent << "% " << metric_name(metric);
  }
}

TEST_P(HNSWMetric, FilterCorrelatedWithTheQueryStaysExact) {
  // Members are the vectors with a large first coordinate, the queries have
  // a small one: no member lies near a query, so the first graph search ends
  // among non-members and the index must widen it or fall back to brute force.
  const MetricType metric = GetParam();
  const size_t nb = 5000, nq = 40;
  auto xb = clustered(nb, kD, 21), xq = clustered(nq, kD, 22);
  for (size_t q = 0; q < nq; q++) xq[q * kD] -= 4.f;
  Built b = build(nb, metric, xb);
  std::vector<uint8_t> bits((nb + 7) / 8, 0);
  size_t members = 0;
  for (size_t i = 0; i < nb; i++) {
    if (xb[i * kD] > -0.5f) {
      bits[i / 8] |= uint8_t(1u << (i % 8));
      members++;
    }
  }
  ASSERT_GT(members, nb / 3);
  auto sel = std::make_shared<IDSelectorBitmap>(bits.size(), bits.data());
  SearchParams only_sel;
  only_sel.sel = sel;
  EXPECT_GE(recall(*b.flat, xq.data(), nq, search(*b.hnsw, xq, kK, ef(32, sel)), kK, only_sel), 0.95);
}

TEST_P(HNSWMetric, GraphTraversalThroughNonMembersFindsSparseMembers) {
  // Below the index's brute-force switch: the graph search itself, with a 10%
  // filter and the pool widened to ef / 0.1 (ef = 64), must still find the members.
  const MetricType metric = GetParam();
  const size_t nb = 4000, nq = 60;
  auto xb = clustered(nb, kD, 5), xq = clustered(nq, kD, 6);
  FlatGraphStorage storage(kD, metric);
  storage.append(nb, xb.data());
  HNSW graph(16);
  graph.efConstruction = 80;
  graph.add(nb, storage);
  IndexFlat flat(kD, metric);
  flat.add(nb, xb.data());
  std::vector<idx_t> ids;
  for (size_t i = 0; i < nb; i += 10) ids.push_back(idx_t(i));
  IDSelectorBatch sel(ids.size(), ids.data());
  auto dist = storage.distance_computer();
  SearchBuffers buf;
  std::vector<float> D(nq * kK);
  std::vector<idx_t> I(nq * kK, -1);
  for (size_t q = 0; q < nq; q++) {
    dist->set_query(&xq[q * kD]);
    EXPECT_EQ(graph.search(*dist, buf, kK, 640, &sel, &D[q * kK], &I[q * kK]), kK);
  }
  SearchParams only_sel;
  only_sel.sel = std::make_shared<IDSelectorBatch>(ids.size(), ids.data());
  EXPECT_GE(recall(flat, xq.data(), nq, I, kK, only_sel), 0.9);
}

TEST(HNSW, RenumberingForLocalityKeepsIds) {
  // From 4096 vectors the graph nodes are renumbered; ids must not notice.
  const size_t nb = 5000;
  auto xb = clustered(nb, kD, 24);
  IndexHNSWFlat index(kD, 8);
  index.add(nb / 2, xb.data());  // 2500: not yet renumbered
  EXPECT_EQ(index.node_of(1234), node_t(1234));
  index.add(nb - nb / 2, xb.data() + nb / 2 * kD);  // 5000: renumbered
  size_t moved = 0;
  for (idx_t i = 0; i < idx_t(nb); i++) {
    EXPECT_EQ(index.label_of(index.node_of(i)), i);
    moved += index.node_of(i) != node_t(i);
  }
  EXPECT_GT(moved, nb / 2);
  std::vector<float> r(kD);
  for (idx_t i : {idx_t(0), idx_t(2500), idx_t(4999)}) {
    index.reconstruct(i, r.data());
    EXPECT_EQ(r, std::vector<float>(&xb[i * kD], &xb[(i + 1) * kD]));
  }
  std::vector<float> probe(&xb[100 * kD], &xb[140 * kD]);
  auto I = search(index, probe, 1, ef(32));
  size_t self = 0;  // each probe is a stored vector: it finds itself (a graph search may rarely miss)
  for (size_t i = 0; i < 40; i++) self += I[i] == idx_t(100 + i);
  EXPECT_GE(self, 38u);
  const HNSWStats s = index.hnsw_stats();
  EXPECT_EQ(index.hnsw().level(index.node_of(s.entry_point)), s.max_level);
  // Filters and removal speak ids too.
  SearchParams p = ef(32, std::make_shared<IDSelectorRange>(3000, 3100));
  auto F = search(index, probe, 3, p);
  for (idx_t id : F) EXPECT_TRUE(id >= 3000 && id < 3100) << id;
  IDSelectorRange first(0, 1000);
  EXPECT_EQ(index.remove_ids(first), 1000u);
  index.reconstruct(0, r.data());
  EXPECT_EQ(r, std::vector<float>(&xb[1000 * kD], &xb[1001 * kD]));
  std::vector<float> probe2(&xb[2000 * kD], &xb[2020 * kD]);
  auto J = search(index, probe2, 1, ef(32));
  self = 0;
  for (size_t i = 0; i < 20; i++) self += J[i] == idx_t(1000 + i);
  EXPECT_GE(self, 19u);
}

TEST_P(HNSWMetric, RecallHoldsAfterRemoving30PercentAndAddingBack) {
  const MetricType metric = GetParam();
  const size_t nb = 5000, nq = 100, nnew = 600;
  auto xb = clustered(nb, kD, 7), xq = clustered(nq, kD, 8), xnew = clustered(nnew, kD, 9);
  Built b = build(nb, metric, xb);
  std::vector<idx_t> gone;
  for (size_t i = 0; i < nb; i++) {
    if ((i * 37) % 10 < 3) gone.push_back(idx_t(i));
  }
  IDSelectorBatch sel(gone.size(), gone.data());
  EXPECT_EQ(b.hnsw->remove_ids(sel), gone.size());
  EXPECT_EQ(b.flat->remove_ids(sel), gone.size());
  ASSERT_EQ(b.hnsw->ntotal(), b.flat->ntotal());
  // Survivors keep their order: position 0 now holds the first kept vector.
  std::vector<float> r(kD), expect(kD);
  for (idx_t pos : {idx_t(0), idx_t(1234), b.hnsw->ntotal() - 1}) {
    b.hnsw->reconstruct(pos, r.data());
    b.flat->reconstruct(pos, expect.data());
    EXPECT_EQ(r, expect);
  }
  EXPECT_GE(recall(*b.flat, xq.data(), nq, search(*b.hnsw, xq, kK, ef(64)), kK), 0.95);
  b.hnsw->add(nnew, xnew.data());
  b.flat->add(nnew, xnew.data());
  EXPECT_GE(recall(*b.flat, xq.data(), nq, search(*b.hnsw, xq, kK, ef(64)), kK), 0.95);
  const HNSWStats stats = b.hnsw->hnsw_stats();
  EXPECT_EQ(stats.nodes_per_level[0], b.hnsw->ntotal());
}

TEST_P(HNSWMetric, UpdateReplacesVectorsInPlace) {
  const MetricType metric = GetParam();
  const size_t nb = 4500, nq = 100;
  auto xb = clustered(nb, kD, 10), xq = clustered(nq, kD, 11);
  Built b = build(nb, metric, xb);
  // Move a fifth of the vectors, the entry point among them, to new places.
  std::vector<idx_t> keys;
  for (size_t i = 0; i < nb; i += 5) keys.push_back(idx_t(i));
  const idx_t entry = b.hnsw->hnsw_stats().entry_point;
  if (entry % 5 != 0) keys.push_back(entry);
  auto moved = clustered(keys.size(), kD, 12);
  b.hnsw->update(keys.size(), keys.data(), moved.data());
  EXPECT_EQ(b.hnsw->ntotal(), idx_t(nb));
  for (size_t i = 0; i < keys.size(); i++) std::copy_n(&moved[i * kD], kD, &xb[keys[i] * kD]);
  IndexFlat flat(kD, metric);
  flat.add(nb, xb.data());
  std::vector<float> r(kD);
  b.hnsw->reconstruct(keys[3], r.data());
  EXPECT_EQ(r, std::vector<float>(&moved[3 * kD], &moved[4 * kD]));
  EXPECT_GE(recall(flat, xq.data(), nq, search(*b.hnsw, xq, kK, ef(64)), kK), 0.95);
  // The moved vectors are found at their new place (L2: each is its own nearest neighbour).
  std::vector<float> probe(&moved[0], &moved[20 * kD]);
  auto I = search(*b.hnsw, probe, 1, ef(64)), It = search(flat, probe, 1);
  size_t found = 0;
  for (size_t i = 0; i < 20; i++) {
    found += I[i] == It[i];
    if (metric == MetricType::L2) EXPECT_EQ(It[i], keys[i]);
  }
  EXPECT_GE(found, 19u);
  const idx_t twice[2] = {4, 4};
  EXPECT_THROW(b.hnsw->update(2, twice, moved.data()), Error);
  const idx_t outside = idx_t(nb);
  EXPECT_THROW(b.hnsw->update(1, &outside, moved.data()), Error);
}

TEST_P(HNSWMetric, RangeSearchFindsTheExactHits) {
  const MetricType metric = GetParam();
  const size_t nb = 4500, nq = 30;
  auto xb = clustered(nb, kD, 13), xq = clustered(nq, kD, 14);
  Built b = build(nb, metric, xb);
  // A radius with a few dozen hits per query (the 40th neighbour of query 0).
  std::vector<float> D(40);
  std::vector<idx_t> I(40);
  b.flat->search(1, xq.data(), 40, D.data(), I.data());
  const float radius = D[39];
  RangeSearchResult exact = b.flat->range_search(nq, xq.data(), radius);
  RangeSearchResult got = b.hnsw->range_search(nq, xq.data(), radius, ef(32));
  size_t hits = 0;
  for (size_t q = 0; q < nq; q++) {
    std::set<idx_t> truth(exact.labels.begin() + exact.lims[q], exact.labels.begin() + exact.lims[q + 1]);
    for (size_t j = got.lims[q]; j < got.lims[q + 1]; j++) {
      EXPECT_TRUE(truth.count(got.labels[j])) << "query " << q << " label " << got.labels[j];
      hits += truth.count(got.labels[j]);
      if (j > got.lims[q]) EXPECT_TRUE(is_similarity(metric) ? got.distances[j] <= got.distances[j - 1] : got.distances[j] >= got.distances[j - 1]);
    }
  }
  // Inner product is not a metric: the hits of a radius are less local in the graph.
  EXPECT_GE(double(hits), (metric == MetricType::L2 ? 0.97 : 0.85) * double(exact.labels.size()));
}

INSTANTIATE_TEST_SUITE_P(BothMetrics, HNSWMetric, ::testing::Values(MetricType::L2, MetricType::INNER_PRODUCT),
                         [](const auto& info) { return std::string(metric_name(info.param)); });

TEST(FlatGraphStorage, ColumnOrderIsInvisibleOutside) {
  // Appends in small batches re-derive the column order (L2) until
  // kOrderFixedAt rows; rows, queries and distances must not notice.
  const size_t d = 37;
  auto x = test::random_vectors(300, d, 23);
  for (size_t i = 0; i < 300; i++) x[i * d + (i % d)] *= 10.f;  // uneven variances
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    FlatGraphStorage storage(d, metric);
    for (size_t at = 0; at < 300; at += 50) storage.append(50, &x[at * d]);
    storage.replace(7, &x[8 * d]);
    std::vector<float> r(d);
    storage.reconstruct(7, r.data());
    EXPECT_EQ(r, std::vector<float>(&x[8 * d], &x[9 * d]));
    storage.reconstruct(299, r.data());
    EXPECT_EQ(r, std::vector<float>(&x[299 * d], &x[300 * d]));
    auto dist = storage.distance_computer();
    dist->set_query(&x[5 * d]);
    std::vector<node_t> ids = {0, 9, 100, 250, 299};
    std::vector<float> out(ids.size());
    dist->distances(ids.data(), ids.size(), std::numeric_limits<float>::infinity(), out.data());
    for (size_t j = 0; j < ids.size(); j++) {
      const double exact = test::exact_distance(&x[5 * d], &x[ids[j] * d], d, metric);
      EXPECT_NEAR(out[j], is_similarity(metric) ? -exact : exact, 1e-3 * std::max(1.0, std::fabs(exact)));
    }
    // Traversals read the floats' high halves (8 significant bits): close to
    // the exact distances, but not equal to them.
    dist->traversal_distances(ids.data(), ids.size(), std::numeric_limits<float>::infinity(), out.data());
    for (size_t j = 0; j < ids.size(); j++) {
      const double exact = test::exact_distance(&x[5 * d], &x[ids[j] * d], d, metric);
      EXPECT_NEAR(out[j], is_similarity(metric) ? -exact : exact, 1e-2 * std::max(1.0, std::fabs(exact)));
    }
    // A stored node as the query gives exact distances; between() is a traversal distance.
    const double exact34 = test::exact_distance(&x[3 * d], &x[4 * d], d, metric);
    const float want = float(is_similarity(metric) ? -exact34 : exact34);
    const node_t four = 4;
    float got;
    dist->set_query_node(3);
    dist->distances(&four, 1, std::numeric_limits<float>::infinity(), &got);
    EXPECT_NEAR(got, want, 1e-3 * std::max(1.0, std::fabs(exact34)));
    EXPECT_NEAR(dist->between(3, 4), want, 1e-2 * std::max(1.0, std::fabs(exact34)));
  }
}

TEST(FlatGraphStorage, RowsExactInTheirHighHalvesKeepNoLowHalves) {
  // Integers below 256 have 8 significant bits: their low halves are zero.
  const size_t d = 37, n = 300;
  std::mt19937 rng(5);
  std::vector<float> x(n * d);
  for (float& v : x) v = float(int(rng() % 511) - 255);
  std::vector<float> inexact(&x[0], &x[d]);
  for (float& v : inexact) v += 0.1f;
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<node_t> ids = {0, 9, 100, 250, 299};
  std::vector<float> exact(ids.size()), traversal(ids.size()), r(d);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    FlatGraphStorage storage(d, metric);
    for (size_t at = 0; at < n; at += 50) storage.append(50, &x[at * d]);  // re-derives the L2 column order
    auto dist = storage.distance_computer();
    EXPECT_FALSE(dist->approximate_traversal());
    dist->set_query(&x[5 * d]);
    dist->distances(ids.data(), ids.size(), inf, exact.data());
    dist->traversal_distances(ids.data(), ids.size(), inf, traversal.data());
    EXPECT_EQ(exact, traversal);
    for (size_t j = 0; j < ids.size(); j++) {
      const double want = test::exact_distance(&x[5 * d], &x[ids[j] * d], d, metric);
      EXPECT_NEAR(exact[j], is_similarity(metric) ? -want : want, 1e-6 * std::max(1.0, std::fabs(want)));
    }
    // The first row that needs low halves brings them for every row.
    storage.replace(42, inexact.data());
    EXPECT_TRUE(storage.distance_computer()->approximate_traversal());
    storage.reconstruct(42, r.data());
    EXPECT_EQ(r, inexact);
    for (size_t i : {size_t(0), size_t(41), size_t(299)}) {
      storage.reconstruct(i, r.data());
      EXPECT_EQ(r, std::vector<float>(&x[i * d], &x[(i + 1) * d]));
    }
  }
  // Half the memory of rows that need both halves.
  const size_t many = 20000, wide = 64;
  std::vector<float> ints(many * wide), reals = test::random_vectors(many, wide, 6, -100.f, 100.f);
  for (size_t i = 0; i < ints.size(); i++) ints[i] = std::round(reals[i]);
  FlatGraphStorage halves(wide, MetricType::L2), whole(wide, MetricType::L2);
  halves.append(many, ints.data());
  whole.append(many, reals.data());
  EXPECT_LT(double(halves.memory_bytes()), 0.55 * double(whole.memory_bytes()));
}

TEST(FlatGraphStorage, ExactRangeHoldsTheExactDistanceAndIsTight) {
  // Rows of very different norms, queries near and far: the exact distance
  // lies in the range derived from the traversal distance, whose width is
  // about the truncation's bound (2^-7 of the largest norm).
  const size_t d = 29, n = 400;
  auto x = test::random_vectors(n, d, 31, -1.f, 1.f);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++) x[i * d + j] *= float(1 + i % 7) * 3.1f;
  }
  auto queries = test::random_vectors(8, d, 32, -20.f, 20.f);
  double max_norm = 0;
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (size_t j = 0; j < d; j++) s += double(x[i * d + j]) * x[i * d + j];
    max_norm = std::max(max_norm, std::sqrt(s));
  }
  std::vector<node_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0u);
  std::vector<float> exact(n), traversal(n);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    FlatGraphStorage storage(d, metric);
    storage.append(n, x.data());
    auto dist = storage.distance_computer();
    ASSERT_TRUE(dist->approximate_traversal());
    size_t moved = 0;
    for (size_t q = 0; q < 8; q++) {
      const float* query = &queries[q * d];
      double qnorm = 0;
      for (size_t j = 0; j < d; j++) qnorm += double(query[j]) * query[j];
      qnorm = std::sqrt(qnorm);
      dist->set_query(query);
      dist->distances(ids.data(), n, std::numeric_limits<float>::infinity(), exact.data());
      dist->traversal_distances(ids.data(), n, std::numeric_limits<float>::infinity(), traversal.data());
      for (size_t i = 0; i < n; i++) {
        const GraphDistance::Range range = dist->exact_range(traversal[i]);
        EXPECT_LE(range.low, exact[i]) << metric_name(metric) << " row " << i;
        EXPECT_GE(range.high, exact[i]) << metric_name(metric) << " row " << i;
        moved += exact[i] != traversal[i];
        if (is_similarity(metric)) {
          EXPECT_LE(range.high - range.low, 2.1 * 0x1p-7 * qnorm * max_norm);
        } else {
          EXPECT_LE(std::sqrt(range.high) - std::sqrt(range.low), 2.1 * 0x1p-7 * max_norm + 1e-3 * std::sqrt(exact[i]));
        }
      }
    }
    EXPECT_GT(moved, n);  // the truncation shows: the ranges are not trivially points
  }
}

TEST_P(HNSWMetric, ReRankingWhatCanReachTheKBestGivesTheFullReRanksAnswer) {
  // k = ef re-ranks every candidate; k < ef only those whose exact distance
  // can still beat the k-th's. The k best must be the same, bit for bit.
  const MetricType metric = GetParam();
  const size_t nb = 3000, nq = 50, k = 10, all = 64;
  auto xb = clustered(nb, kD, 1), xq = clustered(nq, kD, 2);
  Built b = build(nb, metric, xb);
  std::vector<float> D(nq * k), Dall(nq * all);
  std::vector<idx_t> I(nq * k), Iall(nq * all);
  b.hnsw->search(nq, xq.data(), k, D.data(), I.data(), ef(all));
  b.hnsw->search(nq, xq.data(), all, Dall.data(), Iall.data(), ef(all));
  for (size_t q = 0; q < nq; q++) {
    for (size_t j = 0; j < k; j++) {
      EXPECT_EQ(I[q * k + j], Iall[q * all + j]) << "query " << q << " rank " << j;
      EXPECT_EQ(D[q * k + j], Dall[q * all + j]) << "query " << q << " rank " << j;
    }
  }
}

TEST(HNSW, OneThreadAndAFixedSeedGiveTheSameGraph) {
  const size_t nb = 1500, nq = 20;
  auto xb = clustered(nb, kD, 15), xq = clustered(nq, kD, 16);
  const int saved = get_num_threads();
  set_num_threads(1);
  IndexHNSWFlat a(kD, 8), c(kD, 8);
  a.set_seed(99);
  c.set_seed(99);
  a.add(nb / 2, xb.data());  // in two batches: the generator continues
  a.add(nb / 2, xb.data() + nb / 2 * kD);
  c.add(nb / 2, xb.data());
  c.add(nb / 2, xb.data() + nb / 2 * kD);
  set_num_threads(saved);
  ASSERT_EQ(a.hnsw().entry_point(), c.hnsw().entry_point());
  for (node_t i = 0; i < nb; i++) {
    ASSERT_EQ(a.hnsw().level(i), c.hnsw().level(i));
    for (int l = 0; l <= a.hnsw().level(i); l++) ASSERT_EQ(a.hnsw().neighbors(i, l), c.hnsw().neighbors(i, l));
  }
  EXPECT_EQ(search(a, xq, kK), search(c, xq, kK));
  // A parallel build is a valid graph too (not necessarily the same one).
  IndexHNSWFlat p(kD, 8);
  p.add(nb, xb.data());
  EXPECT_EQ(p.hnsw_stats().nodes_per_level[0], idx_t(nb));
}

TEST(HNSW, ConcurrentSearchesMatchOneThread) {
  const size_t nb = 3000, nq = 40;
  auto xb = clustered(nb, kD, 17);
  Built b = build(nb, MetricType::L2, xb);
  std::vector<std::vector<float>> queries;
  std::vector<std::vector<idx_t>> expected;
  const int saved = get_num_threads();
  set_num_threads(1);
  for (uint32_t t = 0; t < 8; t++) {
    queries.push_back(clustered(nq, kD, 100 + t));
    expected.push_back(search(*b.hnsw, queries.back(), kK, ef(40)));
  }
  set_num_threads(saved);
  std::vector<std::vector<idx_t>> got(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; rep++) got[t] = search(*b.hnsw, queries[t], kK, ef(40));
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < 8; t++) EXPECT_EQ(got[t], expected[t]) << "thread " << t;
}

// A large batch descends first and searches level 0 in the order of the entry
// nodes; each query still gets exactly what it gets alone, filtered or not.
TEST(HNSW, GroupedBatchMatchesOneQueryAtATime) {
  const size_t nb = 3000, nq = 300;
  auto xb = clustered(nb, kD, 21);
  Built b = build(nb, MetricType::L2, xb);
  auto xq = clustered(nq, kD, 22);
  auto even = std::make_shared<IDSelectorRange>(0, idx_t(nb / 2));
  for (const SearchParams& p : {ef(24), ef(24, even)}) {
    const std::vector<idx_t> batch = search(*b.hnsw, xq, kK, p);
    for (size_t q = 0; q < nq; q++) {
      std::vector<float> one(xq.begin() + q * kD, xq.begin() + (q + 1) * kD);
      const std::vector<idx_t> alone = search(*b.hnsw, one, kK, p);
      ASSERT_TRUE(std::equal(alone.begin(), alone.end(), batch.begin() + q * kK)) << "query " << q;
    }
  }
}

TEST(HNSW, StatsDescribeTheGraph) {
  const size_t nb = 2000;
  auto xb = clustered(nb, kD, 18);
  IndexHNSWFlat index(kD, 8);
  EXPECT_EQ(index.hnsw_stats().max_level, -1);
  EXPECT_EQ(index.hnsw_stats().entry_point, -1);
  index.add(nb, xb.data());
  HNSWStats s = index.hnsw_stats();
  ASSERT_EQ(s.nodes_per_level.size(), size_t(s.max_level + 1));
  EXPECT_EQ(s.nodes_per_level[0], idx_t(nb));
  for (size_t l = 1; l < s.nodes_per_level.size(); l++) EXPECT_LE(s.nodes_per_level[l], s.nodes_per_level[l - 1]);
  // About 1/M of the nodes reach level 1.
  EXPECT_NEAR(double(s.nodes_per_level[1]) / nb, 1.0 / 8, 0.04);
  EXPECT_EQ(index.hnsw().level(node_t(s.entry_point)), s.max_level);
  ASSERT_EQ(s.level0_degree_histogram.size(), 17u);
  idx_t nodes = 0;
  for (idx_t c : s.level0_degree_histogram) nodes += c;
  EXPECT_EQ(nodes, idx_t(nb));
  EXPECT_GT(s.mean_level0_degree, 4.0);
  EXPECT_EQ(s.level0_degree_histogram[0], 0);
}

TEST(HNSW, WorksUnderIndexIDMap2AndReconstructs) {
  const size_t nb = 500;
  auto xb = clustered(nb, kD, 19);
  std::vector<idx_t> ids(nb);
  for (size_t i = 0; i < nb; i++) ids[i] = 1000 + 7 * idx_t(i);
  IndexIDMap2 index(std::make_shared<IndexHNSWFlat>(kD, 8));
  index.add_with_ids(nb, xb.data(), ids.data());
  IDSelectorRange first(ids[0], ids[100]);
  EXPECT_EQ(index.remove_ids(first), 100u);
  std::vector<float> r(kD);
  index.reconstruct(ids[300], r.data());
  EXPECT_EQ(r, std::vector<float>(&xb[300 * kD], &xb[301 * kD]));
  std::vector<float> probe(&xb[250 * kD], &xb[270 * kD]);
  auto I = search(index, probe, 1, ef(64));
  size_t self = 0;
  for (size_t i = 0; i < 20; i++) self += I[i] == ids[250 + i];
  EXPECT_GE(self, 19u);
}

TEST(HNSW, BadInputsAreClearErrors) {
  auto xb = clustered(200, kD, 20);
  IndexHNSWFlat index(kD, 8);
  index.add(200, xb.data());
  float D[4];
  idx_t I[4];
  EXPECT_THROW(index.search(1, xb.data(), 0, D, I), Error);
  EXPECT_THROW(index.search(1, xb.data(), -3, D, I), Error);
  try {
    index.search(1, xb.data(), 4, D, I, ef(0));
    FAIL() << "efSearch=0 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("efSearch must be > 0"), std::string::npos);
  }
  EXPECT_THROW(index.search(1, xb.data(), 4, D, I, ef(-5)), Error);
  std::vector<float> nan_query(kD, 0.f);
  nan_query[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(index.search(1, nan_query.data(), 4, D, I), Error);
  EXPECT_THROW(index.add(1, nan_query.data()), Error);
  EXPECT_THROW(index.update(1, I, nan_query.data()), Error);
  idx_t ids[1] = {5};
  EXPECT_THROW(index.add_with_ids(1, xb.data(), ids), Error);
  SearchParams nprobe;
  nprobe.nprobe = 4;
  EXPECT_THROW(index.search(1, xb.data(), 4, D, I, nprobe), Error);
  EXPECT_THROW(index.set_efSearch(0), Error);
  EXPECT_THROW(index.set_efSearch(int64_t{1} << 31), Error);  // files store 32 bits
  index.set_efSearch(int64_t{1} << 20);  // a 64-bit value like nprobe
  EXPECT_EQ(index.efSearch(), int64_t{1} << 20);
  EXPECT_THROW(index.set_efConstruction(-1), Error);
  EXPECT_THROW(IndexHNSWFlat(kD, 1), Error);
  EXPECT_THROW(IndexHNSWFlat(0, 16), Error);
  EXPECT_EQ(index.ntotal(), 200);
  // k larger than the index: padded.
  IndexHNSWFlat small(kD, 8);
  small.add(3, xb.data());
  std::vector<float> D10(10);
  std::vector<idx_t> I10(10);
  small.search(1, xb.data(), 10, D10.data(), I10.data());
  EXPECT_EQ(I10[2] >= 0, true);
  EXPECT_EQ(I10[3], -1);
  EXPECT_EQ(D10[3], std::numeric_limits<float>::infinity());
}

// ------------------------------------------------------------------ quantised storage

/// SQ8, or PQ with two dimensions per sub-quantizer; trained on the base.
std::shared_ptr<IndexHNSWCodes> quantized(bool pq, MetricType metric, const std::vector<float>& xb) {
  std::shared_ptr<IndexHNSWCodes> index;
  if (pq) {
    auto p = std::make_shared<IndexHNSWPQ>(kD, kD / 2, 16, 8, metric);
    p->pq().train_params().niter = 10;  // k-means is most of the test's time
    index = p;
  } else {
    index = std::make_shared<IndexHNSWSQ>(kD, QuantizerType::QT_8bit, 16, metric);
  }
  const idx_t nb = idx_t(xb.size() / kD);
  index->train(nb, xb.data());
  index->set_efConstruction(40);
  index->add(nb, xb.data());
  return index;
}

class HNSWQuantized : public ::testing::TestWithParam<std::tuple<bool, MetricType>> {};

TEST_P(HNSWQuantized, RecallAgainstExactSearchAndDistancesToTheDecodedVectors) {
  const auto [pq, metric] = GetParam();
  const size_t nb = 5000, nq = 100;
  auto xb = clustered(nb, kD, 31), xq = clustered(nq, kD, 32);
  auto index = quantized(pq, metric, xb);
  IndexFlat flat(kD, metric);
  flat.add(nb, xb.data());
  EXPECT_EQ(index->ntotal(), idx_t(nb));
  EXPECT_EQ(index->code_size(), pq ? kD / 2 : kD);
  EXPECT_EQ(index->type_name(), pq ? "IndexHNSWPQ" : "IndexHNSWSQ");
  // The same codes searched exhaustively: the best the graph can do.
  std::unique_ptr<Index> codes_brute;
  if (pq) {
    auto brute = std::make_unique<IndexPQ>(kD, kD / 2, 8, metric);
    brute->pq().set_centroids(dynamic_cast<IndexHNSWPQ&>(*index).pq().centroids());
    codes_brute = std::move(brute);
  } else {
    auto brute = std::make_unique<IndexScalarQuantizer>(kD, QuantizerType::QT_8bit, metric);
    brute->sq().set_trained(dynamic_cast<IndexHNSWSQ&>(*index).sq().trained());
    codes_brute = std::move(brute);
  }
  codes_brute->add(nb, xb.data());
  const std::vector<idx_t> I64 = search(*index, xq, kK, ef(64));
  // Measured: SQ8 0.98-0.99 exact; PQ (16 dims on 8 bytes) 0.80-0.83, as its
  // exhaustive search: the codes, not the graph, lose the rest.
  EXPECT_GE(recall(flat, xq.data(), nq, I64, kK), pq ? 0.75 : 0.95) << (pq ? "PQ " : "SQ8 ") << metric_name(metric);
  EXPECT_GE(recall(*codes_brute, xq.data(), nq, I64, kK), 0.97) << (pq ? "PQ " : "SQ8 ") << metric_name(metric);
  // Distances are those between the query and the decoded vectors, best first.
  std::vector<float> D(nq * kK), rec(kD);
  std::vector<idx_t> I(nq * kK);
  index->search(nq, xq.data(), kK, D.data(), I.data(), ef(64));
  for (size_t q = 0; q < nq; q++) {
    for (size_t j = 0; j < kK; j++) {
      ASSERT_GE(I[q * kK + j], 0);
      index->reconstruct(I[q * kK + j], rec.data());
      const double expect = test::exact_distance(&xq[q * kD], rec.data(), kD, metric);
      EXPECT_NEAR(D[q * kK + j], expect, 1e-3 * std::max(1.0, std::fabs(expect)));
      if (j > 0) EXPECT_TRUE(is_similarity(metric) ? D[q * kK + j] <= D[q * kK + j - 1] : D[q * kK + j] >= D[q * kK + j - 1]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(HNSWCodes, HNSWQuantized,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Values(MetricType::L2, MetricType::INNER_PRODUCT)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "PQ_" : "SQ8_") +
                                  metric_name(std::get<1>(info.param));
                         });

TEST(HNSWQuantizedSQ, RefineFlatRaisesRecall) {
  const size_t nb = 5000, nq = 100;
  auto xb = clustered(nb, kD, 33), xq = clustered(nq, kD, 34);
  auto base = std::make_shared<IndexHNSWSQ>(kD, QuantizerType::QT_4bit, 16);
  base->set_efConstruction(40);
  IndexRefineFlat refine(base);
  refine.train(nb, xb.data());
  refine.add(nb, xb.data());
  IndexFlat flat(kD);
  flat.add(nb, xb.data());
  const double alone = recall(flat, xq.data(), nq, search(*base, xq, kK, ef(64)), kK);
  SearchParams p = ef(64);
  p.k_factor = 4;
  const double refined = recall(flat, xq.data(), nq, search(refine, xq, kK, p), kK);
  EXPECT_GE(refined, alone + 0.05) << alone << " -> " << refined;
  EXPECT_GE(refined, 0.97);
}

TEST(HNSWQuantizedSQ, ReconstructIsTheDecodedCodeWithinHalfAStep) {
  const size_t nb = 2000;
  auto xb = clustered(nb, kD, 35);
  auto sq = std::make_shared<IndexHNSWSQ>(kD, QuantizerType::QT_8bit, 16);
  sq->train(nb, xb.data());
  sq->add(nb, xb.data());  // renumbered for locality: ids still in insertion order
  ASSERT_EQ(sq->sq().trained().size(), 2 * kD);
  std::vector<float> r(kD), roundtrip(kD);
  std::vector<uint8_t> code(sq->sa_code_size());
  for (idx_t i : {idx_t(0), idx_t(777), idx_t(nb - 1)}) {
    sq->reconstruct(i, r.data());
    sq->sa_encode(1, &xb[i * kD], code.data());
    EXPECT_TRUE(std::equal(code.begin(), code.end(), sq->codes() + sq->node_of(i) * sq->code_size()));
    sq->sa_decode(1, code.data(), roundtrip.data());
    EXPECT_EQ(r, roundtrip);
    for (size_t j = 0; j < kD; j++) {
      const float step = sq->sq().trained()[kD + j] / 255.f;
      EXPECT_LE(std::fabs(r[j] - xb[i * kD + j]), 0.51f * step + 1e-6f) << "id " << i << " dim " << j;
    }
  }
  // PQ: the decoded nearest centroids.
  IndexHNSWPQ pq(kD, 4, 16);
  pq.train(nb, xb.data());
  pq.add(nb, xb.data());
  code.resize(pq.pq().code_size());
  pq.pq().encode(1, &xb[5 * kD], code.data());
  pq.pq().decode(1, code.data(), roundtrip.data());
  pq.reconstruct(5, r.data());
  EXPECT_EQ(r, roundtrip);
}

TEST(HNSWQuantizedSQ, RemovalAndUpdateKeepRecall) {
  const size_t nb = 5000, nq = 100;
  auto xb = clustered(nb, kD, 36), xq = clustered(nq, kD, 37);
  auto index = quantized(false, MetricType::L2, xb);
  std::vector<idx_t> gone;
  std::vector<float> kept;
  for (size_t i = 0; i < nb; i++) {
    if ((i * 37) % 10 < 3) {
      gone.push_back(idx_t(i));
    } else {
      kept.insert(kept.end(), &xb[i * kD], &xb[(i + 1) * kD]);
    }
  }
  IDSelectorBatch sel(gone.size(), gone.data());
  EXPECT_EQ(index->remove_ids(sel), gone.size());
  const size_t nk = kept.size() / kD;
  ASSERT_EQ(index->ntotal(), idx_t(nk));
  std::vector<float> r(kD), expect(kD);
  std::vector<uint8_t> code(index->code_size());
  index->reconstruct(0, r.data());  // survivors close up
  index->sa_encode(1, kept.data(), code.data());
  index->sa_decode(1, code.data(), expect.data());
  EXPECT_EQ(r, expect);
  IndexFlat flat(kD);
  flat.add(nk, kept.data());
  EXPECT_GE(recall(flat, xq.data(), nq, search(*index, xq, kK, ef(64)), kK), 0.93);

  // Move a fifth of the survivors; each is then found at its new place.
  std::vector<idx_t> keys;
  for (size_t i = 0; i < nk; i += 5) keys.push_back(idx_t(i));
  auto moved = clustered(keys.size(), kD, 38);
  index->update(keys.size(), keys.data(), moved.data());
  for (size_t i = 0; i < keys.size(); i++) std::copy_n(&moved[i * kD], kD, &kept[keys[i] * kD]);
  IndexFlat flat2(kD);
  flat2.add(nk, kept.data());
  EXPECT_GE(recall(flat2, xq.data(), nq, search(*index, xq, kK, ef(64)), kK), 0.93);
  std::vector<float> probe(&moved[0], &moved[20 * kD]);
  auto I = search(*index, probe, 1, ef(64));
  size_t self = 0;
  for (size_t i = 0; i < 20; i++) self += I[i] == keys[i];
  EXPECT_GE(self, 19u);
}

TEST(HNSWQuantizedSQ, UntrainedIsAClearError) {
  auto xb = clustered(300, kD, 39);
  float D[4];
  idx_t I[4];
  IndexHNSWSQ sq(kD, QuantizerType::QT_8bit, 8);
  IndexHNSWPQ pq(kD, 8, 8);
  for (IndexHNSWCodes* index : {static_cast<IndexHNSWCodes*>(&sq), static_cast<IndexHNSWCodes*>(&pq)}) {
    EXPECT_FALSE(index->is_trained());
    try {
      index->add(10, xb.data());
      FAIL() << "add before train accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is not trained"), std::string::npos) << e.what();
    }
    EXPECT_THROW(index->search(1, xb.data(), 4, D, I), Error);
    std::vector<uint8_t> code(index->sa_code_size());
    EXPECT_THROW(index->sa_encode(1, xb.data(), code.data()), Error);
    index->train(300, xb.data());
    EXPECT_TRUE(index->is_trained());
    index->add(300, xb.data());
    EXPECT_THROW(index->train(300, xb.data()), Error);  // would change the meaning of the stored codes
    index->reset();
    index->train(300, xb.data());
    EXPECT_EQ(index->ntotal(), 0);
  }
  EXPECT_THROW(IndexHNSWPQ(kD, 8, 8).train(100, xb.data()), Error);  // fewer vectors than centroids
  EXPECT_THROW(IndexHNSWPQ(kD, 5), Error);                             // 16 is not a multiple of 5
  EXPECT_THROW(IndexHNSWSQ(0, QuantizerType::QT_8bit), Error);
  // fp16 has nothing to learn.
  IndexHNSWSQ fp16(kD, QuantizerType::QT_fp16, 8);
  EXPECT_TRUE(fp16.is_trained());
  fp16.add(300, xb.data());
  fp16.search(1, xb.data(), 4, D, I);
  EXPECT_EQ(I[0], 0);
}

}  // namespace
TEST(HNSW, RenumberMovesEveryListWithItsNode) {
  // Level 0 is renumbered in place (links, then rows by cycles): the graph
  // must be the same graph under the new numbers, on every level.
  auto xb = clustered(2000, kD, 35);
  IndexHNSWFlat index(kD, 4);
  index.add(2000, xb.data());
  const HNSW& before = index.hnsw();
  HNSW graph(4);
  graph.set_layout(before.layout());
  std::vector<node_t> old_of_new(before.ntotal()), new_of_old(before.ntotal());
  std::iota(old_of_new.begin(), old_of_new.end(), node_t(0));
  std::shuffle(old_of_new.begin(), old_of_new.end(), std::mt19937(5));
  for (size_t j = 0; j < old_of_new.size(); j++) new_of_old[old_of_new[j]] = node_t(j);
  graph.renumber(old_of_new);
  ASSERT_GT(before.max_level(), 0);
  EXPECT_EQ(graph.entry_point(), new_of_old[before.entry_point()]);
  for (node_t j = 0; j < graph.ntotal(); j++) {
    const node_t old = old_of_new[j];
    ASSERT_EQ(graph.level(j), before.level(old));
    for (int l = 0; l <= graph.level(j); l++) {
      std::vector<node_t> expect = before.neighbors(old, l);
      for (node_t& u : expect) u = new_of_old[u];
      EXPECT_EQ(graph.neighbors(j, l), expect) << "node " << j << " level " << l;
    }
  }
}

TEST(HNSW, LayoutRoundTripsAndHostileLayoutsAreErrors) {
  auto xb = clustered(300, kD, 31);
  HNSW graph(4);
  IndexHNSWFlat index(kD, 4);
  index.add(300, xb.data());
  const HNSW::Layout layout = index.hnsw().layout();
  graph.set_layout(layout);
  const HNSW::Layout again = graph.layout();
  EXPECT_EQ(again.levels, layout.levels);
  EXPECT_EQ(again.lists, layout.lists);
  EXPECT_EQ(again.entry_point, layout.entry_point);

  auto expect_refused = [&](HNSW::Layout bad) {
    EXPECT_THROW(graph.set_layout(bad), Error);
    EXPECT_EQ(graph.layout().lists, layout.lists);  // a refused layout changes nothing
  };
  HNSW::Layout bad = layout;
  bad.lists[1] = 300;  // a link out of range
  expect_refused(bad);
  bad = layout;
  bad.lists[0] = 9;  // more links than level 0 holds (2M = 8)
  expect_refused(bad);
  bad = layout;
  bad.lists.pop_back();  // truncated
  expect_refused(bad);
  bad = layout;
  bad.entry_point = 300;
  expect_refused(bad);
  bad = layout;
  // An upper-level link to a node that lives on level 0 only.
  const auto top = std::max_element(bad.levels.begin(), bad.levels.end()) - bad.levels.begin();
  const auto low = std::find(bad.levels.begin(), bad.levels.end(), 0) - bad.levels.begin();
  size_t at = 0;
  for (long i = 0; i < top; i++) {
    for (int l = 0; l <= bad.levels[i]; l++) at += 1 + bad.lists[at];
  }
  at += 1 + bad.lists[at];  // past the top node's level-0 list, at its level-1 list
  ASSERT_GT(bad.lists[at], 0u);
  bad.lists[at + 1] = node_t(low);
  expect_refused(bad);
}

}  // namespace sextant
