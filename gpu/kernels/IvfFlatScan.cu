// IVF-Flat list scan: exact distances to the vectors of the probed lists,
// fed straight into the warp queues.
#include <cuda_runtime.h>

#include "gpu/GpuResources.h"
#include "gpu/kernels/IvfScan.h"
#include "gpu/kernels/SelectCommon.cuh"

namespace sextant::gpu {

namespace {

template <int Q>
__global__ void __launch_bounds__(queue_block_warps(Q) * 32, 1) ivf_flat_scan_kernel(IvfScanInput a) {
  constexpr int W = queue_block_warps(Q);
  __shared__ uint64_t merge_scratch[(W - 1) * 32 * Q];
  __shared__ uint64_t block_bound;
  extern __shared__ float query[];
  const int64_t q = blockIdx.x / a.slices, slice = blockIdx.x % a.slices;
  const int d = a.d, lane = lane_id(), warp = warp_id();
  for (int i = threadIdx.x; i < d; i += blockDim.x) query[i] = a.x[q * d + i];
  if (threadIdx.x == 0) block_bound = kPadEntry;
  __syncthreads();

  const float* vectors = reinterpret_cast<const float*>(a.codes);
  const bool vec4 = d % 4 == 0 && reinterpret_cast<uintptr_t>(vectors) % 16 == 0;
  const int64_t p0 = slice_begin(a.nprobe, a.slices, slice), p1 = slice_begin(a.nprobe, a.slices, slice + 1);
  DeviceQueue<Q> queue;
  uint64_t published = kPadEntry;
  for (int64_t p = p0; p < p1; p++) {
    const int64_t list = a.probes[q * a.nprobe + p];
    if (list < 0) continue;  // the same in the whole block
    const int64_t offset = a.offsets[list];
    const int64_t size = a.limits ? min64(a.sizes[list], a.limits[q * a.nprobe + p]) : a.sizes[list];
    for (int64_t base = warp * 32; base < size; base += W * 32) {
      const int64_t j = base + lane;
      const bool valid = j < size;
      float acc = 0.0f;
      if (valid) {
        const float* v = vectors + (offset + j) * d;
        if (vec4) {
          for (int i = 0; i < d; i += 4) {
            const float4 y = __ldg(reinterpret_cast<const float4*>(v + i));
            if (a.inner_product) {
              acc = fmaf(query[i], y.x, acc);
              acc = fmaf(query[i + 1], y.y, acc);
              acc = fmaf(query[i + 2], y.z, acc);
              acc = fmaf(query[i + 3], y.w, acc);
            } else {
              const float d0 = query[i] - y.x, d1 = query[i + 1] - y.y, d2 = query[i + 2] - y.z,
                          d3 = query[i + 3] - y.w;
              acc = fmaf(d0, d0, acc);
              acc = fmaf(d1, d1, acc);
              acc = fmaf(d2, d2, acc);
              acc = fmaf(d3, d3, acc);
            }
          }
        } else {
          for (int i = 0; i < d; i++) {
            const float y = __ldg(v + i);
            if (a.inner_product) {
              acc = fmaf(query[i], y, acc);
            } else {
              const float diff = query[i] - y;
              acc = fmaf(diff, diff, acc);
            }
          }
        }
      }
      queue.add(make_entry_f(a.inner_product ? -acc : acc, static_cast<uint32_t>(offset + j)), valid);
      share_bound<Q>(queue, &block_bound, published);
    }
  }
  merge_block_queues<Q, W>(queue, merge_scratch);
  if (warp == 0) queue.store(a.out + blockIdx.x * int64_t(32 * Q));
}

template <int Q>
void launch(GpuResources& res, const IvfScanInput& in) {
  constexpr int W = queue_block_warps(Q);
  const int64_t smem = int64_t(in.d) * int64_t(sizeof(float));
  prepare_shared_memory(res, ivf_flat_scan_kernel<Q>, smem, "GpuIndexIVFFlat's list scan");
  ivf_flat_scan_kernel<Q><<<in.nq * in.slices, W * 32, smem, res.stream()>>>(in);
  SEXTANT_LAUNCH_CHECK(res, "ivf_flat_scan_kernel");
}

}  // namespace

void check_ivf_flat_scan_fits(const GpuResources& res, int d) {
  int64_t fixed = 0;
  for (int slots = 1; slots <= kMaxRegisterK / 32; slots *= 2) {
    dispatch_queue_slots(slots, [&](auto q) {
      fixed = max64(fixed, static_shared_bytes(ivf_flat_scan_kernel<decltype(q)::value>));
    });
  }
  const int64_t query = int64_t(d) * int64_t(sizeof(float));
  SEXTANT_CHECK(plan_shared_memory(fixed, query, int64_t(res.max_shared_per_block())).fits,
                "GpuIndexIVFFlat: d=", d, " is too large: the list scan keeps the query (", query,
                " bytes) in shared memory beside its own ", fixed, " bytes, the device allows ",
                res.max_shared_per_block());
}

void ivf_flat_scan(GpuResources& res, const IvfScanInput& in) {
  if (in.nq == 0) return;
  dispatch_queue_slots(in.slots, [&](auto q) { launch<decltype(q)::value>(res, in); });
}

}  // namespace sextant::gpu
