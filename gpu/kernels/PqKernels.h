// Product-quantizer kernels of GpuIndexIVFPQ: encoding residuals, the
// per-list precomputed terms, and per-query tables.
#pragma once

#include <cstdint>

namespace sextant::gpu {

class GpuResources;

/// Product-quantizer geometry and codebooks in device memory.
struct PqDevice {
  int d, M, ksub, dsub, nbits, code_size;
  const float* centroids;  ///< M x ksub x dsub
  const float* norms;      ///< M x ksub squared norms of the centroids
};

/// Codes of n device vectors (residuals to coarse_centroids[lists[i]] when
/// coarse_centroids is not null) written at codes + pos[i] * code_size. The
/// nearest sub-centroid minimises |c|^2 - 2 <r, c> (the precomputed norms
/// save a third of the work); ties go to the smaller index.
void pq_encode(GpuResources& res, const PqDevice& pq, const float* x, int64_t n, const int64_t* lists,
               const int64_t* pos, const float* coarse_centroids, uint8_t* codes);

/// M x ksub squared norms of the sub-centroids.
void pq_centroid_norms(GpuResources& res, const PqDevice& pq, float* norms);

/// The per-list terms of L2 with residuals: out[list][m][c] = |C_mc|^2 + 2 <centroid_list,m, C_mc>
/// (nlist x M x ksub), as IndexIVFPQ's precomputed table.
void pq_precompute_lists(GpuResources& res, const PqDevice& pq, const float* coarse_centroids, int64_t nlist,
                         float* out);

/// Per-query tables (nq x M x ksub): <x_m, C_mc>, or |x_m - C_mc|^2 when l2.
void pq_query_tables(GpuResources& res, const PqDevice& pq, const float* x, int64_t nq, bool l2, float* out);

/// Exact distances of each query to its candidates, for re-ranking: for row q
/// and r < n, entry (key, pos) of in[q * in_stride + r] becomes (exact key, pos)
/// at out[q * n + r], with vectors[pos] the raw vector (d floats); padding stays padding.
void refine_entries(GpuResources& res, const float* x, int64_t nq, int d, const uint64_t* in, int64_t in_stride,
                    int64_t n, const float* vectors, bool inner_product, uint64_t* out);

}  // namespace sextant::gpu
