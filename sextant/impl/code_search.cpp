#include "sextant/impl/code_search.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "sextant/base/threads.h"
#include "sextant/utils/TopK.h"
#include "sextant/utils/select.h"

namespace sextant {

namespace {
constexpr size_t kChunk = 256;           // codes scored per scorer call
constexpr size_t kMinSliceCodes = 8192;  // smallest share of the codes worth a thread

float key_scale(MetricType metric) { return metric == MetricType::L2 ? 1.0f : -1.0f; }
}  // namespace

void CodeScorer::scan(size_t j0, size_t j1, TopKHeap& heap, const IDSelector* sel) {
  const Kernels& kern = kernels();
  float scores[kChunk];
  for (size_t j = j0; j < j1; j += kChunk) {
    const size_t m = std::min(kChunk, j1 - j);
    score(j, m, scores);
    push_candidates(kern, scores, nullptr, key_scale(metric_), m, nullptr, idx_t(j), heap, sel);
  }
}

void search_codes(size_t n, const float* x, size_t d, size_t nb, size_t k, MetricType metric,
                  const IDSelector* sel, const CodeScorerFactory& make_scorer, float* distances, idx_t* labels) {
  const size_t nthreads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const size_t slices = n >= nthreads ? 1 : std::max<size_t>(1, std::min(nthreads, nb / kMinSliceCodes));
  std::vector<float> slice_keys(slices > 1 ? slices * n * k : 0);
  std::vector<idx_t> slice_ids(slice_keys.size());
  const size_t items = n * slices;
  ParallelErrors errors;
#pragma omp parallel if (items > 1 && nthreads > 1)
  {
    std::unique_ptr<CodeScorer> scorer;
    errors.run([&] { scorer = make_scorer(); });
#pragma omp for schedule(dynamic)
    for (long item = 0; item < static_cast<long>(items); item++) errors.run([&] {
      const size_t q = item / slices, s = item % slices;
      const size_t j_begin = nb * s / slices, j_end = nb * (s + 1) / slices;
      const size_t at = (s * n + q) * k;
      TopKHeap heap = slices == 1 ? TopKHeap(distances + q * k, labels + q * k, k)
                                  : TopKHeap(slice_keys.data() + at, slice_ids.data() + at, k);
      scorer->set_query(x + q * d);
      scorer->scan(j_begin, j_end, heap, sel);
      heap.finish();
    });
  }
  errors.rethrow();
  if (slices > 1) merge_slices(n, k, slices, slice_keys.data(), slice_ids.data(), distances, labels);
  keys_to_distances(metric, n, k, nullptr, distances);
}

RangeSearchResult range_search_codes(size_t n, const float* x, size_t d, size_t nb, float radius, MetricType metric,
                                     const IDSelector* sel, const CodeScorerFactory& make_scorer) {
  const Kernels& kern = kernels();
  const bool l2 = metric == MetricType::L2;
  std::vector<std::vector<std::pair<float, idx_t>>> hits(n);
  ParallelErrors errors;
#pragma omp parallel if (n > 1)
  {
    std::unique_ptr<CodeScorer> scorer;
    std::vector<float> scores, keys;
    std::vector<uint32_t> idx;
    errors.run([&] {
      scorer = make_scorer();
      scores.resize(kChunk);
      keys.resize(kChunk);
      idx.resize(kChunk);
    });
#pragma omp for schedule(dynamic)
    for (long q = 0; q < static_cast<long>(n); q++) errors.run([&] {
      scorer->set_query(x + q * d);
      for (size_t j0 = 0; j0 < nb; j0 += kChunk) {
        const size_t m = std::min(kChunk, nb - j0);
        scorer->score(j0, m, scores.data());
        const size_t count =
            kern.collect_below(scores.data(), nullptr, key_scale(metric), m, l2 ? radius : -radius, idx.data(),
                               keys.data());
        for (size_t c = 0; c < count; c++) {
          const idx_t id = idx_t(j0 + idx[c]);
          if (sel == nullptr || sel->is_member(id)) hits[q].emplace_back(scores[idx[c]], id);
        }
      }
      std::sort(hits[q].begin(), hits[q].end(), [l2](const auto& a, const auto& b) {
        return (l2 ? a.first < b.first : a.first > b.first) || (a.first == b.first && a.second < b.second);
      });
    });
  }
  errors.rethrow();
  return RangeSearchResult::from_hits(hits);
}

}  // namespace sextant
