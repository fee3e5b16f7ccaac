#include "sextant/impl/InvertedListScanner.h"

#include <algorithm>

#include "sextant/utils/kernels.h"
#include "sextant/utils/select.h"

namespace sextant {

namespace {
constexpr size_t kChunk = 256;  // codes scored per call
}

void InvertedListScanner::scan(const uint8_t* codes, const idx_t* ids, size_t n, size_t code_size, TopKHeap& heap,
                               const IDSelector* sel) const {
  const Kernels& kern = kernels();
  const float scale = metric_ == MetricType::L2 ? 1.0f : -1.0f;
  float scores[kChunk];
  for (size_t j0 = 0; j0 < n; j0 += kChunk) {
    const size_t m = std::min(kChunk, n - j0);
    score(codes + j0 * code_size, m, scores);
    push_candidates(kern, scores, nullptr, scale, m, ids + j0, 0, heap, sel);
  }
}

void InvertedListScanner::scan_range(const uint8_t* codes, const idx_t* ids, size_t n, size_t code_size,
                                     float radius, const IDSelector* sel,
                                     std::vector<std::pair<float, idx_t>>& hits) const {
  const Kernels& kern = kernels();
  const bool l2 = metric_ == MetricType::L2;
  float scores[kChunk], keys[kChunk];
  uint32_t idx[kChunk];
  for (size_t j0 = 0; j0 < n; j0 += kChunk) {
    const size_t m = std::min(kChunk, n - j0);
    score(codes + j0 * code_size, m, scores);
    const size_t count = kern.collect_below(scores, nullptr, l2 ? 1.0f : -1.0f, m, l2 ? radius : -radius, idx, keys);
    for (size_t c = 0; c < count; c++) {
      const idx_t id = ids[j0 + idx[c]];
      if (sel == nullptr || sel->is_member(id)) hits.emplace_back(scores[idx[c]], id);
    }
  }
}

}  // namespace sextant
