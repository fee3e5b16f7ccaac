#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIDMap.h"
#include "sextant/base/Error.h"

namespace sextant {
namespace {

TEST(IndexIDMap, SearchReturnsCallerIdsAndFiltersById) {
  const size_t nb = 200, d = 8;
  auto xb = test::random_vectors(nb, d, 1);
  std::vector<idx_t> ids(nb);
  for (size_t i = 0; i < nb; i++) ids[i] = 1000 + 3 * idx_t(i);
  IndexIDMap index(std::make_shared<IndexFlat>(d, MetricType::L2));
  index.add_with_ids(nb, xb.data(), ids.data());
  EXPECT_EQ(index.ntotal(), idx_t(nb));
  EXPECT_THROW(index.add(1, xb.data()), Error);

  float dist[3];
  idx_t labels[3];
  index.search(1, &xb[17 * d], 3, dist, labels);
  EXPECT_EQ(labels[0], ids[17]);

  // Only ids >= 1300 (positions >= 100).
  SearchParams params;
  params.sel = std::make_shared<IDSelectorRange>(1300, 1000000);
  index.search(1, &xb[17 * d], 3, dist, labels, params);
  for (idx_t l : labels) EXPECT_GE(l, 1300);

  RangeSearchResult res = index.range_search(1, &xb[17 * d], 1e-6f);
  ASSERT_EQ(res.labels.size(), 1u);
  EXPECT_EQ(res.labels[0], ids[17]);

  // Remove by id; remaining ids stay attached to their vectors.
  std::vector<idx_t> gone = {ids[0], ids[17], 424242};
  EXPECT_EQ(index.remove_ids(IDSelectorBatch(gone.size(), gone.data())), 2u);
  EXPECT_EQ(index.ntotal(), idx_t(nb - 2));
  index.search(1, &xb[18 * d], 1, dist, labels);
  EXPECT_EQ(labels[0], ids[18]);
  index.search(1, &xb[17 * d], 1, dist, labels);
  EXPECT_NE(labels[0], ids[17]);
  EXPECT_THROW(index.reconstruct(ids[18], dist), Error);  // IndexIDMap2's job
}

TEST(IndexIDMap2, ReconstructsByIdAndRejectsDuplicates) {
  const size_t nb = 50, d = 4;
  auto xb = test::random_vectors(nb, d, 2);
  std::vector<idx_t> ids(nb);
  for (size_t i = 0; i < nb; i++) ids[i] = 77 * idx_t(i) + 500;
  IndexIDMap2 index(std::make_shared<IndexFlat>(d, MetricType::INNER_PRODUCT));
  index.add_with_ids(nb, xb.data(), ids.data());
  std::vector<float> r(d);
  index.reconstruct(ids[9], r.data());
  EXPECT_EQ(r, std::vector<float>(xb.begin() + 9 * d, xb.begin() + 10 * d));
  EXPECT_THROW(index.reconstruct(12345, r.data()), Error);
  EXPECT_THROW(index.add_with_ids(1, xb.data(), &ids[3]), Error);
  idx_t twice[2] = {9999, 9999};
  EXPECT_THROW(index.add_with_ids(2, xb.data(), twice), Error);
  idx_t negative[2] = {9999, -1};  // -1 is the label of a missing result
  EXPECT_THROW(index.add_with_ids(2, xb.data(), negative), Error);
  EXPECT_EQ(index.ntotal(), idx_t(nb));

  IDSelectorRange first_half(ids[0], ids[25]);
  EXPECT_EQ(index.remove_ids(first_half), 25u);
  index.reconstruct(ids[30], r.data());
  EXPECT_EQ(r, std::vector<float>(xb.begin() + 30 * d, xb.begin() + 31 * d));
  EXPECT_THROW(index.reconstruct(ids[3], r.data()), Error);
}

TEST(IndexIDMap, NeedsAnEmptyIndex) {
  auto flat = std::make_shared<IndexFlat>(3);
  float x[3] = {1, 2, 3};
  flat->add(1, x);
  EXPECT_THROW(IndexIDMap{flat}, Error);
  EXPECT_THROW(IndexIDMap{nullptr}, Error);
}

}  // namespace
}  // namespace sextant
