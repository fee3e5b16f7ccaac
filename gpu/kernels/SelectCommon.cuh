// Device-side pieces shared by every kernel that selects: the warp queue on
// real warps, bound sharing between the queues of a block (and of a row's
// blocks), the merge of a block's queues, and dispatch on the queue size.
#pragma once

#include <cstdint>
#include <type_traits>

#include "gpu/select/OrderedKey.h"
#include "gpu/select/Planning.h"
#include "gpu/select/WarpQueue.h"
#include "sextant/utils/Error.h"

namespace sextant::gpu {

template <int Q>
using DeviceQueue = WarpQueue<DeviceWarp, Q>;

/// Warps per block of the kernels that keep one queue per warp: big queues
/// take most of the registers, so fewer warps share a block.
constexpr int queue_block_warps(int Q) { return Q >= 32 ? 2 : 4; }

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
    default: SEXTANT_CHECK(false, "no register queue for ", slots, " slots (internal error)");
  }
}

}  // namespace sextant::gpu
