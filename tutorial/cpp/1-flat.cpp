// Tutorial 1: exact search with IndexFlatL2, then the same search restricted
// to a subset of ids with a selector.
#include <sextant/IndexFlat.h>

#include <cstdio>
#include <memory>
#include <random>
#include <vector>

int main() {
  const int d = 64;           // dimension
  const size_t nb = 100000;   // database size
  const size_t nq = 5;        // queries
  const sextant::idx_t k = 4;

  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uniform(0, 1);
  std::vector<float> xb(nb * d), xq(nq * d);
  for (float& v : xb) v = uniform(rng);
  for (float& v : xq) v = uniform(rng);

  sextant::IndexFlatL2 index(d);
  index.add(nb, xb.data());
  std::printf("ntotal = %lld\n", static_cast<long long>(index.ntotal()));

  // Search: k nearest neighbours of each query, nearest first.
  std::vector<float> distances(nq * k);
  std::vector<sextant::idx_t> labels(nq * k);
  index.search(nq, xq.data(), k, distances.data(), labels.data());
  for (size_t i = 0; i < nq; i++) {
    std::printf("query %zu:", i);
    for (sextant::idx_t j = 0; j < k; j++) std::printf(" %lld (%.3f)", static_cast<long long>(labels[i * k + j]), distances[i * k + j]);
    std::printf("\n");
  }

  // Filtered search: only even ids below 50000 may be returned.
  std::vector<sextant::idx_t> allowed;
  for (sextant::idx_t id = 0; id < 50000; id += 2) allowed.push_back(id);
  sextant::SearchParams params;
  params.sel = std::make_shared<sextant::IDSelectorBatch>(allowed.size(), allowed.data());
  index.search(nq, xq.data(), k, distances.data(), labels.data(), params);
  for (size_t i = 0; i < nq * k; i++) {
    if (labels[i] % 2 != 0 || labels[i] >= 50000) {
      std::printf("filter violated by id %lld\n", static_cast<long long>(labels[i]));
      return 1;
    }
  }
  std::printf("filtered search returned only even ids below 50000\n");
  return 0;
}
