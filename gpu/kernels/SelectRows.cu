// Register-queue k-selection over rows (k <= 2048): standalone select_k, the
// merge of per-split candidates, and decoding entries into results.
#include <cuda_runtime.h>

#include <limits>

#include "gpu/GpuResources.h"
#include "gpu/kernels/Select.h"
#include "gpu/kernels/SelectCommon.cuh"

namespace sextant::gpu {

namespace {

/// 16-byte loads each lane keeps in flight per round: more hide more memory
/// latency; big queues leave no registers for them.
constexpr int loads_in_flight(int Q) { return Q >= 32 ? 2 : 4; }

struct RowSelectArgs {
  const float* values;      // rows x ld floats (or null)
  const uint64_t* entries;  // rows x ld entries (or null)
  int64_t ld;
  int64_t cols;
  int64_t splits;
  int64_t width;     // columns per split
  bool negate;       // select the largest values
  uint64_t* bounds;  // one per row, shared by the row's blocks (null: one block per row)
  uint64_t* out;     // (rows * splits) x 32 Q, sorted
};

// One block per (row, split); each warp its own queue over rounds of the
// split's columns, bounds shared across warps and blocks, queues merged at the end.
template <int Q, int WARPS, bool kFromEntries>
__global__ void __launch_bounds__(WARPS * 32, 1) select_rows_kernel(RowSelectArgs a) {
  __shared__ uint64_t merge_scratch[(WARPS > 1 ? WARPS - 1 : 1) * 32 * Q];
  __shared__ uint64_t block_bound;
  const int64_t row = blockIdx.x / a.splits, split = blockIdx.x % a.splits;
  const int64_t c0 = split * a.width;
  const int64_t c1 = c0 + a.width < a.cols ? c0 + a.width : a.cols;
  const int lane = lane_id(), warp = warp_id();
  if (threadIdx.x == 0) block_bound = kPadEntry;
  __syncthreads();

  DeviceQueue<Q> queue;
  uint64_t published = kPadEntry, published_row = kPadEntry;
  if constexpr (kFromEntries) {
    const uint64_t* in = a.entries + row * a.ld;
    for (int64_t base = c0 + warp * 32; base < c1; base += WARPS * 32) {
      const int64_t c = base + lane;
      const bool valid = c < c1;
      queue.add(valid ? in[c] : uint64_t{kPadEntry}, valid);
    }
  } else {
    const float* in = a.values + row * a.ld;
    const bool vec4 = (a.ld % 4 == 0) && (reinterpret_cast<uintptr_t>(a.values) % 16 == 0);
    const float sign = a.negate ? -1.0f : 1.0f;
    constexpr int L = loads_in_flight(Q), V = 4 * L;  // 16-byte loads per lane per round, values per lane
    constexpr int kStep = 32 * V;                        // columns per warp per round
    int round = 0;
    // Each lane takes 4 consecutive columns per load, L loads in flight
    // before the first use (the rows stream from memory once).
    for (int64_t base = c0 + warp * kStep; base < c1; base += WARPS * kStep, round++) {
      float v[V];
#pragma unroll
      for (int h = 0; h < L; h++) {
        const int64_t c = base + h * 128 + lane * 4;
        if (vec4 && c + 3 < c1) {
          const float4 f = __ldcs(reinterpret_cast<const float4*>(in + c));  // streamed once: do not keep in L1
          v[h * 4 + 0] = f.x;
          v[h * 4 + 1] = f.y;
          v[h * 4 + 2] = f.z;
          v[h * 4 + 3] = f.w;
        } else {
#pragma unroll
          for (int j = 0; j < 4; j++) v[h * 4 + j] = c + j < c1 ? in[c + j] : 0.0f;
        }
      }
      // Most rounds end here: no lane holds a value that could enter.
      const EntryFilter filter(queue.threshold());
      bool any_pass = false;
#pragma unroll
      for (int j = 0; j < V; j++) {
        v[j] *= sign;
        any_pass |= filter(v[j]);
      }
      if (DeviceWarp::any(any_pass)) {
        // One call site of queue.add (its merge network is large): the
        // candidates move through v[0] instead of being indexed at run time.
#pragma unroll 1
        for (int j = 0; j < V; j++) {
          const int64_t c = base + (j >> 2) * 128 + lane * 4 + (j & 3);
          queue.add(make_entry_f(v[0], static_cast<uint32_t>(c)), c < c1);
#pragma unroll
          for (int m = 0; m < V - 1; m++) v[m] = v[m + 1];
        }
      }
      share_bound<Q>(queue, &block_bound, published);
      if (a.bounds != nullptr && (round & 7) == 7) share_bound<Q>(queue, a.bounds + row, published_row);
    }
  }
  merge_block_queues<Q, WARPS>(queue, merge_scratch);
  if (warp == 0) queue.store(a.out + blockIdx.x * int64_t(32 * Q));
}

struct DecodeArgs {
  const uint64_t* entries;
  int64_t rows, stride, k;
  EntryDecoding how;
  float* distances;
  int64_t* labels;
};

__global__ void decode_entries_kernel(DecodeArgs a) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= a.rows * a.k) return;
  const int64_t row = i / a.k, r = i % a.k;
  const uint64_t e = r < a.stride ? a.entries[row * a.stride + r] : uint64_t{kPadEntry};
  if (entry_id(e) == kPadId) {
    a.distances[i] = a.how.pad_distance;
    a.labels[i] = -1;
    return;
  }
  a.distances[i] = decode_distance(entry_float(e), a.how.negate,
                                   a.how.row_offsets != nullptr ? a.how.row_offsets + row : nullptr);
  a.labels[i] = a.how.id_map != nullptr ? a.how.id_map[entry_id(e)] : static_cast<int64_t>(entry_id(e));
}

