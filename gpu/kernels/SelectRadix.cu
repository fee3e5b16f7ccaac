// Multi-pass k-selection for k above the register queues (up to 16384): radix
// passes find each row's k-th entry (gpu/select/RadixSelect.h), one pass
// gathers the k entries at or below it, and one block per row sorts them in
// shared memory.
#include <cuda_runtime.h>

#include <limits>

#include "gpu/GpuResources.h"
#include "gpu/kernels/Select.h"
#include "gpu/kernels/SelectCommon.cuh"
#include "gpu/select/RadixSelect.h"

namespace sextant::gpu {

namespace {

constexpr int kScanThreads = 256;
constexpr int kSortThreads = 1024;

struct RadixArgs {
  const float* values;
  int64_t ld, cols, splits, width;
  float sign;
  RadixState* states;
  uint32_t* hist;      // rows x kRadixBins
  uint64_t* out;       // rows x out_stride (gather)
  uint32_t* counts;    // rows (gather)
  int64_t out_stride;
};

__global__ void radix_init_kernel(RadixState* states, int64_t rows, int64_t k, int64_t cols) {
  const int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (r < rows) states[r] = radix_start(k, cols);
}

__global__ void __launch_bounds__(kScanThreads) radix_histogram_kernel(RadixArgs a) {
  __shared__ uint32_t local[kRadixBins];
  const int64_t row = blockIdx.x / a.splits, split = blockIdx.x % a.splits;
  const RadixState s = a.states[row];
  if (s.done) return;  // the same for the whole block
  for (int b = threadIdx.x; b < kRadixBins; b += blockDim.x) local[b] = 0;
  __syncthreads();
  const int64_t c0 = split * a.width, c1 = min(c0 + a.width, a.cols);
  const float* in = a.values + row * a.ld;
  for (int64_t c = c0 + threadIdx.x; c < c1; c += blockDim.x) {
    const uint64_t e = make_entry_f(a.sign * in[c], static_cast<uint32_t>(c));
    if (radix_matches(e, s)) atomicAdd(&local[radix_digit(e, s)], 1u);
  }
  __syncthreads();
  uint32_t* hist = a.hist + row * kRadixBins;
  for (int b = threadIdx.x; b < kRadixBins; b += blockDim.x)
    if (local[b] != 0) atomicAdd(&hist[b], local[b]);
}

// One block per row: moves the row to its next digit, then clears the
// histogram for the next pass.
__global__ void radix_advance_kernel(RadixState* states, uint32_t* hist) {
  uint32_t* h = hist + blockIdx.x * int64_t(kRadixBins);
  if (threadIdx.x == 0 && !states[blockIdx.x].done) radix_advance(states[blockIdx.x], h);
  __syncthreads();
  for (int b = threadIdx.x; b < kRadixBins; b += blockDim.x) h[b] = 0;
}

__global__ void __launch_bounds__(kScanThreads) radix_gather_kernel(RadixArgs a) {
  const int64_t row = blockIdx.x / a.splits, split = blockIdx.x % a.splits;
  const RadixState s = a.states[row];
  const int64_t c0 = split * a.width, c1 = min(c0 + a.width, a.cols);
  const float* in = a.values + row * a.ld;
  uint64_t* out = a.out + row * a.out_stride;
  const int lane = lane_id();
  // Whole warps step together so the slots are claimed with one atomic per warp.
  for (int64_t base = c0 + (threadIdx.x & ~31u); base < c1; base += blockDim.x) {
    const int64_t c = base + lane;
    uint64_t e = 0;
    bool keep = false;
    if (c < c1) {
      e = make_entry_f(a.sign * in[c], static_cast<uint32_t>(c));
      keep = radix_selected(e, s);
    }
    const unsigned mask = __ballot_sync(0xFFFFFFFFu, keep);
    if (mask == 0) continue;
    uint32_t first = 0;
    if (lane == 0) first = atomicAdd(&a.counts[row], static_cast<uint32_t>(__popc(mask)));
    first = __shfl_sync(0xFFFFFFFFu, first, 0);
    if (keep) out[first + __popc(mask & ((1u << lane) - 1u))] = e;
  }
}

// One block per row sorts n (a power of two) entries in shared memory, one
// pair per thread per stage (gpu/select/BitonicNetworks.h: flat_bitonic_sort).
__global__ void __launch_bounds__(kSortThreads) block_sort_kernel(uint64_t* rows, uint32_t n) {
  extern __shared__ uint64_t buf[];
  uint64_t* row = rows + blockIdx.x * int64_t(n);
  for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) buf[i] = row[i];
  __syncthreads();
  for (uint32_t size = 2; size <= n; size *= 2) {
    for (uint32_t stride = size / 2; stride > 0; stride /= 2) {
      for (uint32_t p = threadIdx.x; p < n / 2; p += blockDim.x) {
        const uint32_t i = bitonic_pair_lower(p, stride), j = i + stride;
        const bool ascending = (i & size) == 0;
        const uint64_t x = buf[i], y = buf[j];
        if ((x > y) == ascending) {
          buf[i] = y;
          buf[j] = x;
        }
      }
      __syncthreads();
    }
  }
  for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) row[i] = buf[i];
}

}  // namespace

