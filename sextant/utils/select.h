#pragma once

#include <cstddef>

#include "sextant/IDSelector.h"
#include "sextant/utils/TopK.h"
#include "sextant/utils/kernels.h"

namespace sextant {

/// Offers n scored candidates to a heap. Candidate j has key
/// scale * v[j] + (bias ? bias[j] : 0) and id (ids ? ids[j] : id0 + j). Keys
/// are first compared with the heap's bound in SIMD, a chunk at a time, so
/// most candidates are rejected in a fraction of a cycle; the selector is
/// asked only about the survivors.
void push_candidates(const Kernels& kernels, const float* v, const float* bias, float scale, size_t n,
                     const idx_t* ids, idx_t id0, TopKHeap& heap, const IDSelector* sel);

/// Turns the keys of finished heaps (nq rows of k) into distances: L2 keys
/// plus the row's offset (clamped at 0), inner-product keys negated.
void keys_to_distances(MetricType metric, size_t nq, size_t k, const float* offsets, float* keys);

}  // namespace sextant