template <int Q, bool kFromEntries>
void launch_select_rows(GpuResources& res, const RowSelectArgs& args, int64_t rows) {
  constexpr int W = queue_block_warps(Q);
  select_rows_kernel<Q, W, kFromEntries><<<rows * args.splits, W * 32, 0, res.stream()>>>(args);
  SEXTANT_LAUNCH_CHECK(res, "select_rows_kernel");
}

/// The plan of select_k for its register queues, from the kernel's occupancy.
template <int Q>
RowSelectPlan plan_for(GpuResources& res, int64_t rows, int64_t cols) {
  constexpr int W = queue_block_warps(Q);
  return plan_row_select(rows, cols, Q, resident_blocks(res, select_rows_kernel<Q, W, false>, W * 32));
}

}  // namespace

void select_entries(GpuResources& res, const uint64_t* entries, int64_t rows, int64_t n, int slots, uint64_t* out) {
  if (rows == 0) return;
  RowSelectArgs a{nullptr, entries, n, n, 1, n, false, nullptr, out};
  dispatch_queue_slots(slots, [&](auto q) { launch_select_rows<decltype(q)::value, true>(res, a, rows); });
}

void decode_entries(GpuResources& res, const uint64_t* entries, int64_t rows, int64_t stride, int64_t k,
                    const EntryDecoding& how, float* distances, int64_t* labels) {
  const int64_t total = rows * k;
  if (total == 0) return;
  DecodeArgs a{entries, rows, stride, k, how, distances, labels};
  decode_entries_kernel<<<ceil_div(total, 256), 256, 0, res.stream()>>>(a);
  SEXTANT_LAUNCH_CHECK(res, "decode_entries_kernel");
}

void select_k(GpuResources& res, const float* values, int64_t rows, int64_t cols, int64_t ld, int64_t k,
              bool largest, float* out_values, int64_t* out_indices) {
  SEXTANT_CHECK(k >= 1 && k <= kMaxSelectK, "select_k: k must be in [1, ", kMaxSelectK, "], got ", k);
  SEXTANT_CHECK(cols >= 0 && cols < int64_t(kPadId), "select_k: rows must have fewer than 2^32 - 1 columns");
  SEXTANT_CHECK(ld >= cols, "select_k: the leading dimension (", ld, ") must be >= cols (", cols, ")");
  if (rows == 0) return;
  const int slots = queue_slots(k);
  if (slots == 0) return select_k_radix(res, values, rows, cols, ld, k, largest, out_values, out_indices);

  RowSelectPlan plan{};
  dispatch_queue_slots(slots, [&](auto q) { plan = plan_for<decltype(q)::value>(res, rows, cols); });
  const int64_t kcap = 32 * int64_t(slots);
  ScratchBuffer<uint64_t> partial(res.scratch(), rows * plan.splits * kcap);
  ScratchBuffer<uint64_t> bounds(res.scratch(), plan.splits > 1 ? rows : 0);
  if (plan.splits > 1) SEXTANT_CUDA_CHECK(cudaMemsetAsync(bounds.data(), 0xFF, rows * sizeof(uint64_t), res.stream()));
  RowSelectArgs a{values, nullptr, ld, cols, plan.splits, plan.columns, largest,
                  plan.splits > 1 ? bounds.data() : nullptr, partial.data()};
  dispatch_queue_slots(slots, [&](auto q) { launch_select_rows<decltype(q)::value, false>(res, a, rows); });
  const uint64_t* best = partial.data();
  ScratchBuffer<uint64_t> merged(res.scratch(), plan.splits > 1 ? rows * kcap : 0);
  if (plan.splits > 1) {
    select_entries(res, partial.data(), rows, plan.splits * kcap, slots, merged.data());
    best = merged.data();
  }
  EntryDecoding how;
  how.negate = largest;
  how.pad_distance = largest ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  decode_entries(res, best, rows, kcap, k, how, out_values, out_indices);
}

}  // namespace sextant::gpu
