// Device-side pieces shared by every kernel that selects: the warp queue on
// real warps, bound sharing between the queues of a block (and of a row's
// blocks), the merge of a block's queues, and dispatch on the queue size.
#pragma once

#include <cstdint>
#include <type_traits>

#include "gpu/GpuResources.h"
#include "gpu/select/OrderedKey.h"
#include "gpu/select/Planning.h"
#include "gpu/select/WarpQueue.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

template <int Q>
using DeviceQueue = WarpQueue<DeviceWarp, Q>;

__device__ __forceinline__ int lane_id() { return static_cast<int>(threadIdx.x & 31u); }
__device__ __forceinline__ int warp_id() { return static_cast<int>(threadIdx.x >> 5); }

/// Reads a bound other warps or blocks may be lowering (no caching in L1).
__device__ __forceinline__ uint64_t read_bound(const uint64_t* p) {
  return *reinterpret_cast<const volatile unsigned long long*>(p);
}

/// Shares a queue's threshold through *bound (shared or global memory): the
/// queue publishes its own when it got lower, then adopts the lowest so far.
/// Every bound is valid for all queues selecting over the same row.
template <int Q>
__device__ __forceinline__ void share_bound(DeviceQueue<Q>& queue, uint64_t* bound, uint64_t& published) {
  const uint64_t mine = queue.threshold();
  if (mine < published) {
    if (lane_id() == 0) atomicMin(reinterpret_cast<unsigned long long*>(bound), static_cast<unsigned long long>(mine));
    published = mine;
  }
  queue.tighten(read_bound(bound));
}

/// Merges the queues of the block's WARPS warps into warp 0's (flushed and
/// sorted there afterwards). `scratch` holds (WARPS - 1) * 32 * Q entries of
/// shared memory. Every thread of the block must call this.
template <int Q, int WARPS>
__device__ __forceinline__ void merge_block_queues(DeviceQueue<Q>& queue, uint64_t* scratch) {
  queue.flush();
  if constexpr (WARPS > 1) {
    const int w = warp_id();
    if (w > 0) queue.store(scratch + (w - 1) * 32 * Q);
    __syncthreads();
    if (w == 0) {
#pragma unroll 1
      for (int o = 1; o < WARPS; o++) queue.merge_sorted(scratch + (o - 1) * 32 * Q);
    }
    __syncthreads();
  }
}

/// Blocks of `kernel` (threads per block, dynamic shared memory) the whole
/// device runs at once: its occupancy per multiprocessor times their number.
template <class Kernel>
int64_t resident_blocks(const GpuResources& res, Kernel kernel, int threads, size_t dynamic_smem = 0) {
  int per_sm = 0;
  SEXTANT_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, dynamic_smem));
  return int64_t(per_sm > 0 ? per_sm : 1) * res.sm_count();
}

/// The kernel's own (static) shared memory, in bytes.
template <class Kernel>
int64_t static_shared_bytes(Kernel kernel) {
  cudaFuncAttributes attr{};
  SEXTANT_CUDA_CHECK(cudaFuncGetAttributes(&attr, kernel));
  return int64_t(attr.sharedSizeBytes);
}

/// Readies `kernel` for a launch with `dynamic_bytes` of dynamic shared
/// memory: throws naming `what` when static + dynamic exceed the device's
/// limit, and opts in when the total passes the default 48 KB.
template <class Kernel>
void prepare_shared_memory(const GpuResources& res, Kernel kernel, int64_t dynamic_bytes, const char* what) {
  const int64_t fixed = static_shared_bytes(kernel);
  const SharedMemoryPlan plan = plan_shared_memory(fixed, dynamic_bytes, int64_t(res.max_shared_per_block()));
  SEXTANT_CHECK(plan.fits, what, " needs ", fixed + dynamic_bytes, " bytes of shared memory per block (", fixed,
                " static + ", dynamic_bytes, " dynamic), the device allows ", res.max_shared_per_block());
  if (plan.opt_in) {
    SEXTANT_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(dynamic_bytes)));
  }
}

/// Calls f(std::integral_constant<int, Q>{}) for the queue size serving k.
template <class F>
void dispatch_queue_slots(int slots, F&& f) {
  switch (slots) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 8: return f(std::integral_constant<int, 8>{});
    case 16: return f(std::integral_constant<int, 16>{});
    case 32: return f(std::integral_constant<int, 32>{});
    case 64: return f(std::integral_constant<int, 64>{});
    default: SEXTANT_FAIL("no register queue for ", slots, " slots (internal error)");
  }
}

}  // namespace sextant::gpu
