#include <gtest/gtest.h>
#include <omp.h>

#include <memory>
#include <vector>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFScalarQuantizer.h"
#include "sextant/IndexScalarQuantizer.h"
#include "sextant/base/Error.h"

namespace sextant {
namespace {

struct Data {
  size_t nb = 4000, nq = 120, d = 16;
  std::vector<float> xb = test::random_vectors(nb, d, 1), xq = test::random_vectors(nq, d, 2);
};

std::unique_ptr<IndexIVF> make(const std::string& kind, size_t d, size_t nlist, MetricType metric) {
  auto q = std::make_shared<IndexFlat>(d, metric);
  if (kind == "flat") return std::make_unique<IndexIVFFlat>(q, d, nlist, metric);
  if (kind == "sq8") return std::make_unique<IndexIVFScalarQuantizer>(q, d, nlist, QuantizerType::QT_8bit, metric);
  return std::make_unique<IndexIVFScalarQuantizer>(q, d, nlist, QuantizerType::QT_fp16, metric, false);
}

// Probing every list is exact search, on both search paths (query by query
// for small batches, list by list for large ones).
TEST(IndexIVF, ProbingEveryListIsExact) {
  Data data;
  const size_t k = 10;
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    IndexFlat flat(data.d, metric);
    flat.add(data.nb, data.xb.data());
    std::vector<float> fd(data.nq * k);
    std::vector<idx_t> fl(data.nq * k);
    flat.search(data.nq, data.xq.data(), k, fd.data(), fl.data());
    for (const char* kind : {"flat", "sq8", "fp16"}) {
      auto index = make(kind, data.d, 32, metric);
      index->train(data.nb, data.xb.data());
      index->add(data.nb, data.xb.data());
      SearchParams params;
      params.nprobe = 32;
      for (size_t nq : {size_t(5), data.nq}) {  // 5: query by query; 120: list by list
        std::vector<float> dist(nq * k);
        std::vector<idx_t> labels(nq * k);
        index->search(nq, data.xq.data(), k, dist.data(), labels.data(), params);
        std::vector<idx_t> truth(fl.begin(), fl.begin() + nq * k);
        const double r = test::recall_at_k(truth, labels, nq, k);
        if (std::string(kind) == "flat") {
          EXPECT_EQ(r, 1.0) << kind << " nq=" << nq << " " << metric_name(metric);
          for (size_t i = 0; i < nq * k; i++) EXPECT_NEAR(dist[i], fd[i], 1e-4 * std::max(1.0f, std::fabs(fd[i])));
        } else {
          EXPECT_GE(r, 0.95) << kind << " nq=" << nq << " " << metric_name(metric);
        }
      }
    }
  }
}

TEST(IndexIVF, BothSearchPathsAgreeAndRecallGrowsWithNprobe) {
  Data data;
  const size_t k = 5;
  auto index = make("flat", data.d, 64, MetricType::L2);
  index->train(data.nb, data.xb.data());
  index->add(data.nb, data.xb.data());
  double last = 0;
  for (int64_t nprobe : {1, 4, 16, 64}) {
    SearchParams params;
    params.nprobe = nprobe;
    std::vector<float> batch_d(data.nq * k), one_d(k);
    std::vector<idx_t> batch_l(data.nq * k), one_l(k);
    index->search(data.nq, data.xq.data(), k, batch_d.data(), batch_l.data(), params);
    for (size_t q = 0; q < data.nq; q++) {
      index->search(1, &data.xq[q * data.d], k, one_d.data(), one_l.data(), params);
      for (size_t i = 0; i < k; i++) EXPECT_EQ(one_l[i], batch_l[q * k + i]) << "nprobe " << nprobe;
    }
    IndexFlat flat(data.d);
    flat.add(data.nb, data.xb.data());
    std::vector<float> fd(data.nq * k);
    std::vector<idx_t> fl(data.nq * k);
    flat.search(data.nq, data.xq.data(), k, fd.data(), fl.data());
    const double r = test::recall_at_k(fl, batch_l, data.nq, k);
    EXPECT_GE(r, last);
    last = r;
  }
  EXPECT_EQ(last, 1.0);
}

// A grouped search returns the same rows as search(), permuted so that
// queries with the same nearest list are adjacent (distances up to rounding:
// list-by-list GEMMs tile the permuted batch differently); a flat index keeps
// the order.
TEST(IndexIVF, GroupedSearchPermutesRowsByNearestList) {
  Data data;
  const size_t k = 4, nprobe = 3;
  auto index = make("sq8", data.d, 16, MetricType::L2);
  index->train(data.nb, data.xb.data());
  index->add(data.nb, data.xb.data());
  SearchParams params;
  params.nprobe = nprobe;
  std::vector<float> dist(data.nq * k), grouped_d(dist.size());
  std::vector<idx_t> ids(dist.size()), grouped_l(dist.size()), order(data.nq), nearest(data.nq);
  index->search(data.nq, data.xq.data(), k, dist.data(), ids.data(), params);
  index->search_grouped(data.nq, data.xq.data(), k, grouped_d.data(), grouped_l.data(), order.data(), params);
  index->assign_lists(data.nq, data.xq.data(), nearest.data());
  std::vector<int> seen(data.nq, 0);
  for (size_t row = 0; row < data.nq; row++) {
    const idx_t q = order[row];
    ASSERT_TRUE(q >= 0 && q < idx_t(data.nq) && !seen[q]++) << "order is not a permutation";
    if (row > 0) EXPECT_LE(nearest[order[row - 1]], nearest[q]);
    for (size_t i = 0; i < k; i++) {
      EXPECT_EQ(grouped_l[row * k + i], ids[q * k + i]);
      EXPECT_NEAR(grouped_d[row * k + i], dist[q * k + i], 1e-5f * dist[q * k + i]);
    }
  }
  IndexFlat flat(data.d);
  flat.add(data.nb, data.xb.data());
  flat.search_grouped(data.nq, data.xq.data(), k, grouped_d.data(), grouped_l.data(), order.data());
  for (size_t q = 0; q < data.nq; q++) EXPECT_EQ(order[q], idx_t(q));
  EXPECT_THROW(index->search_grouped(data.nq, data.xq.data(), k, grouped_d.data(), grouped_l.data(), nullptr, params),
               Error);
}

// Training numbers the lists along a chain of nearest centroids, so that a
// grouped batch steps between neighbouring regions (k-means order is random).
TEST(IndexIVF, TrainingNumbersNearListsConsecutively) {
  Data data;
  const size_t nlist = 64;
  auto index = make("flat", data.d, nlist, MetricType::L2);
  index->train(data.nb, data.xb.data());
  std::vector<float> c(nlist * data.d);
  index->quantizer()->reconstruct_n(0, nlist, c.data());
  auto dist = [&](size_t a, size_t b) {
    return test::exact_distance(c.data() + a * data.d, c.data() + b * data.d, data.d, MetricType::L2);
  };
  double consecutive = 0, all = 0;
  for (size_t a = 0; a + 1 < nlist; a++) consecutive += dist(a, a + 1) / (nlist - 1);
  for (size_t a = 0; a < nlist; a++) {
    for (size_t b = 0; b < nlist; b++) all += dist(a, b) / double(nlist * (nlist - 1));
  }
  EXPECT_LT(consecutive, 0.8 * all);  // 0.63 here; about 1 in k-means order
}

TEST(IndexIVF, IdsSelectorsRemovalReconstruction) {
  Data data;
  auto index = make("sq8", data.d, 16, MetricType::L2);
  index->train(data.nb, data.xb.data());
  std::vector<idx_t> ids(data.nb);
  for (size_t i = 0; i < data.nb; i++) ids[i] = 1000000 + 7 * idx_t(i);
  index->add_with_ids(data.nb, data.xb.data(), ids.data());
  index->make_direct_map(DirectMapType::hashtable);
  std::vector<float> r(data.d);
  index->reconstruct(ids[5], r.data());
  for (size_t j = 0; j < data.d; j++) EXPECT_NEAR(r[j], data.xb[5 * data.d + j], 0.02);
  EXPECT_THROW(index->make_direct_map(DirectMapType::array), Error);  // ids are not 0..n-1

  SearchParams params;
  params.nprobe = 16;
  params.sel = std::make_shared<IDSelectorRange>(ids[100], ids[200]);
  std::vector<float> dist(10 * 5);
  std::vector<idx_t> labels(10 * 5);
  index->search(10, data.xq.data(), 5, dist.data(), labels.data(), params);
  for (idx_t l : labels) EXPECT_TRUE(l >= ids[100] && l < ids[200]);

  EXPECT_EQ(index->remove_ids(IDSelectorRange(ids[0], ids[1000])), 1000u);
  EXPECT_EQ(index->ntotal(), idx_t(data.nb - 1000));
  EXPECT_THROW(index->reconstruct(ids[5], r.data()), Error);
  index->reconstruct(ids[1500], r.data());  // moved entries are still found
  for (size_t j = 0; j < data.d; j++) EXPECT_NEAR(r[j], data.xb[1500 * data.d + j], 0.02);
  params.sel.reset();
  index->search(1, &data.xb[5 * data.d], 1, dist.data(), labels.data(), params);
  EXPECT_NE(labels[0], ids[5]);
  index->search(1, &data.xb[1500 * data.d], 1, dist.data(), labels.data(), params);
  EXPECT_EQ(labels[0], ids[1500]);
}

TEST(IndexIVF, ArrayDirectMapAndStandaloneCodes) {
  Data data;
  auto index = make("flat", data.d, 8, MetricType::INNER_PRODUCT);
  index->train(data.nb, data.xb.data());
  index->make_direct_map();
  index->add(data.nb, data.xb.data());
  std::vector<float> r(data.d);
  index->reconstruct(123, r.data());
  EXPECT_EQ(r, std::vector<float>(data.xb.begin() + 123 * data.d, data.xb.begin() + 124 * data.d));
  std::vector<uint8_t> codes(3 * index->sa_code_size());
  EXPECT_EQ(index->sa_code_size(), 1 + data.d * sizeof(float));  // one byte names one of 8 lists
  index->sa_encode(3, data.xb.data(), codes.data());
  std::vector<float> back(3 * data.d);
  index->sa_decode(3, codes.data(), back.data());
  EXPECT_EQ(back, std::vector<float>(data.xb.begin(), data.xb.begin() + 3 * data.d));
}

TEST(IndexIVF, MergeRangeMaxCodesAndErrors) {
  Data data;
  auto a = make("flat", data.d, 16, MetricType::L2);
  a->train(data.nb, data.xb.data());
  auto b = std::make_unique<IndexIVFFlat>(a->quantizer(), data.d, 16);
  a->add(2000, data.xb.data());
  b->add(2000, data.xb.data() + 2000 * data.d);
  a->merge_from(*b, 2000);
  EXPECT_EQ(a->ntotal(), idx_t(data.nb));
  EXPECT_EQ(b->ntotal(), 0);
  float dist;
  idx_t label;
  SearchParams params;
  params.nprobe = 16;
  a->search(1, &data.xb[3000 * data.d], 1, &dist, &label, params);
  EXPECT_EQ(label, 3000);

  IndexFlat flat(data.d);
  flat.add(data.nb, data.xb.data());
  RangeSearchResult exact = flat.range_search(4, data.xq.data(), 1.2f);
  RangeSearchResult got = a->range_search(4, data.xq.data(), 1.2f, params);
  EXPECT_EQ(exact.lims, got.lims);
  EXPECT_EQ(std::multiset<idx_t>(exact.labels.begin(), exact.labels.end()),
            std::multiset<idx_t>(got.labels.begin(), got.labels.end()));

  // max_codes = 1: only the first code of the nearest list is looked at.
  params.max_codes = 1;
  std::vector<float> dk(3);
  std::vector<idx_t> lk(3);
  a->search(1, data.xq.data(), 3, dk.data(), lk.data(), params);
  EXPECT_GE(lk[0], 0);
  EXPECT_EQ(lk[1], -1);

  auto untrained = make("sq8", data.d, 16, MetricType::L2);
  EXPECT_FALSE(untrained->is_trained());
  EXPECT_THROW(untrained->add(1, data.xb.data()), Error);
  EXPECT_THROW(untrained->search(1, data.xq.data(), 1, &dist, &label), Error);
  EXPECT_THROW(untrained->train(8, data.xb.data()), Error);  // fewer points than lists
  params = SearchParams();
  params.nprobe = 0;
  EXPECT_THROW(a->search(1, data.xq.data(), 1, &dist, &label, params), Error);
  params = SearchParams();
  params.efSearch = 3;
  EXPECT_THROW(a->search(1, data.xq.data(), 1, &dist, &label, params), Error);
  EXPECT_THROW(IndexIVFFlat(std::make_shared<IndexFlat>(data.d + 1), data.d, 4), Error);
  EXPECT_THROW(IndexIVFFlat(std::make_shared<IndexFlat>(data.d, MetricType::INNER_PRODUCT), data.d, 4), Error);
}

TEST(IndexScalarQuantizer, SearchMatchesDecodedExactSearch) {
  Data data;
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    IndexScalarQuantizer index(data.d, QuantizerType::QT_8bit, metric);
    EXPECT_FALSE(index.is_trained());
    index.train(data.nb, data.xb.data());
    index.add(data.nb, data.xb.data());
    std::vector<float> decoded(data.nb * data.d);
    index.reconstruct_n(0, data.nb, decoded.data());
    for (size_t nq : {size_t(1), data.nq}) {
      std::vector<float> dist(nq * 10);
      std::vector<idx_t> labels(nq * 10);
      index.search(nq, data.xq.data(), 10, dist.data(), labels.data());
      for (size_t q = 0; q < nq; q++) {
        auto exact = test::ranked(&data.xq[q * data.d], decoded.data(), data.nb, data.d, metric);
        test::expect_row_matches(exact, &dist[q * 10], &labels[q * 10], 10, &data.xq[q * data.d], decoded.data(),
                                 data.d, metric, 1e-4);
      }
    }
  }
}

}  // namespace
}  // namespace sextant