void select_k_radix(GpuResources& res, const float* values, int64_t rows, int64_t cols, int64_t ld, int64_t k,
                    bool largest, float* out_values, int64_t* out_indices) {
  SEXTANT_CHECK(k >= 1 && k <= kMaxSelectK, "select_k: k must be in [1, ", kMaxSelectK, "], got ", k);
  if (rows == 0) return;
  uint32_t sorted = 1;
  while (sorted < uint32_t(k)) sorted *= 2;
  const int64_t sort_bytes = int64_t(sorted) * int64_t(sizeof(uint64_t));
  prepare_shared_memory(res, block_sort_kernel, sort_bytes, "select_k's final sort");
  cudaStream_t stream = res.stream();

  const int64_t want_blocks = resident_blocks(res, radix_histogram_kernel, kScanThreads);
  int64_t splits = max64(1, min64(ceil_div(want_blocks, rows), cols / (kScanThreads * 16)));
  const int64_t width = max64(1, ceil_div(cols, splits));
  splits = max64(1, ceil_div(cols, width));

  ScratchBuffer<RadixState> states(res.scratch(), rows);
  ScratchBuffer<uint32_t> hist(res.scratch(), rows * kRadixBins);
  ScratchBuffer<uint32_t> counts(res.scratch(), rows);
  ScratchBuffer<uint64_t> gathered(res.scratch(), rows * sorted);
  SEXTANT_CUDA_CHECK(cudaMemsetAsync(hist.data(), 0, rows * kRadixBins * sizeof(uint32_t), stream));
  SEXTANT_CUDA_CHECK(cudaMemsetAsync(counts.data(), 0, rows * sizeof(uint32_t), stream));
  SEXTANT_CUDA_CHECK(cudaMemsetAsync(gathered.data(), 0xFF, rows * sorted * sizeof(uint64_t), stream));

  RadixArgs a{values, ld, cols, splits, width, largest ? -1.0f : 1.0f, states.data(), hist.data(),
              gathered.data(), counts.data(), int64_t(sorted)};
  radix_init_kernel<<<ceil_div(rows, 256), 256, 0, stream>>>(states.data(), rows, k, cols);
  SEXTANT_LAUNCH_CHECK(res, "radix_init_kernel");
  for (int pass = 0; pass < kRadixMaxPasses; pass++) {
    radix_histogram_kernel<<<rows * splits, kScanThreads, 0, stream>>>(a);
    SEXTANT_LAUNCH_CHECK(res, "radix_histogram_kernel");
    radix_advance_kernel<<<rows, 256, 0, stream>>>(states.data(), hist.data());
    SEXTANT_LAUNCH_CHECK(res, "radix_advance_kernel");
  }
  radix_gather_kernel<<<rows * splits, kScanThreads, 0, stream>>>(a);
  SEXTANT_LAUNCH_CHECK(res, "radix_gather_kernel");
  block_sort_kernel<<<rows, kSortThreads, sort_bytes, stream>>>(gathered.data(), sorted);
  SEXTANT_LAUNCH_CHECK(res, "block_sort_kernel");

  EntryDecoding how;
  how.negate = largest;
  how.pad_distance = largest ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  decode_entries(res, gathered.data(), rows, sorted, k, how, out_values, out_indices);
}

}  // namespace sextant::gpu
