// IVF-PQ list scan: per (query, probed list) the look-up table is built in
// shared memory (fp32, or fp16 when that would not fit), then each code costs
// M table reads; the k-selection is fused.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "gpu/GpuResources.h"
#include "gpu/kernels/IvfScan.h"
#include "gpu/kernels/SelectCommon.cuh"

namespace sextant::gpu {

namespace {

__device__ __forceinline__ float lut_value(const float* lut, int i) { return lut[i]; }
__device__ __forceinline__ float lut_value(const __half* lut, int i) { return __half2float(lut[i]); }

// Sum over the M sub-codes of one code of lut[m * ksub + code_m].
template <class LutT>
__device__ __forceinline__ float pq_code_sum(const uint8_t* code, const LutT* lut, const PqScanInput& pq) {
  float sum = 0.0f;
  if (pq.nbits == 8) {
    if ((pq.code_size & 3) == 0) {  // four sub-codes per 32-bit load (codes are 4-byte aligned then)
      const uint32_t* words = reinterpret_cast<const uint32_t*>(code);
      for (int m = 0; m < pq.M; m += 4) {
        const uint32_t w = __ldg(words + m / 4);
        sum += lut_value(lut, m * 256 + (w & 255u));
        sum += lut_value(lut, (m + 1) * 256 + ((w >> 8) & 255u));
        sum += lut_value(lut, (m + 2) * 256 + ((w >> 16) & 255u));
        sum += lut_value(lut, (m + 3) * 256 + (w >> 24));
      }
    } else {
      for (int m = 0; m < pq.M; m++) sum += lut_value(lut, m * 256 + __ldg(code + m));
    }
  } else {
    // Bit stream, code m at bits [m * nbits, (m + 1) * nbits), little-endian (as ProductQuantizer).
    const uint32_t mask = (1u << pq.nbits) - 1u;
    for (int m = 0; m < pq.M; m++) {
      const int bit = m * pq.nbits, byte = bit >> 3;
      uint32_t v = __ldg(code + byte);
      if (byte + 1 < pq.code_size) v |= uint32_t(__ldg(code + byte + 1)) << 8;
      sum += lut_value(lut, m * pq.ksub + ((v >> (bit & 7)) & mask));
    }
  }
  return sum;
}

__device__ __forceinline__ void store_lut(float* lut32, __half* lut16, bool fp16, int e, float v) {
  if (fp16) {
    lut16[e] = __float2half_rn(v);
  } else {
    lut32[e] = v;
  }
}

template <int Q>
__global__ void __launch_bounds__(queue_block_warps(Q) * 32, 1) ivfpq_scan_kernel(IvfScanInput a, PqScanInput pq) {
  constexpr int W = queue_block_warps(Q);
  __shared__ uint64_t merge_scratch[(W - 1) * 32 * Q];
  __shared__ uint64_t block_bound;
  extern __shared__ float4 dynamic_smem[];  // table, then (per_list mode) the residual
  const int MK = pq.M * pq.ksub;
  float* lut32 = reinterpret_cast<float*>(dynamic_smem);
  __half* lut16 = reinterpret_cast<__half*>(dynamic_smem);
  float* residual = lut32 + (pq.fp16_tables ? (MK + 1) / 2 : MK);

  const int64_t q = blockIdx.x / a.slices, slice = blockIdx.x % a.slices;
  const int lane = lane_id(), warp = warp_id();
  if (threadIdx.x == 0) block_bound = kPadEntry;
  const float* qtab = pq.query_tables != nullptr ? pq.query_tables + q * MK : nullptr;
  const int64_t p0 = slice_begin(a.nprobe, a.slices, slice), p1 = slice_begin(a.nprobe, a.slices, slice + 1);
  DeviceQueue<Q> queue;
  uint64_t published = kPadEntry;
  for (int64_t p = p0; p < p1; p++) {
    const int64_t list = a.probes[q * a.nprobe + p];
    if (list < 0) continue;  // the same in the whole block
    const int64_t offset = a.offsets[list], size = a.sizes[list];
    if (size == 0) continue;
    __syncthreads();  // the previous list's scan is done with the table
    if (pq.mode == PqTableMode::per_list) {
      for (int i = threadIdx.x; i < a.d; i += blockDim.x)
        residual[i] = a.x[q * a.d + i] - pq.coarse_centroids[list * a.d + i];
      __syncthreads();
    }
    if (pq.mode == PqTableMode::per_list) {
      for (int e = threadIdx.x; e < MK; e += blockDim.x) {
        const int m = e / pq.ksub, c = e % pq.ksub;
        const float* cen = pq.pq_centroids + (int64_t(m) * pq.ksub + c) * pq.dsub;
        float v = 0.0f;
        for (int i = 0; i < pq.dsub; i++) {
          const float diff = residual[m * pq.dsub + i] - __ldg(cen + i);
          v = fmaf(diff, diff, v);
        }
        store_lut(lut32, lut16, pq.fp16_tables, e, v);
      }
    } else {
      // Loads of several entries in flight per thread: the table build is
      // bound by memory latency otherwise.
      const float* pre = pq.mode == PqTableMode::precomputed ? pq.precomputed + list * MK : nullptr;
      constexpr int kUnroll = 8;
      for (int e0 = threadIdx.x; e0 < MK; e0 += kUnroll * blockDim.x) {
        float t[kUnroll], pv[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; u++) {
          const int e = e0 + u * blockDim.x;
          t[u] = e < MK ? __ldg(qtab + e) : 0.0f;
          pv[u] = (pre != nullptr && e < MK) ? __ldg(pre + e) : 0.0f;
        }
#pragma unroll
        for (int u = 0; u < kUnroll; u++) {
          const int e = e0 + u * blockDim.x;
          if (e < MK) store_lut(lut32, lut16, pq.fp16_tables, e, pre != nullptr ? pv[u] - 2.0f * t[u] : t[u]);
        }
      }
    }
    __syncthreads();
    const float base_term = pq.add_coarse ? a.coarse[q * a.nprobe + p] : 0.0f;
    for (int64_t base = warp * 32; base < size; base += W * 32) {
      const int64_t j = base + lane;
      const bool valid = j < size;
      float sum = base_term;
      if (valid) {
        const uint8_t* code = a.codes + (offset + j) * pq.code_size;
        sum += pq.fp16_tables ? pq_code_sum(code, lut16, pq) : pq_code_sum(code, lut32, pq);
      }
      queue.add(make_entry_f(a.inner_product ? -sum : sum, static_cast<uint32_t>(offset + j)), valid);
      share_bound<Q>(queue, &block_bound, published);
    }
  }
  merge_block_queues<Q, W>(queue, merge_scratch);
  if (warp == 0) queue.store(a.out + blockIdx.x * int64_t(32 * Q));
}

template <int Q>
void launch(GpuResources& res, const IvfScanInput& in, const PqScanInput& pq) {
  constexpr int W = queue_block_warps(Q);
  const int64_t smem = ivfpq_scan_shared_bytes(pq, in.d, Q);
  const int64_t fixed = (W - 1) * 32 * Q * 8 + 64;
  SEXTANT_CHECK(smem + fixed <= int64_t(res.max_shared_per_block()), "GpuIndexIVFPQ: the look-up tables (",
                pq.M, " x ", pq.ksub, ") need ", smem + fixed, " bytes of shared memory, the device allows ",
                res.max_shared_per_block());
  SEXTANT_CUDA_CHECK(cudaFuncSetAttribute(ivfpq_scan_kernel<Q>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(smem)));
  ivfpq_scan_kernel<Q><<<in.nq * in.slices, W * 32, smem, res.stream()>>>(in, pq);
  SEXTANT_LAUNCH_CHECK("ivfpq_scan_kernel");
}

}  // namespace

int64_t ivfpq_scan_shared_bytes(const PqScanInput& pq, int d, int) {
  const int64_t MK = int64_t(pq.M) * pq.ksub;
  const int64_t table = pq.fp16_tables ? ((MK + 1) / 2) * 4 : MK * 4;
  const int64_t resid = pq.mode == PqTableMode::per_list ? int64_t(d) * 4 : 0;
  return (table + resid + 15) / 16 * 16;
}

void ivfpq_scan(GpuResources& res, const IvfScanInput& in, const PqScanInput& pq) {
  if (in.nq == 0) return;
  dispatch_queue_slots(in.slots, [&](auto q) { launch<decltype(q)::value>(res, in, pq); });
}

}  // namespace sextant::gpu
