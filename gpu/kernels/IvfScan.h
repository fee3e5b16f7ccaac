// List-scanning kernels of the GPU IVF indexes, with the k-selection fused:
// one block per (query, slice of its probes), one queue per warp, the
// block's queues merged into its top 32 * slots entries (ids = storage positions).
#pragma once

#include <cstdint>

#include "gpu/select/PqTables.h"

namespace sextant::gpu {

class GpuResources;

/// What every IVF scan reads.
struct IvfScanInput {
  int64_t nq;
  const float* x;          ///< nq x d queries
  int d;
  int64_t nprobe;
  const float* coarse;     ///< nq x nprobe
  const int64_t* probes;   ///< nq x nprobe (-1: none)
  const int64_t* offsets;  ///< per list: first storage position
  const int64_t* sizes;    ///< per list: entries
  const uint8_t* codes;    ///< column 0 of the lists
  bool inner_product;      ///< keys are negated similarities
  int64_t slices;
  int slots;
  uint64_t* out;           ///< (nq * slices) x 32 * slots
  const int64_t* limits;   ///< nq x nprobe: entries to scan of each probe (max_codes); null: whole lists
};

/// limits (nq x nprobe) for max_codes > 0: select/ProbeLimits.h per query.
void ivf_probe_limits(GpuResources& res, const int64_t* probes, const int64_t* sizes, int64_t nq, int64_t nprobe,
                      int64_t max_codes, int64_t* limits);

/// IVF-Flat: codes are the d floats of each vector.
void ivf_flat_scan(GpuResources& res, const IvfScanInput& in);

/// The IVF-Flat scan's own shared memory plus the query (d floats) fits the
/// device for every k: throws naming d otherwise.
void check_ivf_flat_scan_fits(const GpuResources& res, int d);

/// What the IVF-PQ scan reads besides IvfScanInput (table layouts: select/PqTables.h).
struct PqScanInput {
  int M, ksub, nbits, dsub, code_size;
  PqTableMode mode;
  bool fp16;                      ///< fp16 tables of squared distances, scaled (select/PqTables.h)
  bool add_coarse;                ///< the coarse distance (similarity) is part of the result
  float max_centroid_norm;        ///< largest |C_mc| (bounds fp16 table entries)
  const float* query_tables;      ///< nq x M x ksub: <x_m, C_mc>, or |x_m - C_mc|^2 (per_query L2)
  const float* precomputed;       ///< nlist x M x ksub (precomputed)
  const float* pq_centroids;      ///< M x ksub x dsub (per_list)
  const float* coarse_centroids;  ///< nlist x d (per_list)
};

/// The largest shared memory the IVF-PQ scan kernels declare themselves
/// (over the queue sizes): what every layout must leave room for.
int64_t ivfpq_scan_static_bytes();

void ivfpq_scan(GpuResources& res, const IvfScanInput& in, const PqScanInput& pq);

}  // namespace sextant::gpu
