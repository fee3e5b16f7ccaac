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

/// Warps per block of the kernels that keep one queue per warp: big queues
/// take most of the registers, so fewer warps share a block.
SEXTANT_HD constexpr int queue_block_warps(int Q) { return Q >= 32 ? 2 : 4; }

/// Candidates each warp queue should see per pass at least: several times its
/// size (a queue reloaded or merged for about as many new candidates as it
/// holds does little but move itself), and 64 per lane.
SEXTANT_HD int64_t min_columns_per_queue(int slots) { return max64(32 * 64, 4 * 32 * int64_t(slots)); }

/// Standalone selection over rows: each row is cut into `splits` column
/// ranges, each scanned by one block of queue_block_warps(Q) warps (each warp
/// its own queue, the block's queues merged at the end); with splits > 1 a
/// second pass merges the splits' candidates.
struct RowSelectPlan {
  int64_t splits;   ///< blocks per row
  int64_t columns;  ///< columns per split (a multiple of 4: vector loads stay aligned)
};

/// Waves of blocks a row selection aims for: the last, partly filled wave
/// then idles the device for at most about an eighth of the time.
constexpr int64_t kSelectWaves = 8;

/// `resident_blocks`: blocks of the selection kernel the whole device runs at
/// once (multiprocessors x the kernel's occupancy). Enough splits for
/// kSelectWaves waves, as long as every warp keeps min_columns_per_queue columns.
SEXTANT_HD RowSelectPlan plan_row_select(int64_t rows, int64_t cols, int slots, int64_t resident_blocks) {
  RowSelectPlan p;
  const int64_t per_block = queue_block_warps(slots) * min_columns_per_queue(slots);
  const int64_t want = ceil_div(kSelectWaves * max64(resident_blocks, 1), max64(rows, 1));
  const int64_t most = max64(1, cols / per_block);
  p.splits = max64(1, min64(want, most));
  p.columns = round_up(ceil_div(max64(cols, 1), p.splits), 4);
  p.splits = max64(1, ceil_div(cols, p.columns));
  return p;
}

/// Exact search as GEMM tiles: queries q_tile at a time against db_tile
/// database vectors at a time; the q_tile x db_tile block of inner products is
/// the only distance storage (two in flight: one written, one selected). Each
/// query row of a tile is scanned by `splits` warps, each keeping its own
/// running top-k across database tiles.
struct FlatTilePlan {
  int64_t q_tile;
  int64_t db_tile;
  int64_t splits;
};

/// Tile budget of the exact search: two tiles in flight stay in half the L2
/// cache, so the selection reads what the GEMM just wrote from L2 (4 MiB at least).
SEXTANT_HD int64_t flat_tile_bytes(int64_t l2_bytes) { return max64(int64_t{4} << 20, l2_bytes / 4); }

/// The tiles cover as many database vectors as the budget allows for the
/// queries at hand (a few queries sweep the whole database in one or a few
/// tiles), but no narrower than a few queue sizes per warp; `resident_warps`
/// (warps of the tile selection the device runs at once) sets how many warps
/// share a row.
SEXTANT_HD FlatTilePlan plan_flat_tiles(int64_t nq, int64_t nb, int slots, int64_t resident_warps,
                                        int64_t tile_bytes) {
  FlatTilePlan p;
  nq = max64(nq, 1);
  nb = max64(nb, 1);
  const int64_t per_warp = min_columns_per_queue(slots);
  const int64_t elements = max64(1, tile_bytes / 4);
  const int64_t narrowest = min64(nb, max64(4096, per_warp));
  p.q_tile = max64(1, min64(nq, elements / narrowest));
  // Widest tile for these queries, in whole 128-column steps (aligned rows).
  const int64_t wide = max64(narrowest, elements / p.q_tile / 128 * 128);
  p.db_tile = min64(nb, wide);
  const int64_t want = ceil_div(max64(resident_warps, 1), p.q_tile);
  const int64_t most = max64(1, p.db_tile / per_warp);
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

/// How a kernel's shared memory is provided: `static_bytes` declared in the
/// kernel (cudaFuncGetAttributes tells), `dynamic_bytes` asked for at launch.
/// Past kDefaultSharedBytes in all, the kernel must opt in
/// (cudaFuncAttributeMaxDynamicSharedMemorySize = dynamic_bytes), up to the
/// device's opt-in limit.
constexpr int64_t kDefaultSharedBytes = 48 * 1024;

struct SharedMemoryPlan {
  bool fits;    ///< static + dynamic within the device's opt-in limit
  bool opt_in;  ///< the launch needs the dynamic-size attribute raised
};

SEXTANT_HD SharedMemoryPlan plan_shared_memory(int64_t static_bytes, int64_t dynamic_bytes, int64_t optin_limit) {
  const int64_t total = static_bytes + dynamic_bytes;
  return SharedMemoryPlan{total <= optin_limit, total > kDefaultSharedBytes};
}

}  // namespace sextant::gpu
