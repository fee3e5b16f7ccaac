// Exact search: for each block of queries, the database is swept in tiles; a
// cuBLAS GEMM writes one tile of inner products and a selection kernel folds
// it into a running top-k per query (per query and split, when several warps
// share a query row), so the only distance storage is two tiles. GEMMs run on
// the main stream and selections on the auxiliary stream, so the selection
// of tile t overlaps the GEMM of tile t + 1.
#include <cuda_runtime.h>

#include <limits>

#include "gpu/GpuResources.h"
#include "gpu/kernels/FlatSearch.h"
#include "gpu/kernels/Select.h"
#include "gpu/kernels/SelectCommon.cuh"
#include "gpu/kernels/VectorOps.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

namespace {

constexpr int kTileWarps = 4;

struct TileArgs {
  const float* tile;   // rows x ld inner products
  const float* norms;  // the tile's database norms (L2), or null
  int64_t ld, cols, rows, splits, width;
  uint32_t col0;       // database row of tile column 0
  bool first;          // no running queue yet
  uint64_t* running;   // (rows * splits) x 32 Q
};

template <int Q>
__global__ void __launch_bounds__(kTileWarps * 32) flat_tile_select_kernel(TileArgs a) {
  const int64_t gw = blockIdx.x * int64_t(kTileWarps) + warp_id();
  if (gw >= a.rows * a.splits) return;  // whole warps leave; no block-wide sync below
  const int64_t row = gw / a.splits, split = gw % a.splits;
  const int64_t c0 = split * a.width;
  const int64_t c1 = c0 + a.width < a.cols ? c0 + a.width : a.cols;
  const int lane = lane_id();
  uint64_t* running = a.running + gw * int64_t(32 * Q);

  DeviceQueue<Q> queue;
  if (!a.first) queue.load_sorted(running);
  const float* in = a.tile + row * a.ld;
  const bool vec4 = (a.ld % 4 == 0) && (reinterpret_cast<uintptr_t>(a.tile) % 16 == 0) &&
                    (a.norms == nullptr || reinterpret_cast<uintptr_t>(a.norms) % 16 == 0);
  for (int64_t base = c0; base < c1; base += 256) {
    float v[8], nrm[8];
#pragma unroll
    for (int h = 0; h < 2; h++) {
      const int64_t c = base + h * 128 + lane * 4;
      if (vec4 && c + 3 < c1) {
        const float4 f = *reinterpret_cast<const float4*>(in + c);
        v[h * 4 + 0] = f.x;
        v[h * 4 + 1] = f.y;
        v[h * 4 + 2] = f.z;
        v[h * 4 + 3] = f.w;
        if (a.norms != nullptr) {
          const float4 g = __ldg(reinterpret_cast<const float4*>(a.norms + c));
          nrm[h * 4 + 0] = g.x;
          nrm[h * 4 + 1] = g.y;
          nrm[h * 4 + 2] = g.z;
          nrm[h * 4 + 3] = g.w;
        }
      } else {
#pragma unroll
        for (int j = 0; j < 4; j++) {
          const bool in_range = c + j < c1;
          v[h * 4 + j] = in_range ? in[c + j] : 0.0f;
          nrm[h * 4 + j] = (in_range && a.norms != nullptr) ? a.norms[c + j] : 0.0f;
        }
      }
    }
    // The CPU's keys exactly: |y|^2 - 2 <x, y> (|x|^2 is added when decoding), or -<x, y>.
    const EntryFilter filter(queue.threshold());
    bool any_pass = false;
#pragma unroll
    for (int j = 0; j < 8; j++) {
      v[j] = a.norms != nullptr ? nrm[j] - 2.0f * v[j] : -v[j];
      any_pass |= filter(v[j]);
    }
    if (!DeviceWarp::any(any_pass)) continue;  // most tiles' rounds, once the queue is full
    // One call site of queue.add per kernel (its merge network is large):
    // the candidates move through v[0] instead of being indexed at run time.
#pragma unroll 1
    for (int j = 0; j < 8; j++) {
      const int64_t c = base + (j >> 2) * 128 + lane * 4 + (j & 3);
      queue.add(make_entry_f(v[0], a.col0 + static_cast<uint32_t>(c)), c < c1);
#pragma unroll
      for (int m = 0; m < 7; m++) v[m] = v[m + 1];
    }
  }
  queue.flush();
  queue.store(running);
}

template <int Q>
void launch_tile_select(GpuResources& res, const TileArgs& a, cudaStream_t stream) {
  const int64_t warps = a.rows * a.splits;
  flat_tile_select_kernel<Q><<<ceil_div(warps, kTileWarps), kTileWarps * 32, 0, stream>>>(a);
  SEXTANT_LAUNCH_CHECK(res, "flat_tile_select_kernel");
}

/// The tiling of a search, from the selection kernel's occupancy and the tile budget.
template <int Q>
FlatTilePlan plan_for(GpuResources& res, int64_t nq, int64_t nb, int64_t tile_bytes) {
  const int64_t warps = resident_blocks(res, flat_tile_select_kernel<Q>, kTileWarps * 32) * kTileWarps;
  return plan_flat_tiles(nq, nb, Q, warps, tile_bytes > 0 ? tile_bytes : flat_tile_bytes(res.l2_bytes()));
}

// C (nbt x nqt, column-major, ld ldc >= nbt) = Y^T X: row q of the row-major
// view is query q against database rows j0 .. j0 + nbt - 1.
// With tf32x3 the operands are the TF32 splits (depth 3d): the query block's
// [hi | hi | lo] against the database's [hi | lo | hi].
void gemm_tile(GpuResources& res, const FlatDatabase& db, const void* xq_tile, int64_t nqt, int64_t j0, int64_t nbt,
               int64_t ldc, const FlatSearchOptions& options, float* tile) {
  const float alpha = 1.0f, beta = 0.0f;
  const bool half = db.xb16 != nullptr;
  const bool split = !half && options.precision == GemmPrecision::tf32x3;
  const int depth = split ? 3 * db.d : db.d;
  const void* y = half    ? static_cast<const void*>(db.xb16 + j0 * db.d)
                  : split ? static_cast<const void*>(db.xb_split + j0 * depth)
                          : static_cast<const void*>(db.xb32 + j0 * db.d);
  const cudaDataType_t in_type = half ? CUDA_R_16F : CUDA_R_32F;
  const cublasComputeType_t compute =
      (!half && options.precision != GemmPrecision::fp32) ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  SEXTANT_CUBLAS_CHECK(cublasGemmEx(res.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(nbt),
                                    static_cast<int>(nqt), depth, &alpha, y, in_type, depth, xq_tile, in_type, depth,
                                    &beta, tile, CUDA_R_32F, static_cast<int>(ldc), compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void flat_search_entries(GpuResources& res, const float* xq, int64_t nq, const FlatDatabase& db, int slots,
                         const FlatSearchOptions& options, uint64_t* out) {
  SEXTANT_CHECK(db.nb < int64_t(kPadId), "GPU exact search handles fewer than 2^32 - 1 vectors, got ", db.nb);
  SEXTANT_CHECK(options.metric != MetricType::L2 || db.norms != nullptr || db.nb == 0,
                "L2 search needs the database norms (internal error)");
  const int64_t kcap = 32 * int64_t(slots);
  if (nq == 0) return;
  if (db.nb == 0) {
    SEXTANT_CUDA_CHECK(cudaMemsetAsync(out, 0xFF, nq * kcap * sizeof(uint64_t), res.stream()));
    return;
  }
  FlatTilePlan plan{};
  dispatch_queue_slots(slots, [&](auto q) { plan = plan_for<decltype(q)::value>(res, nq, db.nb, options.tile_bytes); });
  const bool half = db.xb16 != nullptr;
  const bool split = !half && options.precision == GemmPrecision::tf32x3;
  SEXTANT_CHECK(!split || db.xb_split != nullptr, "tf32x3 search needs the split database (internal error)");
  // Tile rows padded to 16 bytes: the selection reads them with vector loads.
  const int64_t tile_ld = round_up(plan.db_tile, 4);
  ScratchBuffer<float> tiles(res.scratch(), 2 * plan.q_tile * tile_ld);
  ScratchBuffer<uint16_t> xq16(res.scratch(), half ? plan.q_tile * db.d : 0);
  ScratchBuffer<float> xq_split(res.scratch(), split ? plan.q_tile * 3 * db.d : 0);
  ScratchBuffer<uint64_t> running(res.scratch(), plan.splits > 1 ? plan.q_tile * plan.splits * kcap : 0);
  CudaEvent start, gemm_done[2], select_done[2];
  cudaStream_t main = res.stream(), aux = res.aux_stream();
  start.record(main);
  start.wait_in(aux);

  int64_t t = 0;  // tile counter, across query blocks
  for (int64_t q0 = 0; q0 < nq; q0 += plan.q_tile) {
    const int64_t nqt = min64(plan.q_tile, nq - q0);
    const void* xq_tile = xq + q0 * db.d;
    // Reusing xq16 / xq_split is safe: only the GEMMs read them, in order on this stream.
    if (half) {
      to_fp16(res, xq + q0 * db.d, nqt * db.d, xq16.data());
      xq_tile = xq16.data();
    } else if (split) {
      split_tf32_rows(res, xq + q0 * db.d, nqt, db.d, /*database=*/false, xq_split.data());
      xq_tile = xq_split.data();
    }
    uint64_t* run = plan.splits > 1 ? running.data() : out + q0 * kcap;
    for (int64_t j0 = 0; j0 < db.nb; j0 += plan.db_tile, t++) {
      const int64_t nbt = min64(plan.db_tile, db.nb - j0);
      float* tile = tiles.data() + (t % 2) * plan.q_tile * tile_ld;
      if (t >= 2) select_done[t % 2].wait_in(main);  // the selection of tile t - 2 has read this buffer
      gemm_tile(res, db, xq_tile, nqt, j0, nbt, tile_ld, options, tile);
      gemm_done[t % 2].record(main);
      gemm_done[t % 2].wait_in(aux);
      TileArgs a{tile, options.metric == MetricType::L2 ? db.norms + j0 : nullptr, tile_ld, nbt, nqt, plan.splits,
                 split_width(nbt, plan.splits), static_cast<uint32_t>(j0), j0 == 0, run};
      dispatch_queue_slots(slots, [&](auto q) { launch_tile_select<decltype(q)::value>(res, a, aux); });
      select_done[t % 2].record(aux);
    }
    if (plan.splits > 1) {
      // The splits' queues of this query block, merged on the main stream.
      select_done[(t - 1) % 2].wait_in(main);
      select_entries(res, running.data(), nqt, plan.splits * kcap, slots, out + q0 * kcap);
      CudaEvent merged;
      merged.record(main);
      merged.wait_in(aux);  // the next block's selections overwrite `running`
    }
  }
  // Join: everything this call queued on aux is done before main goes on
  // (and before the scratch buffers are given back).
  select_done[(t - 1) % 2].wait_in(main);
}

void flat_search(GpuResources& res, const float* xq, int64_t nq, const FlatDatabase& db, int64_t k,
                 const FlatSearchOptions& options, float* distances, int64_t* labels) {
  const int slots = queue_slots(k);
  SEXTANT_CHECK(slots > 0, "GPU exact search supports k up to ", kMaxRegisterK, ", got k=", k);
  if (nq == 0) return;
  const int64_t kcap = 32 * int64_t(slots);
  ScratchBuffer<uint64_t> best(res.scratch(), nq * kcap);
  ScratchBuffer<float> qnorms(res.scratch(), options.metric == MetricType::L2 ? nq : 0);
  flat_search_entries(res, xq, nq, db, slots, options, best.data());
  EntryDecoding how;
  if (options.metric == MetricType::L2) {
    row_norms(res, xq, nq, db.d, qnorms.data());
    how.row_offsets = qnorms.data();
    how.pad_distance = std::numeric_limits<float>::infinity();
  } else {
    how.negate = true;
    how.pad_distance = -std::numeric_limits<float>::infinity();
  }
  decode_entries(res, best.data(), nq, kcap, k, how, distances, labels);
}

}  // namespace sextant::gpu
