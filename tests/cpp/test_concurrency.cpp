// Searches never modify an index: 8 threads searching one index at once get
// exactly what one thread gets. Adding and removing while others search is
// safe too: the index's lock makes the writer wait for the searches and the
// searches for the writer. (Run under ThreadSanitizer by scripts/sanitize.sh.)
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "reference.h"
#include "sextant/IDSelector.h"
#include "sextant/IndexIDMap.h"
#include "sextant/index_factory.h"

namespace sextant {
namespace {

class Concurrency : public ::testing::TestWithParam<const char*> {};

TEST_P(Concurrency, EightThreadsSearchLikeOne) {
  const size_t nb = 2000, nq = 40, d = 32, k = 5;
  auto xb = test::random_vectors(nb, d, 1), xq = test::random_vectors(nq, d, 2);
  auto index = index_factory(d, GetParam());
  index->train(nb, xb.data());
  if (dynamic_cast<IndexIDMap*>(index.get())) {
    std::vector<idx_t> ids(nb);
    for (size_t i = 0; i < nb; i++) ids[i] = 7 * idx_t(i);
    index->add_with_ids(nb, xb.data(), ids.data());
  } else {
    index->add(nb, xb.data());
  }
  std::vector<float> want_d(nq * k);
  std::vector<idx_t> want_l(nq * k);
  index->search(nq, xq.data(), k, want_d.data(), want_l.data());
  std::vector<std::vector<idx_t>> got(8, std::vector<idx_t>(nq * k));
  std::vector<std::vector<float>> got_d(8, std::vector<float>(nq * k));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; rep++) {
        // Half the threads search query by query, half in one batch: both paths run at once.
        if (t % 2 == 0) {
          index->search(nq, xq.data(), k, got_d[t].data(), got[t].data());
        } else {
          for (size_t q = 0; q < nq; q++) index->search(1, &xq[q * d], k, &got_d[t][q * k], &got[t][q * k]);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < 8; t++) {
    EXPECT_EQ(got[t], want_l) << "thread " << t;
    if (t % 2 == 0) {
      EXPECT_EQ(got_d[t], want_d) << "thread " << t;  // the batch path, as the reference ran it
    } else {
      for (size_t i = 0; i < nq * k; i++)  // one query at a time may sum in another order
        EXPECT_NEAR(got_d[t][i], want_d[i], 1e-5f * std::max(1.0f, std::abs(want_d[i]))) << "thread " << t;
    }
  }
}

class ConcurrentWrites : public ::testing::TestWithParam<const char*> {};

TEST_P(ConcurrentWrites, AddAndRemoveWhileOthersSearch) {
  const size_t nb = 1500, batch = 100, d = 16, k = 5, nq = 8;
  auto xb = test::random_vectors(nb, d, 3), xq = test::random_vectors(nq, d, 4);
  auto index = index_factory(d, GetParam());
  index->train(nb, xb.data());
  const bool ids = dynamic_cast<IndexIDMap*>(index.get()) != nullptr;
  idx_t next = 0;
  auto add = [&](size_t i0) {
    if (ids) {
      std::vector<idx_t> labels(batch);
      for (size_t i = 0; i < batch; i++) labels[i] = next++;
      index->add_with_ids(batch, &xb[i0 * d], labels.data());
    } else {
      index->add(batch, &xb[i0 * d]);
    }
  };
  add(0);
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; t++) {
    readers.emplace_back([&, t] {
      std::vector<float> dist(nq * k);
      std::vector<idx_t> labels(nq * k);
      while (!done) {
        const size_t n = t % 2 ? 1 : nq;
        index->search(n, xq.data(), k, dist.data(), labels.data());
        for (size_t i = 0; i < n * k; i++) ASSERT_GE(labels[i], -1);
        searches++;
      }
    });
  }
  for (size_t i0 = batch; i0 + batch <= nb; i0 += batch) {
    add(i0);
    index->remove_ids(IDSelectorRange(idx_t(i0 / 4), idx_t(i0 / 4 + 10)));
  }
  while (searches < 20) std::this_thread::yield();
  done = true;
  for (auto& th : readers) th.join();
  EXPECT_GT(index->ntotal(), 0);
}

INSTANTIATE_TEST_SUITE_P(EveryIndex, ConcurrentWrites,
                         ::testing::Values("Flat", "SQ8", "IVF16,Flat", "IDMap2,Flat", "HNSW16", "HNSW8,SQ8"),
                         test::factory_name);

INSTANTIATE_TEST_SUITE_P(EveryIndex, Concurrency,
                         ::testing::Values("Flat", "SQ8", "PQ8", "PQ8x4fs", "IVF16,Flat", "IVF16,SQ8", "IVF16,PQ8",
                                           "IVF16,PQ8x4fs", "PCA16,IVF8,Flat", "IDMap2,Flat", "IVF16,PQ8,RFlat", "HNSW16",
                                           "RaBitQ", "IVF16,RaBitQ", "IVF16,RaBitQfs", "RaBitQfs", "RaBitQ,RFlat", "IVF16,RaBitQ4", "IVF16,RaBitQfs4",
                                           "IVF16_HNSW8,Flat", "Shards3,IVF16,Flat", "Shards2,HNSW16",
                                           "Replicas2,Flat", "IVF16,PQ8x4fs_aniso0.3"),
                         test::factory_name);

}  // namespace
}  // namespace sextant
