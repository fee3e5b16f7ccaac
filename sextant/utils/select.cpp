#include "sextant/utils/select.h"

#include <algorithm>

namespace sextant {

void push_candidates(const Kernels& kernels, const float* v, const float* bias, float scale, size_t n,
                     const idx_t* ids, idx_t id0, TopKHeap& heap, const IDSelector* sel) {
  if (heap.capacity() == 1 && ids == nullptr && sel == nullptr) {
    // k = 1 over consecutive ids: the first minimum is the best, smallest id on ties.
    constexpr size_t kSpan = size_t{1} << 20;  // min_key's positions stay exact in float lanes
    for (size_t j0 = 0; j0 < n; j0 += kSpan) {
      float key;
      const size_t j = j0 + kernels.min_key(v + j0, bias ? bias + j0 : nullptr, scale, std::min(kSpan, n - j0), &key);
      if (key < heap.admission_bound()) heap.push(key, id0 + static_cast<idx_t>(j));
    }
    return;
  }
  constexpr size_t kChunk = 256;  // candidates filtered per refresh of the heap's bound
  uint32_t idx[kChunk];
  float keys[kChunk];
  for (size_t j0 = 0, m = 0; j0 < n; j0 += m) {
    // While the heap has room, offer just enough candidates to fill it; then
    // chunks as long as all before them, up to kChunk: a bound drawn from few
    // candidates is loose, and a long chunk under it would flood the heap.
    const size_t room = heap.capacity() - heap.size();
    m = std::min({room > 0 ? std::max<size_t>(room, 8) : std::max<size_t>(j0, 8), kChunk, n - j0});
    const size_t count =
        kernels.collect_below(v + j0, bias ? bias + j0 : nullptr, scale, m, heap.admission_bound(), idx, keys);
    for (size_t c = 0; c < count; c++) {
      const size_t j = j0 + idx[c];
      const idx_t id = ids ? ids[j] : id0 + static_cast<idx_t>(j);
      if (sel == nullptr || sel->is_member(id)) heap.push(keys[c], id);
    }
  }
}

void keys_to_distances(MetricType metric, size_t nq, size_t k, const float* offsets, float* keys) {
  for (size_t q = 0; q < nq; q++) {
    float* row = keys + q * k;
    const float offset = offsets ? offsets[q] : 0.0f;
    for (size_t i = 0; i < k; i++) {
      row[i] = metric == MetricType::L2 ? std::max(row[i] + offset, 0.0f) : -row[i];
    }
  }
}

}  // namespace sextant
