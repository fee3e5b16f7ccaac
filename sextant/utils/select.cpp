#include "sextant/utils/select.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace sextant {

namespace {

// k a sizeable share of n and nothing offered yet (the coarse step: nprobe of
// nlist): offering the keys chunk by chunk lets about k ln(n / k) of them
// into the heap, each a sift or a pool entry. Instead, a bound below which
// between k and 2k keys fall is found by bisection, each step a count over
// the keys (a loop the compiler vectorises), and only the keys below it are
// offered: a superset of the k best, so the heap ends the same. Returns
// false, having pushed nothing, where it does not apply.
bool push_below_bisected_bound(const Kernels& kernels, const float* v, const float* bias, float scale, size_t n,
                               const idx_t* ids, idx_t id0, TopKHeap& heap) {
  constexpr size_t kMinK = 16, kMaxN = size_t{1} << 16;
  const size_t k = heap.capacity();
  if (heap.size() != 0 || k < kMinK || n < 4 * k || n > kMaxN) return false;
  // The counts round as this compiler does, the kernel perhaps apart (fused
  // multiply-adds): they only steer the bisection; the kernel's own count at
  // the final bound is what is checked.
  auto count_below = [&](float t) {
    size_t c = 0;
    if (bias) {
      for (size_t j = 0; j < n; j++) c += scale * v[j] + bias[j] < t;
    } else {
      for (size_t j = 0; j < n; j++) c += scale * v[j] < t;
    }
    return c;
  };
  float lo;  // no key is below the smallest
  kernels.min_key(v, bias, scale, n, &lo);
  float hi = lo;  // above the first k keys
  for (size_t j = 0; j < k; j++) hi = std::max(hi, scale * v[j] + (bias ? bias[j] : 0.0f));
  hi = std::nextafter(hi, std::numeric_limits<float>::infinity());
  if (!std::isfinite(lo) || !std::isfinite(hi)) return false;
  for (int step = 0; step < 32; step++) {
    const float mid = lo + (hi - lo) / 2;
    if (!(mid > lo && mid < hi)) break;
    const size_t c = count_below(mid);
    if (c < k) {
      lo = mid;
    } else {
      hi = mid;
      if (c <= 2 * k) break;
    }
  }
  std::vector<uint32_t> idx(n);
  std::vector<float> keys(n);
  const size_t count = kernels.collect_below(v, bias, scale, n, hi, idx.data(), keys.data());
  if (count < k) return false;
  for (size_t c = 0; c < count; c++) heap.push(keys[c], ids ? ids[idx[c]] : id0 + static_cast<idx_t>(idx[c]));
  return true;
}

}  // namespace

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
  if (sel == nullptr && push_below_bisected_bound(kernels, v, bias, scale, n, ids, id0, heap)) return;
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
