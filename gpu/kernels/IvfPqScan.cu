// IVF-PQ list scan: the look-up tables live in shared memory (the per-query
// part once per block, the per-list part once per probed list), then each
// code costs M table reads; the k-selection is fused.
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

// The largest squared norm of the M subvectors of v (d floats), into *bits
// (a float's bits: non-negative floats order as integers).
__device__ __forceinline__ void max_sub_norm(const float* v, const PqScanInput& pq, uint32_t* bits) {
  for (int m = threadIdx.x; m < pq.M; m += blockDim.x) {
    float s = 0.0f;
    for (int i = 0; i < pq.dsub; i++) s = fmaf(v[m * pq.dsub + i], v[m * pq.dsub + i], s);
    atomicMax(bits, __float_as_uint(s));
  }
}

__device__ __forceinline__ float table_scale(const uint32_t* bits, const PqScanInput& pq) {
  return fp16_table_scale(squared_distance_bound(sqrtf(__uint_as_float(*bits)), pq.max_centroid_norm));
}

// One block per (query, slice of its probes). Shared memory (select/PqTables.h):
//  precomputed: the query's part <x_m, C_mc> loaded once; per list the table
//               pre[list] - 2 <x_m, C_mc> (fp32: its terms cancel);
//  per_query:   the query's whole table, loaded once (fp16 scaled, or fp32);
//  per_list:    per list the residual x - c_list and its table |r_m - C_mc|^2.
template <int Q>
__global__ void __launch_bounds__(queue_block_warps(Q) * 32, 1) ivfpq_scan_kernel(IvfScanInput a, PqScanInput pq) {
  constexpr int W = queue_block_warps(Q);
  __shared__ uint64_t merge_scratch[(W - 1) * 32 * Q];
  __shared__ uint64_t block_bound;
  __shared__ uint32_t norm_bits;
  extern __shared__ float4 dynamic_smem[];
  char* smem = reinterpret_cast<char*>(dynamic_smem);
  const int MK = pq.M * pq.ksub;
  float* query_part = reinterpret_cast<float*>(smem);
  float* list32 = reinterpret_cast<float*>(smem + pq_list_table_offset(pq.mode, pq.M, pq.ksub));
  __half* table16 = reinterpret_cast<__half*>(smem);
  float* residual = reinterpret_cast<float*>(smem + pq_residual_offset(pq.fp16, pq.M, pq.ksub));

  const int64_t q = blockIdx.x / a.slices, slice = blockIdx.x % a.slices;
  const int lane = lane_id(), warp = warp_id();
  if (threadIdx.x == 0) {
    block_bound = kPadEntry;
    norm_bits = 0;
  }
  float inv_scale = 1.0f;  // fp16 tables hold entries * scale
  if (pq.mode != PqTableMode::per_list) {
    // The per-query part, once per block. Loads of several entries in flight
    // per thread: the copy is bound by memory latency otherwise.
    const float* qtab = pq.query_tables + q * MK;
    float scale = 1.0f;
    if (pq.fp16) {  // per_query L2: entries |x_m - C_mc|^2
      __syncthreads();
      max_sub_norm(a.x + q * a.d, pq, &norm_bits);
      __syncthreads();
      scale = table_scale(&norm_bits, pq);
      inv_scale = 1.0f / scale;
    }
    constexpr int kUnroll = 8;
    for (int e0 = threadIdx.x; e0 < MK; e0 += kUnroll * blockDim.x) {
      float t[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; u++) {
        const int e = e0 + u * blockDim.x;
        t[u] = e < MK ? __ldg(qtab + e) : 0.0f;
      }
#pragma unroll
      for (int u = 0; u < kUnroll; u++) {
        const int e = e0 + u * blockDim.x;
        if (e >= MK) continue;
        if (pq.fp16) {
          table16[e] = __float2half_rn(t[u] * scale);
        } else {
          query_part[e] = t[u];
        }
      }
    }
  }
  __syncthreads();

  const int64_t p0 = slice_begin(a.nprobe, a.slices, slice), p1 = slice_begin(a.nprobe, a.slices, slice + 1);
  DeviceQueue<Q> queue;
  uint64_t published = kPadEntry;
  for (int64_t p = p0; p < p1; p++) {
    const int64_t list = a.probes[q * a.nprobe + p];
    if (list < 0) continue;  // the same in the whole block
    const int64_t offset = a.offsets[list];
    const int64_t size = a.limits ? min64(a.sizes[list], a.limits[q * a.nprobe + p]) : a.sizes[list];
    if (size == 0) continue;
    if (pq.mode == PqTableMode::precomputed) {
      __syncthreads();  // the previous list's scan is done with the table
      const float* pre = pq.precomputed + list * MK;
      constexpr int kUnroll = 8;
      for (int e0 = threadIdx.x; e0 < MK; e0 += kUnroll * blockDim.x) {
        float pv[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; u++) {
          const int e = e0 + u * blockDim.x;
          pv[u] = e < MK ? __ldg(pre + e) : 0.0f;
        }
#pragma unroll
        for (int u = 0; u < kUnroll; u++) {
          const int e = e0 + u * blockDim.x;
          if (e < MK) list32[e] = pv[u] - 2.0f * query_part[e];
        }
      }
      __syncthreads();
    } else if (pq.mode == PqTableMode::per_list) {
      __syncthreads();  // the previous list's scan is done with the table and residual
      for (int i = threadIdx.x; i < a.d; i += blockDim.x)
        residual[i] = a.x[q * a.d + i] - pq.coarse_centroids[list * a.d + i];
      if (threadIdx.x == 0) norm_bits = 0;
      __syncthreads();
      float scale = 1.0f;
      if (pq.fp16) {
        max_sub_norm(residual, pq, &norm_bits);
        __syncthreads();
        scale = table_scale(&norm_bits, pq);
        inv_scale = 1.0f / scale;
      }
      for (int e = threadIdx.x; e < MK; e += blockDim.x) {
        const int m = e / pq.ksub, c = e % pq.ksub;
        const float* cen = pq.pq_centroids + (int64_t(m) * pq.ksub + c) * pq.dsub;
        float v = 0.0f;
        for (int i = 0; i < pq.dsub; i++) {
          const float diff = residual[m * pq.dsub + i] - __ldg(cen + i);
          v = fmaf(diff, diff, v);
        }
        if (pq.fp16) {
          table16[e] = __float2half_rn(v * scale);
        } else {
          list32[e] = v;
        }
      }
      __syncthreads();
    }
    const float* table32 = pq.mode == PqTableMode::precomputed ? list32 : query_part;
    const float base_term = pq.add_coarse ? a.coarse[q * a.nprobe + p] : 0.0f;
    for (int64_t base = warp * 32; base < size; base += W * 32) {
      const int64_t j = base + lane;
      const bool valid = j < size;
      float sum = base_term;
      if (valid) {
        const uint8_t* code = a.codes + (offset + j) * pq.code_size;
        sum += pq.fp16 ? pq_code_sum(code, table16, pq) * inv_scale : pq_code_sum(code, table32, pq);
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
  const int64_t smem = pq_table_bytes(pq.mode, pq.fp16, pq.M, pq.ksub, in.d);
  prepare_shared_memory(res, ivfpq_scan_kernel<Q>, smem, "GpuIndexIVFPQ's list scan");
  ivfpq_scan_kernel<Q><<<in.nq * in.slices, W * 32, smem, res.stream()>>>(in, pq);
  SEXTANT_LAUNCH_CHECK(res, "ivfpq_scan_kernel");
}

}  // namespace

int64_t ivfpq_scan_static_bytes() {
  int64_t fixed = 0;
  for (int slots = 1; slots <= kMaxRegisterK / 32; slots *= 2) {
    dispatch_queue_slots(slots, [&](auto q) {
      fixed = max64(fixed, static_shared_bytes(ivfpq_scan_kernel<decltype(q)::value>));
    });
  }
  return fixed;
}

void ivfpq_scan(GpuResources& res, const IvfScanInput& in, const PqScanInput& pq) {
  if (in.nq == 0) return;
  dispatch_queue_slots(in.slots, [&](auto q) { launch<decltype(q)::value>(res, in, pq); });
}

}  // namespace sextant::gpu
