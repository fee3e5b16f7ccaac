// Sizing decisions of the GPU kernels, as plain arithmetic shared by host and
// device code (and tested on the CPU): which register queue serves a k, how
// a distance computation is cut into tiles, how many warps share a row.
#pragma once

#include <cstdint>

#include "gpu/select/HostDevice.h"

namespace sextant::gpu {

/// Largest k served by the register queues (one warp holds k entries).
constexpr int64_t kMaxRegisterK = 2048;
/// Largest k of the standalone multi-pass selection (one block sorts k entries in shared memory).
constexpr int64_t kMaxSelectK = 16384;

/// Registers per lane of the smallest warp queue holding k entries: 32 * Q >= k,
/// Q in {1, 2, 4, ..., 64}; 0 when k > kMaxRegisterK.
SEXTANT_HD int queue_slots(int64_t k) {
  if (k <= 0 || k > kMaxRegisterK) return 0;
  int q = 1;
  while (32 * q < k) q *= 2;
  return q;
}

SEXTANT_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
SEXTANT_HD int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
SEXTANT_HD int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
SEXTANT_HD int64_t round_up(int64_t a, int64_t m) { return ceil_div(a, m) * m; }

/// Warps a kernel wants in flight to hide memory latency: enough for a few
/// waves on every multiprocessor.
SEXTANT_HD int64_t target_warps(int sm_count) { return int64_t(sm_count) * 48; }

/// Standalone selection over rows: each row is cut into `splits` column
/// ranges, each scanned by one block of `warps` warps (each warp its own
/// queue, the block's queues merged at the end); with splits > 1 a second
/// pass merges the splits' candidates.
struct RowSelectPlan {
  int warps;        ///< warps per block
  int64_t splits;   ///< blocks per row
  int64_t columns;  ///< columns per split (a multiple of 4: vector loads stay aligned)
};

SEXTANT_HD RowSelectPlan plan_row_select(int64_t rows, int64_t cols, int slots, int sm_count) {
  RowSelectPlan p;
  // Large queues take many registers: fewer warps per block keeps the block's merge cheap.
  p.warps = slots >= 32 ? 2 : 4;
  const int64_t min_per_warp = 32 * 64;  // below ~64 candidates per lane the queue's fill-up dominates
  const int64_t want = ceil_div(target_warps(sm_count), max64(rows, 1) * p.warps);
  const int64_t most = max64(1, cols / (min_per_warp * p.warps));
  p.splits = max64(1, min64(want, most));
  p.columns = round_up(ceil_div(cols, p.splits), 4);
  p.splits = max64(1, ceil_div(cols, p.columns));
  return p;
}

/// Exact search as GEMM tiles: queries q_tile at a time against db_tile
/// database vectors at a time; the q_tile x db_tile block of inner products is
/// the only distance storage. Each query row of a tile is scanned by `splits`
/// warps, each keeping its own running top-k across database tiles.
struct FlatTilePlan {
  int64_t q_tile;
  int64_t db_tile;
  int64_t splits;
};

SEXTANT_HD FlatTilePlan plan_flat_tiles(int64_t nq, int64_t nb, int slots, int sm_count, int64_t tile_bytes) {
  FlatTilePlan p;
  const int64_t k_cap = 32 * int64_t(slots);
  // A tile row should hold several times the queue, so reloading the running
  // queue per tile stays a small cost.
  p.db_tile = min64(max64(nb, 1), round_up(max64(4096, 4 * k_cap), 32));
  p.q_tile = max64(1, min64(max64(nq, 1), tile_bytes / (p.db_tile * 4)));
  const int64_t want = ceil_div(target_warps(sm_count), p.q_tile);
  const int64_t most = max64(1, p.db_tile / (32 * 32));  // at least 32 columns per lane
  p.splits = max64(1, min64(want, most));
  return p;
}

/// Width of each of `splits` column ranges of a row (a multiple of 4, so
/// vector loads stay aligned); split s covers [s * width, min((s+1) * width, cols)).
SEXTANT_HD int64_t split_width(int64_t cols, int64_t splits) { return round_up(ceil_div(cols, splits), 4); }

/// IVF scan: blocks for (query, slice of its probes); each writes its top-k,
/// and with slices > 1 a merge pass combines them. Queries go q_chunk at a
/// time so the candidate buffer stays within budget.
struct IvfScanPlan {
  int64_t slices;
  int64_t q_chunk;
};

SEXTANT_HD IvfScanPlan plan_ivf_scan(int64_t nq, int64_t nprobe, int slots, int sm_count,
                                     int64_t candidate_bytes) {
  IvfScanPlan p;
  const int64_t blocks_wanted = int64_t(sm_count) * 8;
  p.slices = max64(1, min64(nprobe, ceil_div(blocks_wanted, max64(nq, 1))));
  const int64_t per_query = p.slices * 32 * int64_t(slots) * 8;
  p.q_chunk = max64(1, min64(max64(nq, 1), candidate_bytes / per_query));
  return p;
}

/// Probes [begin, end) of slice s.
SEXTANT_HD int64_t slice_begin(int64_t nprobe, int64_t slices, int64_t s) { return nprobe * s / slices; }

/// Precision of IVF-PQ look-up tables in shared memory.
enum class LutPrecision : int { fp32 = 0, fp16 = 1, too_large = 2 };

/// fp32 when the M x ksub table is small enough to leave room for several
/// blocks per multiprocessor, fp16 when only half the size fits.
SEXTANT_HD LutPrecision choose_lut_precision(int64_t M, int64_t ksub, int64_t smem_per_block) {
  constexpr int64_t kFp32Limit = 64 * 1024;
  const int64_t reserve = 8 * 1024;  // query slice, selection scratch
  if (M * ksub * 4 <= kFp32Limit && M * ksub * 4 + reserve <= smem_per_block) return LutPrecision::fp32;
  if (M * ksub * 2 + reserve <= smem_per_block) return LutPrecision::fp16;
  return LutPrecision::too_large;
}

}  // namespace sextant::gpu
