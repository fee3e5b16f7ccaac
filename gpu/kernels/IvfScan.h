// List-scanning kernels of the GPU IVF indexes, with the k-selection fused:
// one block per (query, slice of its probes), one queue per warp, the
// block's queues merged into its top 32 * slots entries (ids = storage positions).
#pragma once

#include <cstdint>

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
};

/// IVF-Flat: codes are the d floats of each vector.
void ivf_flat_scan(GpuResources& res, const IvfScanInput& in);

/// How the IVF-PQ look-up table of a (query, list) pair is made.
enum class PqTableMode : int {
  precomputed = 0,  ///< L2 with residuals: pre[list] - 2 * query_tables[query]; plus the coarse distance
  per_query = 1,    ///< no residuals, or inner product: query_tables[query]; plus the coarse term if residual (IP)
  per_list = 2,     ///< L2 with residuals, no precomputed table: from x - centroid, per pair
};

struct PqScanInput {
  int M, ksub, nbits, dsub, code_size;
  PqTableMode mode;
  bool add_coarse;                ///< the coarse distance (similarity) is part of the result
  bool fp16_tables;               ///< shared-memory tables in fp16 (too large in fp32)
  const float* query_tables;      ///< nq x M x ksub (precomputed, per_query)
  const float* precomputed;       ///< nlist x M x ksub (precomputed)
  const float* pq_centroids;      ///< M x ksub x dsub (per_list)
  const float* coarse_centroids;  ///< nlist x d (per_list)
};

/// Bytes of dynamic shared memory the IVF-PQ scan asks for.
int64_t ivfpq_scan_shared_bytes(const PqScanInput& pq, int d, int slots);

void ivfpq_scan(GpuResources& res, const IvfScanInput& in, const PqScanInput& pq);

}  // namespace sextant::gpu
