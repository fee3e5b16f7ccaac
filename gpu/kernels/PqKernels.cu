#include <cuda_runtime.h>

#include "gpu/GpuResources.h"
#include "gpu/kernels/PqKernels.h"
#include "gpu/select/OrderedKey.h"
#include "gpu/select/Planning.h"

namespace sextant::gpu {

namespace {

// One thread per vector: M nearest-centroid searches, bits packed as they come.
__global__ void pq_encode_kernel(PqDevice pq, const float* x, int64_t n, const int64_t* lists, const int64_t* pos,
                                 const float* coarse, uint8_t* codes) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float* xi = x + i * pq.d;
  const float* ci = coarse != nullptr ? coarse + lists[i] * pq.d : nullptr;
  uint8_t* out = codes + pos[i] * pq.code_size;
  uint32_t acc = 0;
  int bits = 0, byte = 0;
  for (int m = 0; m < pq.M; m++) {
    const float* cm = pq.centroids + int64_t(m) * pq.ksub * pq.dsub;
    float best = 0.0f;
    int best_c = 0;
    for (int c = 0; c < pq.ksub; c++) {
      float dot = 0.0f;
      for (int j = 0; j < pq.dsub; j++) {
        const int col = m * pq.dsub + j;
        const float r = xi[col] - (ci != nullptr ? ci[col] : 0.0f);
        dot = fmaf(r, __ldg(cm + c * pq.dsub + j), dot);
      }
      const float dist = __ldg(pq.norms + m * pq.ksub + c) - 2.0f * dot;
      if (c == 0 || dist < best) {
        best = dist;
        best_c = c;
      }
    }
    acc |= uint32_t(best_c) << bits;
    bits += pq.nbits;
    while (bits >= 8) {
      out[byte++] = uint8_t(acc & 255u);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out[byte] = uint8_t(acc & 255u);
}

__global__ void pq_norms_kernel(PqDevice pq, float* norms) {
  const int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (e >= int64_t(pq.M) * pq.ksub) return;
  const float* c = pq.centroids + e * pq.dsub;
  float s = 0.0f;
  for (int j = 0; j < pq.dsub; j++) s = fmaf(c[j], c[j], s);
  norms[e] = s;
}

// One thread per (list, m, c).
__global__ void pq_precompute_kernel(PqDevice pq, const float* coarse, int64_t nlist, float* out) {
  const int64_t MK = int64_t(pq.M) * pq.ksub;
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= nlist * MK) return;
  const int64_t list = i / MK, e = i % MK, m = e / pq.ksub;
  const float* c = coarse + list * pq.d + m * pq.dsub;
  const float* r = pq.centroids + e * pq.dsub;
  float dot = 0.0f;
  for (int j = 0; j < pq.dsub; j++) dot = fmaf(c[j], r[j], dot);
  out[i] = pq.norms[e] + 2.0f * dot;
}

// One thread per (query, m, c).
__global__ void pq_query_tables_kernel(PqDevice pq, const float* x, int64_t nq, bool l2, float* out) {
  const int64_t MK = int64_t(pq.M) * pq.ksub;
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= nq * MK) return;
  const int64_t q = i / MK, e = i % MK, m = e / pq.ksub;
  const float* xm = x + q * pq.d + m * pq.dsub;
  const float* c = pq.centroids + e * pq.dsub;
  float s = 0.0f;
  for (int j = 0; j < pq.dsub; j++) {
    if (l2) {
      const float diff = xm[j] - c[j];
      s = fmaf(diff, diff, s);
    } else {
      s = fmaf(xm[j], c[j], s);
    }
  }
  out[i] = s;
}

// One warp per (query, candidate): lanes split the dimensions.
__global__ void refine_kernel(const float* x, int64_t nq, int d, const uint64_t* in, int64_t in_stride, int64_t n,
                              const float* vectors, bool ip, uint64_t* out) {
  const int64_t w = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (w >= nq * n) return;
  const int64_t q = w / n, r = w % n;
  const uint64_t e = in[q * in_stride + r];
  if (entry_id(e) == kPadId) {
    if (lane == 0) out[w] = e;
    return;
  }
  const float* xq = x + q * d;
  const float* y = vectors + int64_t(entry_id(e)) * d;
  float s = 0.0f;
  for (int j = lane; j < d; j += 32) {
    if (ip) {
      s = fmaf(xq[j], y[j], s);
    } else {
      const float diff = xq[j] - y[j];
      s = fmaf(diff, diff, s);
    }
  }
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xFFFFFFFFu, s, o);
  if (lane == 0) out[w] = make_entry_f(ip ? -s : s, entry_id(e));
}

}  // namespace

void pq_encode(GpuResources& res, const PqDevice& pq, const float* x, int64_t n, const int64_t* lists,
               const int64_t* pos, const float* coarse_centroids, uint8_t* codes) {
  if (n == 0) return;
  pq_encode_kernel<<<ceil_div(n, 128), 128, 0, res.stream()>>>(pq, x, n, lists, pos, coarse_centroids, codes);
  SEXTANT_LAUNCH_CHECK(res, "pq_encode_kernel");
}

void pq_centroid_norms(GpuResources& res, const PqDevice& pq, float* norms) {
  const int64_t total = int64_t(pq.M) * pq.ksub;
  pq_norms_kernel<<<ceil_div(total, 256), 256, 0, res.stream()>>>(pq, norms);
  SEXTANT_LAUNCH_CHECK(res, "pq_norms_kernel");
}

void pq_precompute_lists(GpuResources& res, const PqDevice& pq, const float* coarse_centroids, int64_t nlist,
                         float* out) {
  const int64_t total = nlist * pq.M * pq.ksub;
  if (total == 0) return;
  pq_precompute_kernel<<<ceil_div(total, 256), 256, 0, res.stream()>>>(pq, coarse_centroids, nlist, out);
  SEXTANT_LAUNCH_CHECK(res, "pq_precompute_kernel");
}

void pq_query_tables(GpuResources& res, const PqDevice& pq, const float* x, int64_t nq, bool l2, float* out) {
  const int64_t total = nq * pq.M * pq.ksub;
  if (total == 0) return;
  pq_query_tables_kernel<<<ceil_div(total, 256), 256, 0, res.stream()>>>(pq, x, nq, l2, out);
  SEXTANT_LAUNCH_CHECK(res, "pq_query_tables_kernel");
}

void refine_entries(GpuResources& res, const float* x, int64_t nq, int d, const uint64_t* in, int64_t in_stride,
                    int64_t n, const float* vectors, bool inner_product, uint64_t* out) {
  const int64_t warps = nq * n;
  if (warps == 0) return;
  refine_kernel<<<ceil_div(warps * 32, 256), 256, 0, res.stream()>>>(x, nq, d, in, in_stride, n, vectors,
                                                                     inner_product, out);
  SEXTANT_LAUNCH_CHECK(res, "refine_kernel");
}

}  // namespace sextant::gpu
