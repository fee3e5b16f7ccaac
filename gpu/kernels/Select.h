// Host entry points of k-selection over rows of a device matrix (standalone
// select_k, and the merge and decode steps the indexes share).
#pragma once

#include <cstdint>

namespace sextant::gpu {

class GpuResources;

/// The k smallest (largest: the k largest) values of each row of a rows x cols
/// float matrix in device memory (row r at values + r * ld), best first, with
/// their column indices. Ties go to the smaller column; NaN ranks after every
/// number either way. k up to kMaxSelectK (16384): register queues up to 2048,
/// the multi-pass radix selection above. Outputs are rows x k, in device memory;
/// when k > cols the rows are padded with index -1 and +inf (largest: -inf).
void select_k(GpuResources& res, const float* values, int64_t rows, int64_t cols, int64_t ld, int64_t k,
              bool largest, float* out_values, int64_t* out_indices);

/// The best 32 * slots entries of each row of a rows x n array of entries (any
/// order, padding allowed), sorted, into out (rows x 32 * slots).
void select_entries(GpuResources& res, const uint64_t* entries, int64_t rows, int64_t n, int slots, uint64_t* out);

/// How sorted entries become distances and labels.
struct EntryDecoding {
  bool negate = false;                 ///< keys are negated similarities (inner product)
  const float* row_offsets = nullptr;  ///< added to each row's keys, clamped at 0 (L2 norms trick)
  const int64_t* id_map = nullptr;     ///< label = id_map[entry id] (IVF storage position -> user id)
  float pad_distance = 0;              ///< distance of missing results (label -1)
};

/// Writes the first k entries of each row (rows of `stride` sorted entries)
/// as distances and labels (rows x k, device memory).
void decode_entries(GpuResources& res, const uint64_t* entries, int64_t rows, int64_t stride, int64_t k,
                    const EntryDecoding& how, float* distances, int64_t* labels);

/// Multi-pass selection (k > 2048 or any k): as select_k, through radix passes.
void select_k_radix(GpuResources& res, const float* values, int64_t rows, int64_t cols, int64_t ld, int64_t k,
                    bool largest, float* out_values, int64_t* out_indices);

}  // namespace sextant::gpu
